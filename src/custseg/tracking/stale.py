"""Runs whose process died without closing them: found and closed by the next command.

A run killed by SIGKILL, the OOM killer or a power cut cannot mark itself; MLflow would show
it RUNNING forever. Every run records which process owns it (host, pid and that process's
start time, so a recycled pid is not mistaken for the owner). Any later command that opens
the store sweeps the experiment: a RUNNING run owned by a process of this host that no longer
exists is marked KILLED, with the reason in its `failure_reason` tag. Runs of other hosts are
left alone (their processes cannot be seen from here). The Optuna study such a run belonged
to is untouched: its storage knows which trials finished, and the rerun resumes it.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterable

from mlflow.tracking import MlflowClient

log = logging.getLogger(__name__)

HOST, PID, STARTED = "custseg.host", "custseg.pid", "custseg.process_start"


def _process_start(pid: int) -> str | None:
    """The kernel's start time of process `pid` (clock ticks since boot), None if no such
    process. Field 22 of /proc/<pid>/stat, counted after the parenthesised command name."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            stat = fh.read()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def owner_tags() -> dict[str, str]:
    """Tags naming this process as the owner of a run it opens."""
    pid = os.getpid()
    return {HOST: socket.gethostname(), PID: str(pid), STARTED: _process_start(pid) or ""}


def _gone(tags: dict[str, str]) -> bool:
    """Whether the run's owner, on this host, has ended (or its pid now belongs to another)."""
    try:
        pid = int(tags[PID])
    except (KeyError, ValueError):
        return False
    if pid == os.getpid():
        return False
    started = _process_start(pid)
    return started is None or bool(tags.get(STARTED)) and started != tags[STARTED]


def sweep(client: MlflowClient, experiment_ids: Iterable[str]) -> list[str]:
    """Mark KILLED every RUNNING run of these experiments whose owning process on this host
    has ended; returns their ids."""
    ids = [str(e) for e in experiment_ids]
    if not ids:
        return []
    host = socket.gethostname().replace("'", "")
    runs = client.search_runs(
        ids, filter_string=f"attributes.status = 'RUNNING' and tags.`{HOST}` = '{host}'",
        max_results=1000,
    )  # fmt: skip
    swept = []
    for run in runs:
        tags = run.data.tags
        if not _gone(tags):
            continue
        reason = (f"process {tags[PID]} on {tags[HOST]} ended without closing this run "
                  f"(killed by a signal, out of memory or the machine stopped); marked KILLED "
                  f"by a later custseg command")  # fmt: skip
        client.set_tag(run.info.run_id, "failure_reason", reason)
        client.set_terminated(run.info.run_id, "KILLED")
        log.warning("Run %s was left RUNNING by a process that ended; marked KILLED",
                    run.info.run_id)  # fmt: skip
        swept.append(run.info.run_id)
    return swept
