"""The Spark engine's two stages: segmenting (features in Spark SQL, clustering in pyspark.ml)
and rule mining (FP-growth in pyspark.ml), each returning what the local engine returns.

`segment` hands the customer model the local feature builder fitted on the same lines, the
features and scaled features Spark computed, Spark's labels, metrics measured by the project's
own code on them, and what Spark fitted (scaler mean/std, centres or Gaussians) as a
scikit-learn Pipeline from `custseg.engine.spark.model`, which scores new customers without
Spark. `mine` runs every scope of `custseg.rules.mining.mine` on Spark and derives the rules by
the same local code, so the rules frame is the local one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame as SparkDataFrame
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from sklearn.pipeline import Pipeline

from custseg.config.schema import GMM, Config, KMeans, Rules
from custseg.engine import Segmentation
from custseg.engine.spark.clustering import SparkClustering, fit_model, parallel_map
from custseg.engine.spark.features import build_features, to_pandas_features, to_spark
from custseg.engine.spark.mining import baskets_frame, itemsets_from_baskets
from custseg.engine.spark.model import NearestCentre, SparkGaussianMixture, SparkStandardScaling
from custseg.engine.spark.session import get_session
from custseg.features import builder
from custseg.progress import step
from custseg.rules.baskets import Baskets
from custseg.rules.guard import guard
from custseg.rules.rules import scope_rules
from custseg.segment.algorithms import build, check_input
from custseg.segment.metrics import segmentation_metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    """The `engine` block of engine=spark (conf/engine/spark.yaml)."""

    master: str
    app_name: str
    conf: dict[str, str]
    parallelism: int


def session(settings: Settings) -> SparkSession:
    spark = get_session(settings.master, settings.app_name, settings.conf)
    running = spark.sparkContext.master
    if running != settings.master:  # one context per process: say so, do not hide it
        log.warning("Spark session already running on %s; engine.master=%s not used", running,
                    settings.master)  # fmt: skip
    return spark


@contextmanager
def _timed(seconds: dict[str, float], key: str) -> Iterator[None]:
    t0 = time.perf_counter()
    try:
        yield
    finally:
        seconds[key] = time.perf_counter() - t0


def _pipeline(
    fit: SparkClustering, features: pd.DataFrame, log1p: list[str], gmm: bool
) -> Pipeline:
    transform = SparkStandardScaling(log1p=log1p, mean=fit.mean, std=fit.std).fit(features)
    if gmm:
        cluster: Any = SparkGaussianMixture(fit.weights, fit.means, fit.covariances)
    else:
        cluster = NearestCentre(fit.centres)
    cluster.fit(fit.X)
    return Pipeline([("transform", transform), ("cluster", cluster)])


def segment(tx: pd.DataFrame, config: Config, settings: Settings) -> Segmentation:
    """Features (Spark SQL) and clustering (pyspark.ml) for the cleaned lines `tx`.

    Per-customer results (features, scaled features, labels) are collected to the driver: every
    later stage, and the quality metrics, work on them there.
    """
    algorithm, seed, seconds = config.segment, config.seed, {}
    if not isinstance(algorithm, KMeans | GMM):  # custseg.config.checks refuses the others
        raise TypeError(f"segment={algorithm.name} has no Spark engine")
    local = builder(config.features)
    # learn the state Spark's SQL measures against (RFM's reference date); columns come below
    local.fit_columns(tx, local.COLUMNS)
    with _timed(seconds, "session"):
        spark = session(settings)
    with step(f"features {local.NAME} on Spark ({spark.sparkContext.master})"):
        with _timed(seconds, "load"):
            sdf = to_spark(spark, tx).cache()
            sdf.count()
        try:
            with _timed(seconds, "features"):
                feats_sdf = build_features(sdf, local).cache()
                features = to_pandas_features(feats_sdf)
        finally:
            sdf.unpersist()
    try:
        local.fit_columns(tx, list(features.columns))  # the columns Spark built
        # the local checks and messages: enough customers for segment.n_clusters, finite values
        est = build(algorithm.target, algorithm.params(), seed)
        check_input(est, features.to_numpy())
        with step(f"segment with {est.label()} on Spark"), _timed(seconds, "clustering"):
            fit = fit_model(
                feats_sdf, list(features.columns), config.features.log1p, algorithm, seed,
                n_customers=len(features), parallelism=settings.parallelism,
            )  # fmt: skip
    finally:
        feats_sdf.unpersist()
    rows = fit.customers.get_indexer(features.index)
    if len(fit.customers) != len(features) or (rows < 0).any():
        raise RuntimeError("Spark's clustered customers differ from its feature rows")
    X, labels = fit.X[rows], fit.labels[rows]
    pipeline = _pipeline(fit, features, list(config.features.log1p), isinstance(algorithm, GMM))
    cluster = pipeline.named_steps["cluster"]
    if (cluster.labels_ != labels).any():  # the exported rule should repeat Spark's everywhere
        log.warning("the scoring model disagrees with Spark on %d of %d customers",
                    int((cluster.labels_ != labels).sum()), len(labels))  # fmt: skip
    metrics = segmentation_metrics(
        X, labels, max_exact=config.metrics.silhouette_max_exact,
        sample_size=config.metrics.silhouette_sample_size, seed=seed,
    ) | cluster.quality(X)  # fmt: skip
    log.info("Spark %s: %d customers, restart %d of costs %s kept (%s)", algorithm.name,
             len(features), fit.chosen, [round(c, 3) for c in fit.costs], fit.params)  # fmt: skip
    return Segmentation(local, features, X, labels.astype("int64"), metrics, pipeline, algorithm,
                        seconds=seconds)  # fmt: skip


def _scopes(
    b: Baskets, segments: pd.Series | None, min_baskets: int
) -> tuple[np.ndarray, list[tuple[str, int | None, Baskets]]]:
    """The segment of every basket (NaN: none) and the scopes `custseg.rules.mining.mine` mines:
    'all', then every segment with at least `min_baskets` baskets, as (name, label, baskets)."""
    seg = pd.Series(segments if segments is not None else [], dtype="float64")
    seg.index = seg.index.astype("str")
    per_basket = b.keys["customer_id"].astype("str").map(seg).to_numpy(dtype="float64")
    scopes: list[tuple[str, int | None, Baskets]] = [("all", None, b)]
    for label in sorted(pd.unique(seg.dropna()).astype(int)):
        mask = per_basket == label
        if int(mask.sum()) < min_baskets:
            log.info("rules[%s]: skipped, %s baskets < rules.min_baskets=%s", label,
                     int(mask.sum()), min_baskets)  # fmt: skip
            continue
        scopes.append((str(label), int(label), b.subset(mask)))
    return per_basket, scopes


def _itemsets(frame: SparkDataFrame, b: Baskets, cfg: Rules) -> pd.DataFrame:
    """A scope's itemsets on Spark, after the local guard on its baskets (as the local engines
    call it, so an explosion fails with the same message and suggested support)."""
    if cfg.max_len is None or cfg.max_len >= 2:
        guard(b, cfg.min_support, cfg.max_itemsets)
    return itemsets_from_baskets(frame, b.n_baskets, cfg.min_support, cfg.max_len)


def mine(
    baskets: Baskets, segments: pd.Series | None, cfg: Rules, settings: Settings
) -> tuple[pd.DataFrame, dict[str, float]]:
    """The rules of `custseg.rules.mining.mine(baskets, segments, cfg)`: every scope ('all' and
    each segment with `rules.min_baskets` baskets, supports relative to the scope), the same
    columns and measures, and seconds per scope.

    The baskets go to Spark once; itemsets are found by pyspark.ml's FP-growth per scope
    (`engine.parallelism` scopes at once, so a scope's seconds include waiting for the others);
    rules and measures by the local code. Sending the baskets counts in 'all'.
    """
    t_prep = time.perf_counter()
    spark = session(settings)
    per_basket, scopes = _scopes(baskets, segments, cfg.min_baskets)
    frame = baskets_frame(spark, baskets, per_basket).cache()
    try:
        frame.count()
        prep = time.perf_counter() - t_prep

        def one(scope: tuple[str, int | None, Baskets]) -> tuple[pd.DataFrame, float]:
            name, label, b = scope
            part = frame if label is None else frame.where(F.col("segment") == label)
            t0 = time.perf_counter()
            rules, sets = scope_rules(
                name, b.n_baskets, lambda: _itemsets(part, b, cfg),
                min_confidence=cfg.min_confidence, min_lift=cfg.min_lift,
                prune_redundant=cfg.prune_redundant, constraints=cfg.constraints,
                significance=cfg.significance,
            )  # fmt: skip
            log.info("rules[%s]: %s baskets, %s itemsets, %s rules (Spark FP-growth)", name,
                     f"{b.n_baskets:,}", f"{len(sets):,}", f"{len(rules):,}")  # fmt: skip
            return rules, time.perf_counter() - t0

        done = parallel_map(one, scopes, settings.parallelism, spark)
    finally:
        frame.unpersist()
    seconds = {scope[0]: secs for scope, (_, secs) in zip(scopes, done, strict=True)}
    seconds["all"] += prep
    rules = pd.concat([r for r, _ in done], ignore_index=True)
    rules["segment"] = rules["segment"].astype("str")
    return rules, seconds
