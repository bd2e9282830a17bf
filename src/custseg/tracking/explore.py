"""What the dashboard reads from an MLflow store: its custseg runs, and each run's numbers,
tables and figures.

Tables are the Parquet copies a run logs; each is fetched from the artifact store once into a
local cache folder and then read column by column (pyarrow), so a page that needs two columns of
a million-row table reads two columns. Every failure a reader can cause (no store there, a run
id that does not exist, a table the run did not log) is an `ExploreError` whose message says
what is missing and what to do; the dashboard shows it in the page. Only `tracking/` talks to
MLflow, so the dashboard asks here.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import mlflow
import pandas as pd
import pyarrow.parquet as pq
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from custseg.redact import redact

RUN_COLUMNS = ["run_id", "run_name", "experiment", "status", "start", "data", "features",
               "algorithm", "n_segments", "silhouette"]  # fmt: skip
RUN_FIX = "pick a run from the list, or run `python -m custseg` to log one"


class ExploreError(ValueError):
    """Something the dashboard was asked for is not in the store; the message says what."""


class NoStore(ExploreError):
    """The tracking URI names no store: a SQLite file that is not there."""


class BadStore(ExploreError):
    """The tracking URI is not one MLflow can open (a typo, a plain file path)."""


@dataclass(frozen=True)
class RunInfo:
    """One run's identity and numbers (tags `data`, `features`, `algorithm` set by custseg)."""

    run_id: str
    run_name: str
    experiment: str
    status: str
    start: pd.Timestamp
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return run_label(self.run_name, self.start, self.run_id)


def run_label(name: str, start: pd.Timestamp, run_id: str) -> str:
    """How a picker names a run: name, day and time, short id."""
    return f"{name} · {start:%Y-%m-%d %H:%M} · {run_id[:8]}"


def _sqlite_file(uri: str) -> Path | None:
    if urlsplit(uri).scheme != "sqlite":
        return None
    path = uri[len("sqlite:///") :].split("?")[0]
    return None if path in ("", ":memory:") else Path(path)


def client(uri: str) -> MlflowClient:
    """A client of the store at `uri`; an ExploreError when a SQLite store is not there (it is
    never created: an empty store would only hide the mistake)."""
    db = _sqlite_file(uri)
    if db is not None and not db.is_file():
        raise NoStore(f"no MLflow store at {redact(uri)} (the file {db} does not exist). "
                      "Run `python -m custseg` here first, or start the dashboard with "
                      "--tracking-uri pointing at the store your runs went to")  # fmt: skip
    try:
        made = MlflowClient(uri)
        made.search_experiments(max_results=1)  # MLflow opens a store on first use
    except Exception as exc:  # MLflow's URI parsing, store errors: one line naming the URI
        why = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise BadStore(f"--tracking-uri {redact(uri)}: MLflow cannot open it ({why}). Fix: "
                       "sqlite:///PATH/mlflow.db for a local store, or http://HOST:PORT for a "
                       "tracking server") from None  # fmt: skip
    return made


def _info(c: MlflowClient, run: Any, experiments: dict[str, str]) -> RunInfo:
    return RunInfo(
        run_id=run.info.run_id, run_name=run.info.run_name or run.info.run_id,
        experiment=experiments.get(run.info.experiment_id, run.info.experiment_id),
        status=run.info.status, start=pd.Timestamp(run.info.start_time, unit="ms"),
        params=dict(run.data.params), metrics=dict(run.data.metrics), tags=dict(run.data.tags),
    )  # fmt: skip


def runs(uri: str) -> pd.DataFrame:
    """Every finished segmentation run of every experiment, newest first (Optuna trials, the
    runs of `custseg score` and `custseg drift` and failed runs left out): RUN_COLUMNS."""
    c = client(uri)
    try:
        experiments = {e.experiment_id: e.name for e in c.search_experiments()}
        found = c.search_runs(list(experiments), "attributes.status = 'FINISHED'",
                              max_results=5000, order_by=["attributes.start_time DESC"])
    except MlflowException as exc:
        raise ExploreError(f"cannot read the MLflow store at {redact(uri)}: "
                           f"{str(exc).splitlines()[0][:200]}") from None  # fmt: skip
    rows = []
    for run in found:
        tags = run.data.tags
        if "mlflow.parentRunId" in tags or "algorithm" not in tags or "kind" in tags:
            continue  # trials, runs of other tools, `custseg drift` runs (tag kind=drift)
        i = _info(c, run, experiments)
        rows.append({"run_id": i.run_id, "run_name": i.run_name, "experiment": i.experiment,
                     "status": i.status, "start": i.start, "data": tags.get("data", ""),
                     "features": tags.get("features", ""), "algorithm": tags.get("algorithm", ""),
                     "n_segments": i.metrics.get("n_segments"),
                     "silhouette": i.metrics.get("silhouette")})  # fmt: skip
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def run_info(uri: str, run_id: str) -> RunInfo:
    """The run, or an ExploreError naming the id when the store has no such run."""
    c = client(uri)
    try:
        run = c.get_run(run_id)
        name = c.get_experiment(run.info.experiment_id).name
    except MlflowException:
        raise ExploreError(f"no run {run_id!r} in the store at {redact(uri)}: {RUN_FIX}") from None
    return _info(c, run, {run.info.experiment_id: name})


def artifacts(uri: str, run_id: str) -> set[str]:
    """Names of the run's top-level artifacts (tables as <name>.parquet, figures as .png)."""
    try:
        return {a.path for a in client(uri).list_artifacts(run_id)}
    except MlflowException:
        raise ExploreError(f"no run {run_id!r} in the store at {redact(uri)}: {RUN_FIX}") from None


def cache_dir(uri: str, run_id: str) -> Path:
    """Where this run's fetched artifacts stay: one folder per user (readable by them only),
    store and run."""
    store = hashlib.sha256(uri.encode()).hexdigest()[:12]
    mine = Path(tempfile.gettempdir()) / f"custseg-dashboard-{os.getuid()}"
    mine.mkdir(mode=0o700, exist_ok=True)
    return mine / store / run_id


def fetch(uri: str, run_id: str, path: str) -> Path:
    """The local copy of one artifact, fetched once; an ExploreError when the run lacks it.
    It is fetched into a fresh folder and moved into place whole, so a fetch that was cut
    short is never read as the artifact."""
    local = cache_dir(uri, run_id) / path
    if local.exists():
        return local
    local.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=local.parent, prefix=".fetch-") as tmp:
        try:
            got = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path,
                                                      tracking_uri=uri, dst_path=tmp)  # fmt: skip
        except (MlflowException, OSError):
            raise ExploreError(f"run {run_id[:8]} has no {path} (it was logged without that "
                               "part, or by an older custseg)") from None  # fmt: skip
        os.replace(got, local)
    return local


def table(
    uri: str, run_id: str, name: str, columns: list[str] | None = None,
    where: tuple[str, str] | None = None,
) -> pd.DataFrame:  # fmt: skip
    """A logged table (its Parquet copy): only `columns` when given (the index comes too), only
    the rows whose column `where[0]` equals `where[1]` when given. Tables are written in
    customer order, so one customer's rows sit in one row group and the others are skipped."""
    path = fetch(uri, run_id, f"{name}.parquet")
    meta = pq.read_schema(path).pandas_metadata or {}
    index = [c for c in meta.get("index_columns", []) if isinstance(c, str)]
    wanted = None if columns is None else [*index, *[c for c in columns if c not in index]]
    filters = None if where is None else [(where[0], "==", where[1])]
    return pq.read_table(path, columns=wanted, filters=filters).to_pandas()
