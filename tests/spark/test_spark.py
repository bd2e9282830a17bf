"""The Spark engine against the local one on demo data: the same features, itemsets and rules,
segments that recover the planted truth as well as local k-means does, and a segmentation that
scores customers with local objects only."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from custseg.config.checks import SPARK_FEATURES
from custseg.config.schema import Rules
from custseg.engine import make_engine
from custseg.engine.local import LocalEngine
from custseg.engine.spark import SparkEngine
from custseg.features import build_features, builder
from custseg.rules.baskets import make_baskets
from custseg.rules.guard import MiningTooLarge
from custseg.rules.mining import frequent_itemsets, mine
from custseg.segment.fit import evaluate
from tests.conftest import make_config
from tests.spark.conftest import demo, require_spark

require_spark()

from pyspark.sql import DataFrame as SparkDataFrame  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402

from custseg.engine.spark import features as spark_features  # noqa: E402
from custseg.engine.spark.mining import frequent_itemsets as spark_itemsets  # noqa: E402
from custseg.engine.spark.model import NearestCentre, SparkGaussianMixture  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    return demo(30_000, 1)[0]


@pytest.fixture(scope="module")
def small_sdf(spark: SparkSession, small: pd.DataFrame) -> Iterator[SparkDataFrame]:
    sdf = spark_features.to_spark(spark, small).cache()
    yield sdf
    sdf.unpersist()


def _spark_features(tx: pd.DataFrame, sdf: SparkDataFrame, *overrides: str) -> pd.DataFrame:
    fitted = builder(make_config(*overrides).features)
    fitted.fit_columns(tx, fitted.COLUMNS)
    return spark_features.to_pandas_features(spark_features.build_features(sdf, fitted))


def test_spark_has_the_feature_sets_the_config_allows() -> None:
    assert set(spark_features.SPARK_SETS) == set(SPARK_FEATURES)


@pytest.mark.parametrize("name", SPARK_FEATURES)
def test_features_match_local(name: str, small: pd.DataFrame, small_sdf: SparkDataFrame) -> None:
    local = build_features(small, make_config(f"features={name}").features).sort_index()
    got = _spark_features(small, small_sdf, f"features={name}")
    assert list(got.columns) == list(local.columns)
    assert (got.dtypes == "float64").all()
    pd.testing.assert_frame_equal(got, local, rtol=1e-9, check_index_type=False)


def test_rfm_reference_date_matches_local(small: pd.DataFrame, small_sdf: SparkDataFrame) -> None:
    overrides = ("features=rfm", "features.reference_date=2025-02-01")
    local = build_features(small, make_config(*overrides).features).sort_index()
    got = _spark_features(small, small_sdf, *overrides)
    pd.testing.assert_frame_equal(got, local, rtol=1e-9, check_index_type=False)


def test_weighed_basket_features_match_local(spark: SparkSession, small: pd.DataFrame) -> None:
    """With a per-unit weight: total_weight and sales_per_weight (NaN without weighed lines)."""
    rng = np.random.default_rng(0)
    weight = rng.uniform(0.1, 3.0, len(small))
    weight[rng.random(len(small)) < 0.3] = np.nan  # some lines unweighed
    tx = small.assign(weight=weight)
    first = tx["customer_id"].astype("str") == str(tx["customer_id"].iloc[0])
    tx.loc[first, "weight"] = np.nan  # a customer with no weighed line at all
    local = build_features(tx, make_config("features=basket").features).sort_index()
    got = _spark_features(tx, spark_features.to_spark(spark, tx), "features=basket")
    assert {"total_weight", "sales_per_weight"} <= set(got.columns)
    assert got["sales_per_weight"].isna().any()
    pd.testing.assert_frame_equal(got, local, rtol=1e-9, check_index_type=False)


def test_fpgrowth_itemsets_match_local(small: pd.DataFrame, small_sdf: SparkDataFrame) -> None:
    b = make_baskets(small, "invoice", "product_id")
    local = frequent_itemsets(b, 0.02, engine="fim", max_itemsets=2_000_000)
    got = spark_itemsets(small_sdf, 0.02, basket="invoice", item="product_id")
    assert len(local) > 0 and (local["itemsets"].map(len) >= 2).any()
    assert got["itemsets"].tolist() == local["itemsets"].tolist()
    assert got["count"].tolist() == local["count"].tolist()
    np.testing.assert_allclose(got["support"], local["support"], rtol=1e-12)


def test_threshold_uses_the_local_integer_rule(spark: SparkSession) -> None:
    """0.07 * 100 is 7.000000000000001: Spark's own ceil would ask for 8 baskets."""
    rows = [(f"b{b:03d}", "A") for b in range(7)] + [(f"b{b:03d}", "Z") for b in range(7, 100)]
    tx = spark.createDataFrame(rows, "invoice_id string, product_id string")
    got = spark_itemsets(tx, 0.07)
    assert got.set_index(got["itemsets"].map(lambda s: min(s)))["count"].to_dict() == {
        "Z": 93,
        "A": 7,
    }


def test_kmeans_recovers_planted_segments(spark: SparkSession) -> None:
    tx, truth = demo(100_000, 42)
    config = make_config("engine=spark", "features=basket", "seed=42")
    got = make_engine(config.engine).segment(tx, config, None)
    local = LocalEngine().segment(tx, config, None)
    pd.testing.assert_frame_equal(got.features, local.features, rtol=1e-9)
    ari_truth = adjusted_rand_score(truth.loc[got.features.index], got.labels)
    ari_local = adjusted_rand_score(local.labels, got.labels)
    print(f"\nARI spark vs planted truth {ari_truth:.4f}, vs local k-means {ari_local:.4f}")
    assert ari_truth >= 0.9 and ari_local >= 0.9
    # the local metric keys, by the local code; silhouette is scale-free (n - 1 vs n std)
    assert set(got.metrics) == set(local.metrics)
    assert got.metrics["silhouette"] == pytest.approx(local.metrics["silhouette"], abs=0.02)
    assert {"session", "load", "features", "clustering"} == set(got.seconds)
    assert got.algorithm == config.segment


