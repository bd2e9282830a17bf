"""The reference run a segmentation aligns its numbers to (`segment.align_to`): its logged
segments table, handed to the segment code as plain data, so only tracking talks to MLflow."""

from __future__ import annotations

import tempfile
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from custseg.config.errors import ConfigError
from custseg.redact import redact

TABLE = "segments.parquet"  # what tracking.hooks logs after the fit: segment + raw features


def reference_segments(uri: str, run_id: str) -> pd.DataFrame:
    """The segments table run `run_id` logged in the store at `uri`: one row per customer
    (index customer_id), its `segment` and its raw features."""
    key = "segment.align_to"
    try:
        MlflowClient(uri).get_run(run_id)
    except MlflowException as exc:
        raise ConfigError(f"{key}={run_id}: no such run in {redact(uri)}", key) from exc
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=TABLE,
                                                       dst_path=tmp, tracking_uri=uri)  # fmt: skip
        except (MlflowException, OSError) as exc:
            raise ConfigError(
                f"{key}={run_id}: that run logged no {TABLE} (did its fit stage finish?)", key
            ) from exc
        table = pd.read_parquet(Path(path))
    table.index = table.index.astype("str")
    return table
