"""Runs own their outputs and their MLflow state, through the real command line: a folder that
holds an earlier run is refused and left byte for byte as it was, a folder that cannot be
written is named, a file that cannot be written fails the run with exit 2, and a run whose
process was killed is closed by the next command while its study resumes."""

from __future__ import annotations

import hashlib
import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import clean_env

SMALL = ["data.generator.n_rows=3000", "report=none", "recommend=none"]


def _cli(args: list[str], cwd: Path, **popen) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "custseg", *args]
    return subprocess.run(command, cwd=cwd, env=clean_env(), capture_output=True, text=True,
                          timeout=600, check=False, **popen)  # fmt: skip


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


def _runs(uri: str) -> list:
    client = MlflowClient(uri)
    return [r for e in client.search_experiments() for r in client.search_runs([e.experiment_id])]


@pytest.mark.slow
def test_a_folder_holding_an_earlier_run_is_refused_and_left_as_it_was(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    out = tmp_path / "out"
    first = _cli([*SMALL, f"tracking.uri={uri}", f"hydra.run.dir={out}"], tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    files, runs = _digest(out), _runs(uri)
    assert any(name.startswith("artifacts/") for name in files)
    for extra in ([], ["data=csv", f"data.path={tmp_path / 'missing.csv'}"]):  # good and bad
        again = _cli([*SMALL, *extra, f"tracking.uri={uri}", f"hydra.run.dir={out}"], tmp_path)
        assert again.returncode == 2, again.stderr[-2000:]
        assert "Traceback" not in again.stdout + again.stderr
        assert f"custseg: error: hydra.run.dir={out} already holds an earlier run's outputs" in (
            again.stderr
        )
        assert _digest(out) == files  # not one byte of the earlier run changed
        assert [r.info.run_id for r in _runs(uri)] == [r.info.run_id for r in runs]  # no new run


@pytest.mark.slow
def test_a_sweep_folder_holding_earlier_jobs_is_refused(tmp_path):
    sweep = tmp_path / "sweep"
    (sweep / "0" / ".hydra").mkdir(parents=True)
    (sweep / "0" / ".hydra" / "config.yaml").write_text("earlier: job\n")
    proc = _cli(["-m", *SMALL, "seed=1,2", f"hydra.sweep.dir={sweep}",
                 f"tracking.uri=sqlite:///{tmp_path / 'mlflow.db'}"], tmp_path)  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert f"hydra.sweep.dir={sweep} already holds an earlier run's outputs" in proc.stderr
    assert (sweep / "0" / ".hydra" / "config.yaml").read_text() == "earlier: job\n"
    assert not (sweep / "1").exists()


@pytest.mark.parametrize("where", ["under_a_file", "read_only_mount"])
def test_an_output_folder_that_cannot_be_written_exits_2_naming_it(tmp_path, where):
    if where == "under_a_file":
        (tmp_path / "report.txt").write_text("not a folder")
        target, named = tmp_path / "report.txt" / "out", "Not a directory"
    else:
        target, named = Path("/sys/custseg-test/out"), "/sys"
        if os.access("/sys", os.W_OK) and not Path("/sys/kernel").is_dir():
            pytest.skip("no sysfs here")
    proc = _cli([*SMALL, f"hydra.run.dir={target}",
                 f"tracking.uri=sqlite:///{tmp_path / 'mlflow.db'}"], tmp_path)  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stderr.startswith("custseg: error: ") and named in proc.stderr
    assert "write elsewhere (hydra.run.dir=...)" in proc.stderr or "check the path" in proc.stderr
    assert not (tmp_path / "mlflow.db").exists()  # refused before any run was opened


def _limit_file_size(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.slow
def test_a_file_that_cannot_be_written_fails_the_run_with_exit_2(tmp_path):
    """A file-size limit (what a full disk does to the next write) a little above the store's
    size: exit 2 naming what could not be written, the run FAILED with the reason, the store
    sound and the earlier run untouched."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    good = _cli([*SMALL, f"tracking.uri={uri}", f"hydra.run.dir={tmp_path / 'good'}"], tmp_path)
    assert good.returncode == 0, good.stderr[-2000:]
    (before,) = _runs(uri)
    store = (tmp_path / "mlflow.db").stat().st_size
    proc = _cli(["data.generator.n_rows=20000", "report=none", f"tracking.uri={uri}",
                 f"hydra.run.dir={tmp_path / 'full'}"], tmp_path,
                preexec_fn=_limit_file_size(store + 150_000))  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output[-3000:]
    assert "Traceback" not in output
    assert "custseg: error: " in proc.stderr
    said = [m for m in ("File too large", "the store could not be written") if m in proc.stderr]
    assert said, proc.stderr[-2000:]  # whichever write hit the limit first is named
    runs = {r.info.run_id: r for r in _runs(uri)}
    (failed,) = [r for rid, r in runs.items() if rid != before.info.run_id]
    assert failed.info.status == "FAILED"
    assert failed.data.tags["failure_reason"]
    kept = runs[before.info.run_id]
    assert kept.info.status == "FINISHED" and kept.data.metrics == before.data.metrics
    import sqlite3

    with sqlite3.connect(tmp_path / "mlflow.db") as db:
        assert db.execute("pragma integrity_check").fetchone() == ("ok",)


def _wait_for(predicate, proc: subprocess.Popen, log: Path | None = None,
              seconds: float = 240) -> None:  # fmt: skip
    deadline = time.time() + seconds
    while not predicate():
        said = log.read_text()[-3000:] if log is not None and proc.poll() is not None else ""
        assert proc.poll() is None, f"the run ended before it could be interrupted: {said}"
        assert time.time() < deadline, "the run never reached the point to interrupt"
        time.sleep(0.2)


TUNED = ["data.generator.n_rows=20000", "report=none", "recommend=none", "tuning=optuna",
         "tuning.n_trials=40", "segment=gmm"]  # fmt: skip


@pytest.mark.slow
def test_a_killed_run_is_marked_killed_by_the_next_command_and_its_study_resumes(tmp_path):
    db = tmp_path / "mlflow.db"
    uri = f"sqlite:///{db}"
    args = [*TUNED, f"tuning.storage=sqlite:///{tmp_path / 'optuna.db'}", f"tracking.uri={uri}"]
    log = (tmp_path / "first.log").open("w")
    first = subprocess.Popen([sys.executable, "-m", "custseg", *args,
                              f"hydra.run.dir={tmp_path / 'first'}"], cwd=tmp_path,
                             env=clean_env(), stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    # watch the run's log, not the store: a reader creating a half-made store races the run
    _wait_for(lambda: "trial 3/" in (tmp_path / "first.log").read_text(), first,
              tmp_path / "first.log")  # fmt: skip
    first.send_signal(signal.SIGKILL)
    first.wait()
    (killed,) = [r for r in _runs(uri) if r.info.status == "RUNNING"
                 and "mlflow.parentRunId" not in r.data.tags]  # and maybe a half-logged trial
    trials_before = len([r for r in _runs(uri) if "mlflow.parentRunId" in r.data.tags])

    again = _cli([*args, f"hydra.run.dir={tmp_path / 'again'}"], tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    runs = {r.info.run_id: r for r in _runs(uri)}
    old = runs[killed.info.run_id]
    assert old.info.status == "KILLED"
    assert "ended without closing this run" in old.data.tags["failure_reason"]
    assert not [r for r in runs.values() if r.info.status == "RUNNING"]
    finished = [r for r in runs.values() if r.info.status == "FINISHED"
                and "mlflow.parentRunId" not in r.data.tags]  # fmt: skip
    assert len(finished) == 1
    done = re.search(r"(\d+) of \d+ trials complete", again.stdout + again.stderr)
    assert done and int(done.group(1)) >= 1 and trials_before >= 1  # resumed, not started over


@pytest.mark.slow
def test_sigterm_closes_the_run_as_failed_with_the_signal_named(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    log_path = tmp_path / "run.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "custseg", *TUNED, f"tracking.uri={uri}",
                                 f"hydra.run.dir={tmp_path / 'out'}"], cwd=tmp_path,
                                env=clean_env(), stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
        _wait_for(lambda: "trial 2/" in log_path.read_text(), proc, log_path)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
    said = log_path.read_text()
    assert proc.returncode == 128 + signal.SIGTERM, said[-2000:]
    assert "Traceback" not in said
    assert "stopped by signal SIGTERM" in said
    (parent,) = [r for r in _runs(uri) if "mlflow.parentRunId" not in r.data.tags]
    assert parent.info.status == "FAILED"
    assert "SIGTERM" in parent.data.tags["failure_reason"]
