"""The Spark engine against the local one on demo data: same features, same itemsets, and
segments that recover the planted truth as well as local k-means does."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from custseg.data.clean import clean
from custseg.data.schema import validate
from custseg.data.synthetic import DemoParams, generate
from custseg.features import build_features
from custseg.features.scaling import make_transformer
from custseg.rules.baskets import make_baskets
from custseg.rules.mining import frequent_itemsets
from tests.conftest import make_cfg
from tests.spark.conftest import require_pyspark

require_pyspark()

from pyspark.sql import DataFrame as SparkDataFrame  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402

from custseg.spark import features as spark_features  # noqa: E402
from custseg.spark.clustering import segment  # noqa: E402
from custseg.spark.mining import frequent_itemsets as spark_itemsets  # noqa: E402
from custseg.spark.pipeline import SparkResult, run_spark  # noqa: E402

pytestmark = pytest.mark.slow

BASKET_COLS = ["frequency", "mean_basket_value", "mean_basket_units", "mean_unit_price"]
BASKET_COLS.append("tenure_days")


def demo(n_rows: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cleaned demo transactions and the planted customer segments."""
    d = generate(DemoParams(n_rows=n_rows), seed)
    clean_cfg = OmegaConf.to_container(make_cfg().clean)
    tx, _ = clean(validate(d.transactions, "demo"), clean_cfg)
    return tx, d.truth.customers


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    return demo(30_000, 1)[0]


@pytest.fixture(scope="module")
def small_sdf(spark: SparkSession, small: pd.DataFrame) -> Iterator[SparkDataFrame]:
    sdf = spark_features.to_spark(spark, small).cache()
    yield sdf
    sdf.unpersist()


@pytest.mark.parametrize("name", ["value_quantity", "rfm", "basket"])
def test_features_match_local(name: str, small: pd.DataFrame, small_sdf: SparkDataFrame) -> None:
    local = build_features(small, name, {}).sort_index()
    got = spark_features.to_pandas_features(spark_features.build_features(small_sdf, name, {}))
    assert list(got.columns) == list(local.columns)
    assert (got.dtypes == "float64").all()
    pd.testing.assert_frame_equal(got, local, rtol=1e-9, check_index_type=False)


def test_rfm_reference_date_matches_local(small: pd.DataFrame, small_sdf: SparkDataFrame) -> None:
    params = {"reference_date": "2025-02-01"}
    local = build_features(small, "rfm", params).sort_index()
    got = spark_features.to_pandas_features(spark_features.build_features(small_sdf, "rfm", params))
    pd.testing.assert_frame_equal(got, local, rtol=1e-9, check_index_type=False)


def test_fpgrowth_itemsets_match_local(small: pd.DataFrame, small_sdf: SparkDataFrame) -> None:
    local = frequent_itemsets(make_baskets(small, "invoice", "product_id"), 0.02, engine="fim")
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
    local = build_features(tx, "basket", {})
    sdf = spark_features.to_spark(spark, tx)
    feats = spark_features.build_features(sdf, "basket", {}).cache()
    labels, metrics = segment(feats, BASKET_COLS, BASKET_COLS, "kmeans", 5, 42)
    feats.unpersist()
    assert set(metrics) == {"silhouette", "inertia"} and -1 <= metrics["silhouette"] <= 1

    X = make_transformer(list(local.columns), BASKET_COLS, "standard").fit_transform(local)
    local_labels = pd.Series(
        KMeans(n_clusters=5, n_init=10, random_state=42).fit_predict(X), index=local.index
    )
    planted = truth.assign(customer_id=truth["customer_id"].astype("str")).set_index("customer_id")[
        "segment"
    ]
    assert labels.index.is_unique and len(labels) == len(local)
    assert adjusted_rand_score(planted.loc[labels.index], labels) >= 0.9
    assert adjusted_rand_score(local_labels.loc[labels.index], labels) >= 0.9


@pytest.mark.parametrize("algorithm", ["bisecting_kmeans", "gmm"])
def test_other_algorithms_run(algorithm: str, small_sdf: SparkDataFrame) -> None:
    feats = spark_features.build_features(small_sdf, "basket", {})
    labels, metrics = segment(feats, BASKET_COLS, BASKET_COLS, algorithm, 4, 0)
    assert labels.nunique() == 4 and "silhouette" in metrics and len(metrics) == 2


def test_run_spark_end_to_end(small: pd.DataFrame) -> None:
    cfg = make_cfg("features=basket", "rules=fim")
    container = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(container, dict)
    res = run_spark(
        small, container["features"], container["algorithm"], container["rules"], seed=0
    )
    assert isinstance(res, SparkResult)
    assert list(res.features.columns) == BASKET_COLS and len(res.features) > 0
    assert res.labels.index.equals(res.features.index)
    assert res.labels.nunique() == int(container["algorithm"]["n_clusters"])
    assert {"silhouette", "inertia"} <= set(res.metrics)
    assert len(res.itemsets) > 0 and res.itemsets["itemsets"].map(len).max() <= 3
    assert {"session", "load", "features", "clustering", "itemsets"} <= set(res.seconds)
    # the same itemsets as the local engine with the same basket settings
    b = make_baskets(small, "invoice", "product_id", int(container["rules"]["min_item_count"]))
    local = frequent_itemsets(b, float(container["rules"]["min_support"]), max_len=3, engine="fim")
    assert res.itemsets["itemsets"].tolist() == local["itemsets"].tolist()
    assert res.itemsets["count"].tolist() == local["count"].tolist()
