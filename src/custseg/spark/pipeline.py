"""The Spark engine end to end: features, segments and frequent itemsets from one cleaned table.

Takes the same config blocks as the local pipeline (features, algorithm, rules) so a run can be
repeated on Spark by config alone; returns pandas objects plus the seconds each stage took, the
numbers that decide whether Spark is worth its start-up cost on a given data size.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from custseg.rules.mining import _empty_itemsets
from custseg.spark.clustering import segment
from custseg.spark.features import build_features, to_pandas_features, to_spark
from custseg.spark.mining import frequent_itemsets
from custseg.spark.session import get_session


@dataclass
class SparkResult:
    features: pd.DataFrame  # one row per customer, indexed by customer_id, local column order
    labels: pd.Series  # segment per customer_id
    metrics: dict[str, float]  # silhouette and the algorithm's cost / log-likelihood
    itemsets: pd.DataFrame  # itemsets, support, count (empty when rules are disabled)
    seconds: dict[str, float] = field(default_factory=dict)  # wall-clock per stage


def run_spark(
    tx: pd.DataFrame,
    features_cfg: Mapping[str, Any],
    algorithm_cfg: Mapping[str, Any],
    rules_cfg: Mapping[str, Any],
    seed: int,
    master: str = "local[2]",
) -> SparkResult:
    """Run the stages on Spark. `tx` is an already-cleaned canonical pandas table.

    features_cfg: name, log1p, scaler (only "standard" exists on Spark), reference_date;
    algorithm_cfg: name (kmeans | bisecting_kmeans | gmm), n_clusters;
    rules_cfg: enabled, basket, item, min_support, max_len, min_item_count.
    """
    scaler = features_cfg.get("scaler", "standard")
    if scaler not in (None, "standard"):
        raise ValueError(f"features.scaler: {scaler!r} is not available on Spark; use standard")
    seconds: dict[str, float] = {}

    t0 = time.perf_counter()
    spark = get_session(master)
    seconds["session"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    sdf = to_spark(spark, tx).cache()
    sdf.count()
    seconds["load"] = time.perf_counter() - t0
    try:
        t0 = time.perf_counter()
        feats_sdf = build_features(sdf, str(features_cfg["name"]), features_cfg).cache()
        features = to_pandas_features(feats_sdf)
        seconds["features"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        labels, metrics = segment(
            feats_sdf,
            list(features.columns),
            list(features_cfg.get("log1p") or []),
            str(algorithm_cfg["name"]),
            int(algorithm_cfg["n_clusters"]),
            seed,
        )
        feats_sdf.unpersist()
        seconds["clustering"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        if rules_cfg.get("enabled", True):
            max_len = rules_cfg.get("max_len")
            itemsets = frequent_itemsets(
                sdf,
                float(rules_cfg.get("min_support", 0.02)),
                basket=str(rules_cfg.get("basket", "invoice")),
                item=str(rules_cfg.get("item", "product_id")),
                max_len=None if max_len is None else int(max_len),
                min_item_count=int(rules_cfg.get("min_item_count") or 1),
            )
        else:
            itemsets = _empty_itemsets()
        seconds["itemsets"] = time.perf_counter() - t0
    finally:
        sdf.unpersist()
    return SparkResult(features, labels, metrics, itemsets, seconds)
