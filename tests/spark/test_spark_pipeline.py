"""engine=spark as a pipeline option: the same job as engine=local, logged the same way.

One Spark run and one local run of the whole pipeline on the same demo data, compared on what
MLflow holds (status, tags, metric keys, artifact files), on the segments, on every rule table,
and on the logged model, which must score customers as Spark did without importing pyspark.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cloudpickle
import mlflow
import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf
from sklearn.metrics import adjusted_rand_score

from custseg.clustering import tuning
from custseg.features import FeatureError
from custseg.pipeline import PipelineResult, run
from custseg.rules.baskets import make_baskets
from custseg.rules.mining import MiningTooLarge, mine
from tests.conftest import make_cfg
from tests.spark.conftest import require_pyspark
from tests.spark.test_spark import demo

require_pyspark()

from pyspark.sql import SparkSession  # noqa: E402

from custseg.spark import stages  # noqa: E402

pytestmark = pytest.mark.slow

DATA = ("data.generator.n_rows=30000", "features=basket")
TIMING = ("spark.seconds.", "rules.seconds.")  # engine-specific timings, compared by prefix
RULE_COLS = ["antecedent", "consequent", "support", "confidence", "lift"]


@dataclass
class Runs:
    uri: str
    local: PipelineResult
    spark: PipelineResult
    seconds: dict[str, float]  # wall seconds of each whole pipeline run
    tx: pd.DataFrame  # the cleaned table both runs worked on


@pytest.fixture(scope="module")
def runs(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    tmp = tmp_path_factory.mktemp("engines")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    results, seconds = {}, {}
    for engine in ("spark", "local"):
        t0 = time.perf_counter()
        cfg = make_cfg(f"engine={engine}", *DATA, f"tracking.uri={uri}")
        results[engine] = run(cfg, tmp / engine)
        seconds[engine] = time.perf_counter() - t0
    print(f"\nwhole demo run: spark {seconds['spark']:.1f} s, local {seconds['local']:.1f} s")
    return Runs(uri, results["local"], results["spark"], seconds, results["local"].transactions)


def _artifacts(client: MlflowClient, run_id: str, path: str | None = None) -> set[str]:
    out: set[str] = set()
    for item in client.list_artifacts(run_id, path):
        out |= _artifacts(client, run_id, item.path) if item.is_dir else {item.path}
    return out


def _by_prefix(keys: set[str]) -> tuple[set[str], dict[str, set[str]]]:
    timing = {p: {k[len(p) :] for k in keys if k.startswith(p)} for p in TIMING}
    return {k for k in keys if not k.startswith(TIMING)}, timing


def test_spark_run_logs_what_a_local_run_logs(runs: Runs) -> None:
    client = MlflowClient(runs.uri)
    s, loc = client.get_run(runs.spark.run_id), client.get_run(runs.local.run_id)
    assert s.info.status == "FINISHED" and loc.info.status == "FINISHED"
    assert s.data.tags["engine"] == "spark" and loc.data.tags["engine"] == "local"
    assert s.data.params["engine.master"] == "local[2]"
    assert s.info.run_name == loc.info.run_name == "demo/basket/kmeans-k5"

    spark_keys, spark_timing = _by_prefix(set(s.data.metrics))
    local_keys, local_timing = _by_prefix(set(loc.data.metrics))
    assert spark_keys == local_keys
    assert spark_timing["spark.seconds."] == {"session", "load", "features", "clustering"}
    assert local_timing["spark.seconds."] == set()
    assert spark_timing["rules.seconds."] == local_timing["rules.seconds."] == {
        "all", "0", "1", "2", "3", "4"
    }  # fmt: skip
    for key in ("silhouette", "davies_bouldin", "n_segments", "inertia", "truth_ari"):
        assert key in spark_keys, key
    # what does not depend on the clustering is equal
    for key in spark_keys:
        if key.startswith(("clean.", "rules.baskets", "rules.dropped", "rules.count.all")):
            assert s.data.metrics[key] == loc.data.metrics[key], key
    n_customers = runs.tx["customer_id"].nunique()
    assert s.data.metrics["n_customers"] == loc.data.metrics["n_customers"] == n_customers

    spark_files = _artifacts(client, runs.spark.run_id)
    assert spark_files == _artifacts(client, runs.local.run_id)
    for name in (
        "segments.parquet",
        "rules_all.parquet",
        "rules_segment_4.parquet",
        "profile_summary.parquet",
        "recommendations.parquet",
        "report/report.html",
    ):
        assert name in spark_files, name  # fmt: skip


def test_spark_segments_match_local_and_the_planted_truth(runs: Runs) -> None:
    sp, lo = runs.spark, runs.local
    # same features, same customers, same order: the segments tables line up row by row
    pd.testing.assert_frame_equal(sp.features, lo.features, rtol=1e-9)
    assert sp.segments.index.equals(lo.segments.index)
    ari_local = adjusted_rand_score(lo.segments["segment"], sp.segments["segment"])
    truth = sp.source.truth.customers.set_index("customer_id")["segment"]
    ari_truth = adjusted_rand_score(truth.loc[sp.segments.index], sp.segments["segment"])
    print(f"\nARI spark vs local {ari_local:.4f}, vs planted truth {ari_truth:.4f}")
    assert ari_local >= 0.9 and ari_truth >= 0.9
    assert sp.metrics["truth_ari"] == pytest.approx(ari_truth)
    # the quality metrics are the local code's on Spark's scaled features (n - 1 std: same
    # silhouette and DBI for the same partition)
    assert sp.metrics["silhouette"] == pytest.approx(lo.metrics["silhouette"], abs=0.02)
    assert sp.metrics["davies_bouldin"] == pytest.approx(lo.metrics["davies_bouldin"], abs=0.05)
    assert sp.params["n_init"] == 10 and sp.params["spark_init"] == "k-means||"


def _scope(rules: pd.DataFrame, scope: str) -> pd.DataFrame:
    return rules[rules["segment"] == scope].drop(columns="segment").reset_index(drop=True)


def test_spark_rules_equal_local_rules(runs: Runs) -> None:
    sp, lo = runs.spark, runs.local
    assert sp.rules is not None and lo.rules is not None
    spark_all, local_all = _scope(sp.rules, "all"), _scope(lo.rules, "all")
    assert len(spark_all) > 50
    assert spark_all[["antecedent", "consequent"]].equals(local_all[["antecedent", "consequent"]])
    np.testing.assert_allclose(
        spark_all[RULE_COLS[2:]], local_all[RULE_COLS[2:]], rtol=0, atol=1e-9
    )
    pd.testing.assert_frame_equal(spark_all, local_all)

    # a segment with the same customers in both runs must have the same rules
    seg_s, seg_l = sp.segments["segment"], lo.segments["segment"]
    same = 0
    for label in sorted(seg_s.unique()):
        members = seg_s.index[seg_s == label]
        local_label = seg_l.loc[members].mode().iloc[0]
        if set(members) == set(seg_l.index[seg_l == local_label]):
            same += 1
            pd.testing.assert_frame_equal(
                _scope(sp.rules, str(label)), _scope(lo.rules, str(local_label))
            )
    assert same >= 2, "too few segments agree between the engines to compare their rules"


def test_spark_mining_scopes_as_local_mine(runs: Runs, spark: SparkSession) -> None:
    """Per-scope support, min_baskets, unassigned (-1) and customers without a segment."""
    seg = runs.spark.segments["segment"].copy()
    seg.iloc[:3] = 9  # a handful of customers: fewer baskets than rules.min_baskets
    seg.iloc[3:60] = -1  # unassigned is a scope of its own
    seg = seg.iloc[:-40]  # customers without a segment count only in 'all'
    resolved = OmegaConf.to_container(make_cfg("engine=spark", *DATA), resolve=True)
    rules_cfg = resolved["rules"]
    got, seconds = stages.mine(runs.tx, seg, resolved)
    b = make_baskets(runs.tx, rules_cfg["basket"], rules_cfg["item"], rules_cfg["min_item_count"])
    want, local_seconds = mine(b, seg, rules_cfg)
    assert set(seconds) == set(local_seconds) and "9" not in seconds and "-1" in seconds
    pd.testing.assert_frame_equal(got, want)
    assert (got["segment"] == "-1").any()


def test_spark_guard_refuses_the_support_the_local_guard_refuses(
    runs: Runs, spark: SparkSession
) -> None:
    overrides = ("rules.min_support=0.002", "rules.max_itemsets=2000")
    resolved = OmegaConf.to_container(make_cfg("engine=spark", *DATA, *overrides), resolve=True)
    rules_cfg = resolved["rules"]
    seg = runs.spark.segments["segment"]
    b = make_baskets(runs.tx, rules_cfg["basket"], rules_cfg["item"], rules_cfg["min_item_count"])
    with pytest.raises(MiningTooLarge) as local:
        mine(b, seg, rules_cfg)
    with pytest.raises(MiningTooLarge) as got:
        stages.mine(runs.tx, seg, resolved)
    assert str(got.value) == str(local.value) and "scope 'all'" in str(got.value)
    assert got.value.suggested_support == local.value.suggested_support
    assert got.value.pairs == local.value.pairs


def test_logged_model_scores_customers_as_spark_did(runs: Runs, tmp_path: Path) -> None:
    sp = runs.spark
    mlflow.set_tracking_uri(runs.uri)
    model = mlflow.pyfunc.load_model(sp.model_uri)
    scored = model.predict(sp.features.reset_index())  # a features table in
    assert (scored["customer_id"].to_numpy() == sp.segments.index.to_numpy()).all()
    assert (scored["segment"].to_numpy() == sp.segments["segment"].to_numpy()).all()

    # the fitted Pipeline needs no pyspark: unpickle and predict where importing it fails
    blob = cloudpickle.dumps(sp.model)
    assert b"pyspark" not in blob
    (tmp_path / "model.pkl").write_bytes(blob)
    sp.features.to_parquet(tmp_path / "features.parquet")
    script = (
        "import sys, pickle, numpy as np, pandas as pd\n"
        "sys.modules['pyspark'] = None  # any import of pyspark now raises ImportError\n"
        f"model = pickle.loads(open({str(tmp_path / 'model.pkl')!r}, 'rb').read())\n"
        f"feats = pd.read_parquet({str(tmp_path / 'features.parquet')!r})\n"
        f"np.save({str(tmp_path / 'labels.npy')!r}, model.predict(feats))\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    labels = np.load(tmp_path / "labels.npy")
    assert (labels == sp.segments["segment"].to_numpy()).all()


def test_gmm_on_spark_is_scored_by_its_gaussians(spark: SparkSession) -> None:
    tx, _ = demo(20_000, 3)
    overrides = ("engine=spark", "features=rfm", "algorithm=gmm", "algorithm.n_clusters=3",
                 "algorithm.n_init=1")  # fmt: skip
    resolved = OmegaConf.to_container(make_cfg(*overrides), resolve=True)
    seg = stages.segment(tx, resolved)
    assert seg.X.dtype == np.float64 and seg.X.shape == seg.features.shape
    assert seg.labels.dtype == np.int64 and len(np.unique(seg.labels)) == 3
    assert (seg.model.predict(seg.features) == seg.labels).all()
    assert list(seg.model.feature_names_in_) == list(seg.features.columns)
    # the local algorithm's metric keys (BIC/AIC, not Spark's log-likelihood)
    local_metrics, _, _ = tuning.evaluate(seg.X, resolved["algorithm"], 0, resolved["metrics"])
    assert set(seg.metrics) == set(local_metrics)
    assert {"session", "load", "features", "clustering"} == set(seg.seconds)
    assert seg.params["spark_tol"] == pytest.approx(1e-3 * len(seg.features))


def test_engine_spark_refuses_optuna(tracking_uri: str, tmp_path: Path) -> None:
    cfg = make_cfg("engine=spark", "tuning=optuna", "data.generator.n_rows=2000",
                   f"tracking.uri={tracking_uri}")  # fmt: skip
    with pytest.raises(ValueError, match="tuning=optuna runs on the local engine only"):
        run(cfg, tmp_path)
    (r,) = MlflowClient(tracking_uri).search_runs(
        [MlflowClient(tracking_uri).get_experiment_by_name("custseg").experiment_id]
    )
    assert r.info.status == "FAILED" and r.data.tags["engine"] == "spark"


def test_engine_spark_refuses_hdbscan(tracking_uri: str, tmp_path: Path) -> None:
    cfg = make_cfg("engine=spark", "algorithm=hdbscan", "data.generator.n_rows=2000",
                   f"tracking.uri={tracking_uri}")  # fmt: skip
    with pytest.raises(ValueError, match=r"algorithm\.name: 'hdbscan'.*\['kmeans', 'gmm'\]"):
        run(cfg, tmp_path)


@pytest.mark.parametrize(
    ("overrides", "error", "match"),
    [
        (("algorithm=gmm", "algorithm.covariance_type=diag"), ValueError,
         r"algorithm\.covariance_type: 'diag'.*covariance_type=full"),
        (("features=category_mix",), FeatureError,
         r"features\.name: 'category_mix'.*\['value_quantity', 'rfm', 'basket'\]"),
        (("features.scaler=robust",), FeatureError, r"features\.scaler: 'robust'.*\['standard'\]"),
        (("engine.parallelism=0",), ValueError, r"engine\.parallelism"),
    ],
)  # fmt: skip
def test_spark_config_errors_name_the_key(
    overrides: tuple[str, ...], error: type[Exception], match: str
) -> None:
    resolved = OmegaConf.to_container(make_cfg("engine=spark", *overrides), resolve=True)
    with pytest.raises(error, match=match):
        stages.check(resolved)
