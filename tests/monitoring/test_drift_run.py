"""`custseg drift` end to end: a tracked run with the migration matrix and its heatmap."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient


def _drift(tmp_path, *overrides: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    return subprocess.run(
        [sys.executable, "-m", "custseg", "drift", *overrides,
         f"hydra.run.dir={tmp_path / 'out'}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def _the_run(tmp_path):
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    (r,) = client.search_runs([client.get_experiment_by_name("custseg").experiment_id])
    return client, r


@pytest.mark.slow
def test_drift_on_online_retail_is_logged_with_its_matrix(tmp_path, online_retail_path):
    proc = _drift(tmp_path, "data=online_retail", "features=rfm", "drift.split=2011-07-01")
    assert proc.returncode == 0, proc.stderr[-3000:]
    client, r = _the_run(tmp_path)
    assert r.info.status == "FINISHED" and r.data.tags["kind"] == "drift"
    assert r.info.run_name == "drift/online_retail/rfm/kmeans-k5"
    assert r.data.params["drift.split_date"] == "2011-07-01"
    m = r.data.metrics
    assert 0 < m["drift.ari_refit"] < 1 and 0 <= m["drift.moved_share"] <= 1
    names = {a.path for a in client.list_artifacts(r.info.run_id)}
    assert {"migration.png", "migration.csv", "size_shift.csv"} <= names
    local = client.download_artifacts(r.info.run_id, "migration.csv", str(tmp_path))
    matrix = pd.read_csv(local, index_col=0)
    assert matrix.to_numpy().sum() == m["drift.customers_both"]


def test_drift_with_a_split_outside_the_data_fails_with_the_key(tmp_path):
    proc = _drift(tmp_path, "data.generator.n_rows=20000", "drift.split=2030-01-01")
    assert proc.returncode == 2
    assert "drift.split" in proc.stdout + proc.stderr
    _, r = _the_run(tmp_path)
    assert r.info.status == "FAILED" and "drift.split" in r.data.tags["failure_reason"]
