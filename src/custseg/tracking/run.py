"""One MLflow parent run per pipeline run; a failure marks the run FAILED with its reason.

The only module (with its siblings in tracking/) that talks to MLflow: the pipeline hands its
results to `tracking.hooks`, which write them through the `Tracker` here.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from custseg.atomic import atomic_path, sqlite_init_lock
from custseg.config.schema import Tracking
from custseg.redact import redact
from custseg.tracking.connect import connect, view_line
from custseg.tracking.stale import owner_tags, sweep

log = logging.getLogger(__name__)
MAX_PARAM_LEN = 6000  # MLflow's limit on a param value
CSV_MAX_ROWS = 1_048_575  # a spreadsheet opens at most 1,048,576 rows (one is the header)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # cells a spreadsheet would run as a formula
_NUMBER = r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?"  # "-1" and "2.5e3" are numbers, not code


def _safe_values(values: pd.Series) -> pd.Series:
    """Text that a spreadsheet would run as a formula, with a leading quote."""
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return values
    text = values.astype("str")
    number = text.str.fullmatch(_NUMBER, na=False)
    risky = values.notna() & text.str.startswith(_FORMULA) & ~number
    return values.astype("object").where(~risky, "'" + text) if risky.any() else values


def _safe_label(label: Any) -> Any:
    if isinstance(label, str) and label.startswith(_FORMULA) and not re.fullmatch(_NUMBER, label):
        return "'" + label
    return label


def _safe_index(index: pd.Index) -> pd.Index:
    """An index or the column headers, every level and the level names."""
    if isinstance(index, pd.MultiIndex):
        levels = [_safe_index(level) for level in index.levels]
        index = index.set_levels(levels, verify_integrity=False)
        return index.set_names([_safe_label(n) for n in index.names])
    values = pd.Series(index, copy=False)
    safe = _safe_values(values)
    name = _safe_label(index.name)
    return index.rename(name) if safe is values else pd.Index(safe, name=name)


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """The frame with every cell, index entry and header (each level, each level's name) that a
    spreadsheet would run as a formula given a leading quote (CSV only; the Parquet copy keeps
    the exact values). Segment labels like "-1" and numbers stay as they are."""
    out = df.copy()
    headers = out.columns
    out.columns = pd.RangeIndex(len(headers))  # by position: headers may repeat
    for i in range(len(headers)):
        out[i] = _safe_values(out[i])
    out.columns = _safe_index(headers)
    out.index = _safe_index(out.index)
    return out


def flatten(cfg: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested config -> {'data.name': 'demo', ...}; lists become their JSON text."""
    out: dict[str, str] = {}
    for key, value in cfg.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out |= flatten(value, f"{name}.")
        else:
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            out[name] = redact(text)[:MAX_PARAM_LEN]
    return out


class Tracker:
    """Thin handle on the active run, so the pipeline never imports mlflow itself."""

    def __init__(self, run: mlflow.ActiveRun, artifact_dir: Path) -> None:
        self.run = run
        self.run_id = run.info.run_id
        self.artifact_dir = artifact_dir
        self._client = MlflowClient()
        # who and what started the parent: nested runs show the same source in the UI
        self._source_tags = {k: v for k, v in run.data.tags.items()
                             if k.startswith(("mlflow.source.", "mlflow.user"))}  # fmt: skip

    def params(self, params: Mapping[str, Any]) -> None:
        items = list(flatten(params).items())
        for i in range(0, len(items), 100):  # MLflow's batch limit
            mlflow.log_params(dict(items[i : i + 100]))

    def metrics(self, metrics: Mapping[str, float]) -> None:
        mlflow.log_metrics({k: float(v) for k, v in metrics.items()})

    def tags(self, tags: Mapping[str, Any]) -> None:
        mlflow.set_tags({k: redact(str(v)) for k, v in tags.items()})

    def _keep(self, path: Path) -> None:
        mlflow.log_artifact(str(path))

    def file(self, path: Path) -> None:
        """Log a file the caller wrote (a plot, say) as an artifact of the parent run."""
        self._keep(path)

    def folder(self, path: Path, name: str) -> None:
        """Log a whole folder (a report with its figures) under artifact path `name`."""
        mlflow.log_artifacts(str(path), artifact_path=name)

    def child(
        self, run_name: str, params: Mapping[str, Any], metrics: Mapping[str, float],
        tags: Mapping[str, Any] | None = None,
    ) -> str:  # fmt: skip
        """Log one finished nested run (an Optuna trial) under the parent; return its id.

        Through the client, not the fluent API: trials may finish on several threads at once
        (MLflow's active run is per thread), and a create + one batch + end is three writes.
        """
        tags = {**self._source_tags, **owner_tags(), MLFLOW_PARENT_RUN_ID: self.run_id,
                **{k: redact(str(v)) for k, v in (tags or {}).items()}}  # fmt: skip
        run = self._client.create_run(self.run.info.experiment_id, run_name=run_name, tags=tags)
        now = int(time.time() * 1000)
        self._client.log_batch(
            run.info.run_id,
            metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()],
            params=[Param(k, redact(str(v))) for k, v in params.items()],
        )
        self._client.set_terminated(run.info.run_id, "FINISHED")
        return run.info.run_id

    def table(self, df: pd.DataFrame, name: str) -> Path:
        """Write `name`.parquet (exact dtypes) and `name`.csv (for people) and log both.

        Tables longer than a spreadsheet can open get no CSV copy: nobody reads ten million
        recommendation rows in Excel, and writing them as text costs more than the job itself.
        """
        pq = self.artifact_dir / f"{name}.parquet"
        with atomic_path(pq) as tmp:
            df.to_parquet(tmp)
        self._keep(pq)
        if len(df) > CSV_MAX_ROWS:
            log.info("%s: %s rows, Parquet only (CSV copies stop at %s rows)", name,
                     f"{len(df):,}", f"{CSV_MAX_ROWS:,}")  # fmt: skip
            return pq
        csv = self.artifact_dir / f"{name}.csv"
        with atomic_path(csv) as tmp:
            csv_safe(df).to_csv(tmp)
        self._keep(csv)
        return pq

    def text(self, text: str, name: str) -> Path:
        path = self.artifact_dir / name
        with atomic_path(path) as tmp:
            tmp.write_text(redact(text))
        self._keep(path)
        return path

    def json(self, obj: Any, name: str) -> Path:
        return self.text(json.dumps(obj, indent=2, default=str), name)


