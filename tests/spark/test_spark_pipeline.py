"""engine=spark as a pipeline option: the same job as engine=local, logged the same way, and the
same fitted model class.

One Spark run (local[2]) and one local run of the whole pipeline on the same demo data, compared
on what MLflow holds (status, tags, metric keys, artifact files), on the model, the segments and
every rule table, and on the logged model, which scores customers without importing pyspark.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cloudpickle
import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from sklearn.metrics import adjusted_rand_score
from sklearn.pipeline import Pipeline

from custseg.model import CustomerModel
from custseg.result import RunResult
from custseg.tracking.pyfunc import load_model, to_model_input
from tests.spark.conftest import DATA, Logged, logged_run, require_spark

require_spark()

from pyspark.sql import SparkSession  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TIMING = ("spark.seconds.", "rules.seconds.")  # engine-specific timings, compared by prefix


@pytest.fixture(scope="module")
def spark_run(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Logged:
    return logged_run(tmp_path_factory.mktemp("spark"), "engine=spark", *DATA)


def _artifacts(client: MlflowClient, run_id: str, path: str | None = None) -> set[str]:
    out: set[str] = set()
    for item in client.list_artifacts(run_id, path):
        out |= _artifacts(client, run_id, item.path) if item.is_dir else {item.path}
    return out


def _by_prefix(keys: set[str]) -> tuple[set[str], dict[str, set[str]]]:
    timing = {p: {k[len(p) :] for k in keys if k.startswith(p)} for p in TIMING}
    return {k for k in keys if not k.startswith(TIMING)}, timing


def _scope(rules: pd.DataFrame, scope: str) -> pd.DataFrame:
    return rules[rules["segment"] == scope].drop(columns="segment").reset_index(drop=True)


def assert_same_model(spark: RunResult, local: RunResult) -> None:
    """The model a Spark run fitted is the local run's class, with the same fitted parts, and
    none of them is (or pickles) a pyspark object."""
    sm, lm = spark.model, local.model
    assert type(sm) is CustomerModel and type(lm) is CustomerModel
    assert sorted(vars(sm)) == sorted(vars(lm))
    for name in ("features_", "algorithm_", "profiles_", "rules_", "recommenders_", "skipped_"):
        assert type(getattr(sm, name)) is type(getattr(lm, name)), name
    assert sm.features_.columns_ == lm.features_.columns_
    assert sm.algorithm_ == lm.algorithm_
    assert isinstance(sm.segmenter_, Pipeline)
    assert [n for n, _ in sm.segmenter_.steps] == [n for n, _ in lm.segmenter_.steps]
    assert sorted(sm.recommenders_) == sorted(lm.recommenders_)
    assert b"pyspark" not in cloudpickle.dumps(sm)


def assert_segments_agree(spark: RunResult, local: RunResult, least: float = 0.9) -> None:
    pd.testing.assert_frame_equal(spark.features, local.features, rtol=1e-9)
    ari = adjusted_rand_score(local.segments["segment"], spark.segments["segment"])
    ari_truth = spark.metrics["truth_ari"]
    print(f"\nARI spark vs local {ari:.4f}, vs planted truth {ari_truth:.4f}")
    assert ari >= least and ari_truth >= least


def assert_all_rules_equal(spark: RunResult, local: RunResult) -> None:
    assert spark.rules is not None and local.rules is not None
    spark_all, local_all = _scope(spark.rules, "all"), _scope(local.rules, "all")
    assert len(spark_all) > 50
    pd.testing.assert_frame_equal(spark_all, local_all)


def test_spark_run_logs_what_a_local_run_logs(spark_run: Logged, local_run: Logged) -> None:
    sc, lc = MlflowClient(spark_run.uri), MlflowClient(local_run.uri)
    s, loc = sc.get_run(spark_run.result.run_id), lc.get_run(local_run.result.run_id)
    assert s.info.status == "FINISHED" and loc.info.status == "FINISHED"
    assert s.data.tags["engine"] == "spark" and loc.data.tags["engine"] == "local"
    assert s.data.params["engine.master"] == "local[2]"
    assert s.info.run_name == loc.info.run_name == "demo/basket/kmeans-k5"

    spark_keys, spark_timing = _by_prefix(set(s.data.metrics))
    local_keys, local_timing = _by_prefix(set(loc.data.metrics))
    assert spark_keys == local_keys
    assert spark_timing["spark.seconds."] == {"session", "load", "features", "clustering"}
    assert local_timing["spark.seconds."] == set()
    assert spark_timing["rules.seconds."] == local_timing["rules.seconds."]
    assert "all" in spark_timing["rules.seconds."]
    for key in ("silhouette", "davies_bouldin", "n_segments", "inertia", "truth_ari"):
        assert key in spark_keys, key
    # what does not depend on the clustering is equal
    for key in spark_keys:
        if key.startswith(("clean.", "rules.baskets", "rules.dropped", "rules.count.all")):
            assert s.data.metrics[key] == loc.data.metrics[key], key
    files = _artifacts(sc, spark_run.result.run_id)
    assert files == _artifacts(lc, local_run.result.run_id)
    for name in ("segments.parquet", "rules_all.parquet", "profile_summary.parquet",
                 "recommendations.parquet"):  # fmt: skip
        assert name in files, name


def test_spark_fits_the_local_model_class(spark_run: Logged, local_run: Logged) -> None:
    assert_same_model(spark_run.result, local_run.result)


def test_spark_segments_match_local_and_the_planted_truth(
    spark_run: Logged, local_run: Logged
) -> None:
    sp, lo = spark_run.result, local_run.result
    assert_segments_agree(sp, lo)
    # the quality metrics are the local code's on Spark's scaled features (n - 1 std: same
    # silhouette and DBI for the same partition)
    assert sp.metrics["silhouette"] == pytest.approx(lo.metrics["silhouette"], abs=0.02)
    assert sp.metrics["davies_bouldin"] == pytest.approx(lo.metrics["davies_bouldin"], abs=0.05)


def test_spark_rules_equal_local_rules(spark_run: Logged, local_run: Logged) -> None:
    sp, lo = spark_run.result, local_run.result
    assert_all_rules_equal(sp, lo)
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


def test_logged_model_scores_without_pyspark(spark_run: Logged, tmp_path: Path) -> None:
    """The logged model scores a features table as Spark segmented it, and transaction lines in
    a process where importing pyspark fails."""
    sp = spark_run.result
    mlflow.set_tracking_uri(spark_run.uri)
    model = load_model(sp.model_uri)
    scored = model.score(sp.features.reset_index())
    assert (scored["customer_id"].to_numpy() == sp.segments.index.to_numpy()).all()
    assert (scored["segment"].to_numpy() == sp.segments["segment"].to_numpy()).all()

    tx = sp.transactions
    assert tx is not None
    some = sp.segments.index[:25]
    lines = to_model_input(tx[tx["customer_id"].astype("str").isin(some)])
    (tmp_path / "model.pkl").write_bytes(cloudpickle.dumps(model))
    lines.to_parquet(tmp_path / "lines.parquet")
    script = (
        "import sys, pickle, pandas as pd\n"
        "sys.modules['pyspark'] = None  # any import of pyspark now raises ImportError\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        f"model = pickle.loads(open({str(tmp_path / 'model.pkl')!r}, 'rb').read())\n"
        f"lines = pd.read_parquet({str(tmp_path / 'lines.parquet')!r})\n"
        f"model.score(lines).to_parquet({str(tmp_path / 'scored.parquet')!r})\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=300, cwd=ROOT)
    scored = pd.read_parquet(tmp_path / "scored.parquet").set_index("customer_id")
    assert sorted(scored.index) == sorted(some)
    np.testing.assert_array_equal(
        scored.loc[some, "segment"].to_numpy(), sp.segments.loc[some, "segment"].to_numpy()
    )
    assert scored["recommendations"].map(len).gt(0).any()
