"""`custseg drift` end to end: a tracked run with the migration matrix and its heatmap, fitting
period A itself or scoring both periods with a model a run logged (`monitoring.model`)."""

from __future__ import annotations

import os
import subprocess
import sys

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from custseg.monitoring.drift import segmentation_only
from custseg.monitoring.job import run_drift
from custseg.tracking.pyfunc import load_model
from tests.conftest import make_config, run_logged

pytestmark = pytest.mark.slow  # the drift command and logged runs, end to end
SMALL = "data.generator.n_rows=20000"
# the logged model's segmentation differs from the drift config's (value_quantity, k=5), so
# which one drift used shows in its labels
LOGGED = (SMALL, "features=rfm", "segment.n_clusters=3", "rules=none", "recommend=none",
          "report=none")  # fmt: skip


def _drift(tmp_path, *overrides: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    return subprocess.run(
        [sys.executable, "-m", "custseg", "drift", *overrides,
         f"hydra.run.dir={tmp_path / 'out'}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def _runs(uri: str) -> list:
    client = MlflowClient(uri)
    return client.search_runs([client.get_experiment_by_name("custseg").experiment_id])


def _the_run(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    (r,) = _runs(uri)
    return MlflowClient(uri), r


def test_drift_on_online_retail_is_logged_with_its_matrix(tmp_path, online_retail_path):
    proc = _drift(tmp_path, "data=online_retail", "features=rfm", "monitoring.split=2011-07-01")
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
    proc = _drift(tmp_path, SMALL, "monitoring.split=2030-01-01")
    assert proc.returncode == 2
    assert "monitoring.split" in proc.stdout + proc.stderr
    _, r = _the_run(tmp_path)
    assert r.info.status == "FAILED" and "monitoring.split" in r.data.tags["failure_reason"]


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """A logged run's model and a drift run that names it in monitoring.model."""
    tmp = tmp_path_factory.mktemp("drift_model")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    run = run_logged(make_config(f"tracking.uri={uri}", *LOGGED), tmp / "run")
    assert run.model_uri
    config = make_config(f"tracking.uri={uri}", SMALL, f"monitoring.model={run.model_uri}")
    assert config.features.name == "value_quantity" and config.segment.n_clusters == 5
    result = run_drift(config, tmp / "drift")
    return {"uri": uri, "run": run, "config": config, "result": result}


def test_drift_with_a_logged_model_uses_its_segmentation(logged):
    run, result = logged["run"], logged["result"]
    mlflow.set_tracking_uri(logged["uri"])
    model = load_model(run.model_uri)
    assert model.features_.NAME == "rfm" and model.algorithm_.n_clusters == 3
    tx = run.transactions  # the same demo data: same generator settings and seed
    b = tx[pd.to_datetime(tx["invoice_date"]) >= result.split]
    a = tx[pd.to_datetime(tx["invoice_date"]) < result.split]
    # period B labelled by the logged model, exactly as it segments B itself
    pd.testing.assert_series_equal(result.labels_b_by_a, model.segment(b, clean=False))
    pd.testing.assert_series_equal(result.labels_b_by_a, run.model.segment(b, clean=False))
    # period A labelled by it too (not refitted): the migration rows are its labels on A
    rows = model.segment(a, clean=False).value_counts(normalize=True).sort_index()
    pd.testing.assert_series_equal(result.sizes["share_a"], rows, check_names=False,
                                   check_index_type=False)  # fmt: skip
    assert result.customers_a == a["customer_id"].nunique()
    # the refit on B is the model's segmentation (rfm, k=3), not the config's (value_quantity, 5)
    assert set(result.labels_b_by_b) <= {0, 1, 2} and result.labels_b_by_b.nunique() == 3
    refit_config = segmentation_only(logged["config"], model)
    assert refit_config.features.name == "rfm" and refit_config.segment.n_clusters == 3
    assert list(result.migration.index) == [0, 1, 2]


def test_drift_with_a_logged_model_is_logged_with_its_uri(logged):
    (drift_run,) = [r for r in _runs(logged["uri"]) if r.data.tags.get("kind") == "drift"]
    assert drift_run.info.status == "FINISHED"
    assert drift_run.data.params["monitoring.model"] == logged["run"].model_uri
    m = drift_run.data.metrics
    assert m["drift.customers_b"] == logged["result"].customers_b


def test_drift_run_with_a_logged_model_is_named_after_the_model(logged):
    (drift_run,) = [r for r in _runs(logged["uri"]) if r.data.tags.get("kind") == "drift"]
    assert drift_run.info.run_name == "drift/demo/rfm/kmeans-k3"
    assert drift_run.data.tags["features"] == "rfm"