def _end(run: mlflow.ActiveRun, reason: str) -> None:
    """Mark the run FAILED with `reason`; a store that has gone away cannot hide the error
    that ended the run."""
    try:
        mlflow.set_tag("failure_reason", reason[:5000])
        mlflow.end_run(status="FAILED")
    except Exception as exc:
        log.warning("Could not mark run %s FAILED: %s", run.info.run_id, exc)


@contextmanager
def tracked_run(
    tracking: Tracking, run_name: str, artifact_dir: Path | None = None
) -> Iterator[Tracker]:
    """Open the parent run; on any exception mark it FAILED with the reason and re-raise.

    First `connect`: secrets masked from here on, and a tracking server that does not answer
    within tracking.timeout stops the job (ConfigError, exit 2) before any run exists.
    Under `mlflow run` the project launcher has already created a run (MLFLOW_RUN_ID); we log
    into that one instead of opening a second.
    """
    uri = tracking.uri
    connect(tracking)
    experiment_id = None
    with sqlite_init_lock(uri):  # parallel workers on a fresh SQLite store: one creates the schema
        mlflow.set_tracking_uri(uri)
        if not os.environ.get("MLFLOW_RUN_ID"):
            experiment_id = mlflow.set_experiment(tracking.experiment).experiment_id
            sweep(MlflowClient(), [experiment_id])  # runs whose process died: KILLED
    own_dir = artifact_dir is None  # no local copy wanted: a temp folder, removed at the end
    tmp = Path(tempfile.mkdtemp(prefix="custseg-")) if own_dir else artifact_dir
    # an explicit experiment id: a worker that lost the race to create it still logs there
    run_name = redact(run_name)
    run = mlflow.start_run(run_name=run_name, experiment_id=experiment_id)
    mlflow.set_tags({"mlflow.runName": run_name, **owner_tags()})
    log.info("MLflow run %s (%s) in %s", run.info.run_id, run_name, redact(uri))
    try:
        yield Tracker(run, tmp)
    except BaseException as exc:
        reason = redact(f"{type(exc).__name__}: {exc}")
        _end(run, reason)
        log.error("Run %s FAILED: %s", run.info.run_id, reason)
        raise
    else:
        mlflow.end_run(status="FINISHED")
    finally:
        view_line(uri, run)
        if own_dir:
            shutil.rmtree(tmp, ignore_errors=True)