def test_segmentation_is_local_objects(spark: SparkSession, small: pd.DataFrame) -> None:
    """The builder and pipeline the model keeps: the local builder's class, fitted on the same
    lines; a Pipeline (transform, cluster) that repeats Spark's labels."""
    config = make_config("engine=spark", "features=rfm", "segment.n_clusters=4")
    seg = make_engine(config.engine).segment(small, config, None)
    local_builder = builder(config.features).fit(small)
    assert type(seg.builder) is type(local_builder)
    assert seg.builder.columns_ == local_builder.columns_ == list(seg.features.columns)
    assert seg.builder.reference_date_ == local_builder.reference_date_
    assert [name for name, _ in seg.pipeline.steps] == ["transform", "cluster"]
    # numbered by value (custseg.engine.settle) around what Spark fitted
    assert isinstance(seg.pipeline.named_steps["cluster"].estimator_, NearestCentre)
    again = seg.pipeline.predict(seg.builder.transform(small).loc[seg.features.index])
    assert (again == seg.labels).all()
    assert seg.X.dtype == np.float64 and seg.X.shape == seg.features.shape
    assert not any("pyspark" in type(step).__module__ for _, step in seg.pipeline.steps)


def test_gmm_on_spark_is_scored_by_its_gaussians(spark: SparkSession) -> None:
    tx, _ = demo(20_000, 3)
    config = make_config("engine=spark", "features=rfm", "segment=gmm", "segment.n_clusters=3",
                         "segment.n_init=1")  # fmt: skip
    seg = make_engine(config.engine).segment(tx, config, None)
    assert isinstance(seg.pipeline.named_steps["cluster"].estimator_, SparkGaussianMixture)
    assert seg.labels.dtype == np.int64 and len(np.unique(seg.labels)) == 3
    assert (seg.pipeline.predict(seg.features) == seg.labels).all()
    # the local algorithm's metric keys (BIC/AIC, not Spark's log-likelihood)
    local_metrics, _, _ = evaluate(seg.X, config.segment, 0, config.metrics)
    assert set(seg.metrics) == set(local_metrics) | {"max_revenue_share"}  # added by settle


def _rules_config(*overrides: str) -> Rules:
    rules = make_config("engine=spark", "features=basket", *overrides).rules
    assert isinstance(rules, Rules)
    return rules


def test_spark_mining_scopes_as_local_mine(spark: SparkSession, small: pd.DataFrame) -> None:
    """Per-scope support, min_baskets, unassigned (-1) and customers without a segment."""
    invoices = small.groupby(small["customer_id"].astype("str"))["invoice_id"].nunique()
    invoices = invoices.sort_values(kind="stable")
    seg = pd.Series(np.arange(len(invoices)) % 4, index=invoices.index, dtype="int64")
    seg.iloc[:3] = 9  # the three rarest buyers: fewer baskets than rules.min_baskets
    seg.iloc[3:60] = -1  # unassigned is a scope of its own
    seg = seg.iloc[:-40]  # customers without a segment count only in 'all'
    rules = _rules_config()
    b = make_baskets(small, rules.basket, rules.item, rules.min_item_count)
    engine = SparkEngine("local[2]", "custseg-tests", {}, parallelism=3)
    got, seconds = engine.mine(small, b, seg, rules)
    want, local_seconds = mine(b, seg, rules)
    assert set(seconds) == set(local_seconds) and "9" not in seconds and "-1" in seconds
    pd.testing.assert_frame_equal(got, want)
    assert (got["segment"] == "-1").any() and (got["segment"] == "all").any()


def test_spark_guard_refuses_the_support_the_local_guard_refuses(
    spark: SparkSession, small: pd.DataFrame
) -> None:
    rules = _rules_config("rules.min_support=0.002", "rules.max_itemsets=2000")
    b = make_baskets(small, rules.basket, rules.item, rules.min_item_count)
    seg = pd.Series(0, index=small["customer_id"].astype("str").unique(), dtype="int64")
    with pytest.raises(MiningTooLarge) as local:
        mine(b, seg, rules)
    with pytest.raises(MiningTooLarge) as got:
        SparkEngine("local[2]", "custseg-tests", {}, 2).mine(small, b, seg, rules)
    assert str(got.value) == str(local.value) and "scope 'all'" in str(got.value)
    assert got.value.suggested_support == local.value.suggested_support


def test_engine_is_built_from_the_config_without_pyspark(tmp_path) -> None:
    """conf/engine/spark.yaml builds a SparkEngine; without pyspark that works, and only using
    it fails, with a message saying what to install."""
    engine = make_engine(make_config("engine=spark", "engine.parallelism=3").engine)
    assert isinstance(engine, SparkEngine)
    assert (engine.master, engine.app_name, engine.conf, engine.parallelism) == (
        "local[2]", "custseg", {}, 3
    )  # fmt: skip
    script = (
        "import sys\n"
        "sys.modules['pyspark'] = None  # any import of pyspark now raises ImportError\n"
        "from custseg.engine.spark import SparkEngine\n"
        "from custseg.engine.spark.model import NearestCentre  # scoring needs no pyspark\n"
        "engine = SparkEngine('local[2]', 'custseg', {}, 1)\n"
        "try:\n"
        "    engine.segment(None, None, None)\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                         text=True, timeout=300).stdout  # fmt: skip
    assert "engine=spark needs pyspark" in out and "custseg[spark]" in out
