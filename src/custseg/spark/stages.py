"""The pipeline's Spark engine (`engine=spark`): segmenting and rule mining on Spark.

`custseg.pipeline` calls `segment` for stages 3-5 and `mine` for stage 8 and does everything else
(loading, cleaning, profiles, recommendations, report, MLflow) locally on what they return. The
results have the local engine's shapes and meaning, and quality metrics are computed by the
project's own code on the features Spark scaled, so a Spark run logs the same metrics and
artifacts as a local one. What Spark fitted (scaler mean/std, centres or Gaussians) becomes a
scikit-learn Pipeline from `custseg.spark.model`, which scores new customers without Spark.

The cleaned table is converted to Spark once: `segment` caches it and `mine` reuses it when
given the same pandas object (and releases it when done).
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame as SparkDataFrame
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from sklearn.pipeline import Pipeline

from custseg.clustering.algorithms import get_algorithm
from custseg.clustering.metrics import segmentation_metrics
from custseg.features.registry import FeatureError
from custseg.rules.mining import DEFAULTS, scope_rules
from custseg.spark.clustering import MODEL_ALGORITHMS, SparkClustering, fit_model, parallel_map
from custseg.spark.features import SPARK_SETS, build_features, to_pandas_features, to_spark
from custseg.spark.mining import itemsets_from_baskets, spark_baskets
from custseg.spark.model import NearestCentre, SparkGaussianMixture, SparkStandardScaling
from custseg.spark.session import get_session

log = logging.getLogger(__name__)

SCALERS = ("standard",)  # StandardScaler is the one scaler both engines have
# scikit-learn's defaults where the config is silent, so both engines run to the same stopping rule
KMEANS_DEFAULTS = {"n_init": 10, "max_iter": 300, "tol": 1e-4}
GMM_DEFAULTS = {"n_init": 1, "max_iter": 100, "tol": 1e-3}


@dataclass
class SparkSegmentation:
    features: pd.DataFrame  # raw features per customer (index customer_id), local columns/dtypes
    X: np.ndarray  # the scaled features Spark clustered, rows aligned to `features`
    labels: np.ndarray  # int64 segment per row of `features`, as Spark assigned it
    metrics: dict[str, float]  # the local engine's keys, computed on X and labels
    model: Pipeline  # ("transform", "cluster"): Spark's fit as scikit-learn, no pyspark needed
    params: dict[str, Any]  # the algorithm config plus what Spark ran with
    seconds: dict[str, float] = field(default_factory=dict)  # session, load, features, clustering


def check(resolved: Mapping[str, Any]) -> None:
    """Refuse, before Spark starts, what the Spark engine cannot run, naming the config key and
    what works instead."""
    eng = resolved["engine"]
    for key in ("master", "app_name", "conf", "parallelism"):
        if key not in eng:
            raise ValueError(f"engine.{key} is missing; see conf/engine/spark.yaml")
    _parallelism(eng)
    if (resolved.get("tuning") or {}).get("enabled"):
        raise ValueError(
            "tuning=optuna runs on the local engine only: with engine=spark use tuning=none "
            "and set algorithm.n_clusters"
        )
    algo, feats = resolved["algorithm"], resolved["features"]
    name = algo.get("name")
    if name not in MODEL_ALGORITHMS:
        raise ValueError(
            f"algorithm.name: {name!r} does not run on engine=spark; use one of "
            f"{list(MODEL_ALGORITHMS)} (or engine=local for {name!r})"
        )
    if name == "gmm" and algo.get("covariance_type", "full") != "full":
        raise ValueError(
            f"algorithm.covariance_type: {algo['covariance_type']!r} does not run on "
            "engine=spark (Spark's GaussianMixture fits full covariances); use "
            "algorithm.covariance_type=full (or engine=local)"
        )
    if int(algo.get("n_clusters", 0)) < 2:
        raise ValueError(f"algorithm.n_clusters: {algo.get('n_clusters')} must be at least 2")
    if feats.get("name") not in SPARK_SETS:
        raise FeatureError(
            f"features.name: {feats.get('name')!r} has no Spark implementation; use one of "
            f"{list(SPARK_SETS)} with engine=spark (or engine=local)"
        )
    scaler = feats.get("scaler", "standard")
    if scaler not in SCALERS:
        raise FeatureError(
            f"features.scaler: {scaler!r} is not available on engine=spark; use one of "
            f"{list(SCALERS)} (or engine=local)"
        )


def _session(engine: Mapping[str, Any]) -> SparkSession:
    master = str(engine["master"])
    spark = get_session(master, str(engine["app_name"]), dict(engine.get("conf") or {}))
    running = spark.sparkContext.master
    if running != master:  # Spark allows one context per process: say so, do not hide it
        log.warning("Spark session already running on %s; engine.master=%s not used", running,
                    master)  # fmt: skip
    return spark


def _parallelism(engine: Mapping[str, Any]) -> int:
    value = engine.get("parallelism")
    value = 1 if value is None else int(value)
    if value < 1:
        raise ValueError(f"engine.parallelism: {value} must be at least 1")
    return value


@dataclass
class _Loaded:
    table: weakref.ref[pd.DataFrame]  # the pandas table converted (weak: never kept alive)
    session: SparkSession
    sdf: SparkDataFrame


_LOADED: _Loaded | None = None


def release() -> None:
    """Drop the cached Spark copy of the last table (mine does this itself when done)."""
    global _LOADED
    if _LOADED is not None and _LOADED.session.sparkContext._jsc is not None:
        _LOADED.sdf.unpersist()
    _LOADED = None


def _table(spark: SparkSession, tx: pd.DataFrame) -> SparkDataFrame:
    """The Spark copy of `tx`, cached; converted only when it is not the table seen last."""
    global _LOADED
    if _LOADED is not None and _LOADED.table() is tx and _LOADED.session is spark:
        return _LOADED.sdf
    release()
    sdf = to_spark(spark, tx).cache()
    sdf.count()
    _LOADED = _Loaded(weakref.ref(tx), spark, sdf)
    return sdf


def _fit_settings(algo: Mapping[str, Any], n_customers: int) -> tuple[dict[str, Any], float]:
    """n_init, max_iter, tol as configured (scikit-learn's defaults otherwise), and the tol
    Spark gets: GMM's stops on the change of the total log-likelihood, scikit-learn's on the
    per-customer mean, so the configured value is multiplied by the customers."""
    defaults = GMM_DEFAULTS if algo["name"] == "gmm" else KMEANS_DEFAULTS
    out = {k: type(v)(algo[k] if algo.get(k) is not None else v) for k, v in defaults.items()}
    spark_tol = out["tol"] * n_customers if algo["name"] == "gmm" else out["tol"]
    return out, float(spark_tol)


def _model(
    fit: SparkClustering, features: pd.DataFrame, log1p: list[str], algorithm: str
) -> Pipeline:
    transform = SparkStandardScaling(log1p=log1p, mean=fit.mean, std=fit.std).fit(features)
    if algorithm == "gmm":
        cluster: Any = SparkGaussianMixture(fit.weights, fit.means, fit.covariances)
    else:
        cluster = NearestCentre(fit.centres)
    cluster.fit(fit.X)
    return Pipeline([("transform", transform), ("cluster", cluster)])


def segment(tx: pd.DataFrame, resolved: Mapping[str, Any]) -> SparkSegmentation:
    """Features (Spark SQL) and clustering (pyspark.ml) for the cleaned table `tx`.

    The per-customer results (features, scaled features, labels) are collected to the driver:
    every later stage, and the quality metrics, work on them there.
    """
    check(resolved)
    feats_cfg, algo = resolved["features"], dict(resolved["algorithm"])
    seed, seconds = int(resolved["seed"]), {}

    t0 = time.perf_counter()
    spark = _session(resolved["engine"])
    seconds["session"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    sdf = _table(spark, tx)
    seconds["load"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    feats_sdf = build_features(sdf, str(feats_cfg["name"]), feats_cfg).cache()
    try:
        features = to_pandas_features(feats_sdf)
        seconds["features"] = time.perf_counter() - t0
        if len(features) < int(algo["n_clusters"]):
            raise ValueError(
                f"algorithm.n_clusters: {algo['n_clusters']} segments asked for "
                f"{len(features)} customers"
            )
        t0 = time.perf_counter()
        settings, spark_tol = _fit_settings(algo, len(features))
        log1p = list(feats_cfg.get("log1p") or [])
        fit = fit_model(
            feats_sdf, list(features.columns), log1p, str(algo["name"]), int(algo["n_clusters"]),
            seed, n_init=settings["n_init"], max_iter=settings["max_iter"], tol=spark_tol,
            parallelism=_parallelism(resolved["engine"]),
        )  # fmt: skip
        seconds["clustering"] = time.perf_counter() - t0
    finally:
        feats_sdf.unpersist()

    rows = fit.customers.get_indexer(features.index)
    if len(fit.customers) != len(features) or (rows < 0).any():
        raise RuntimeError("Spark's clustered customers differ from its feature rows")
    X, labels = fit.X[rows], fit.labels[rows]
    model = _model(fit, features, log1p, str(algo["name"]))
    again = model.named_steps["cluster"].labels_
    if (again != labels).any():  # the exported rule should repeat Spark's on every customer
        log.warning("the scoring model disagrees with Spark on %d of %d customers",
                    int((again != labels).sum()), len(labels))  # fmt: skip
    metrics_cfg = resolved["metrics"]
    metrics = segmentation_metrics(
        X,
        labels,
        max_exact=int(metrics_cfg["silhouette_max_exact"]),
        sample_size=int(metrics_cfg["silhouette_sample_size"]),
        seed=seed,
    )
    # the algorithm's own measures, by the local code, on the Spark fit (inertia; BIC/AIC)
    metrics |= get_algorithm(algo).metrics(model.named_steps["cluster"], X)
    params = {**algo, **settings}
    params |= {f"spark_{k}": v for k, v in fit.params.items() if k not in settings}
    params["spark_tol"] = spark_tol
    log.info("Spark %s: %d customers, %d restarts, costs %s", algo["name"], len(features),
             len(fit.costs), [round(c, 3) for c in fit.costs])  # fmt: skip
    return SparkSegmentation(features, X, labels.astype("int64"), metrics, model, params, seconds)


def _rules_cfg(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The local `mine`'s defaults where the config has none, plus the basket settings."""
    out = {k: v if cfg.get(k) is None else cfg.get(k) for k, v in DEFAULTS.items()}
    out["max_len"] = None if out["max_len"] is None else int(out["max_len"])
    out["basket"] = str(cfg.get("basket") or "invoice")
    out["item"] = str(cfg.get("item") or "product_id")
    out["min_item_count"] = int(cfg.get("min_item_count") or 1)
    return out


def _scope_rules(
    baskets: SparkDataFrame, n: int, scope: str, cfg: Mapping[str, Any], n_items: int
) -> pd.DataFrame:
    """One scope's rules as custseg.rules.mining makes them, from Spark's itemsets."""
    rules, sets = scope_rules(scope, n, cfg, lambda: itemsets_from_baskets(
        baskets, n, float(cfg["min_support"]), cfg["max_len"], int(cfg["max_itemsets"]), n_items,
    ))  # fmt: skip
    log.info("rules[%s]: %s baskets, %s itemsets, %s rules (Spark FP-growth)", scope, f"{n:,}",
             f"{len(sets):,}", f"{len(rules):,}")  # fmt: skip
    return rules


def mine(
    tx: pd.DataFrame, segment_of: pd.Series, resolved: Mapping[str, Any]
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Same output as custseg.rules.mining.mine(baskets, segment_of, resolved['rules']): the
    rules of every scope ('all' and each segment, per-scope support and min_baskets) with the
    same columns and measures, and seconds per scope.

    Baskets, their owners and the segment join run on Spark, itemsets by pyspark.ml's FP-growth
    per scope (`engine.parallelism` scopes at once, so a scope's seconds include waiting for
    the others); rules and measures by the local code. Building the baskets counts in 'all'.
    """
    cfg = _rules_cfg(resolved["rules"])
    if cfg["item"] not in tx.columns:
        raise ValueError(f"rules.item: column {cfg['item']!r} is absent in this data")
    n_items = int(tx[cfg["item"]].nunique())  # a bound, so the itemset guard can skip its jobs
    t_prep = time.perf_counter()
    spark = _session(resolved["engine"])
    sdf = _table(spark, tx)
    seg = pd.Series(segment_of).dropna()
    seg.index = seg.index.astype("str")
    owners = spark.createDataFrame(
        pd.DataFrame(
            {
                "customer_id": seg.index.to_numpy(dtype=object),
                "segment": seg.to_numpy(dtype="int64"),
            }
        )  # fmt: skip
    )
    baskets = spark_baskets(sdf, cfg["basket"], cfg["item"], cfg["min_item_count"],
                            with_customer=True)  # fmt: skip
    scoped = baskets.join(owners, on="customer_id", how="left").cache()
    try:
        sizes = {
            (None if pd.isna(r["segment"]) else int(r["segment"])): int(r["count"])
            for r in scoped.groupBy("segment").count().collect()
        }
        scopes: list[tuple[str, SparkDataFrame, int]] = [("all", scoped, sum(sizes.values()))]
        for label in sorted(pd.unique(seg).astype(int)):
            n = sizes.get(int(label), 0)
            if n < int(cfg["min_baskets"]):
                log.info("rules[%s]: skipped, %s baskets < rules.min_baskets=%s", label, n,
                         cfg["min_baskets"])  # fmt: skip
                continue
            scopes.append((str(label), scoped.where(F.col("segment") == int(label)), n))
        prep = time.perf_counter() - t_prep

        def one(scope: tuple[str, SparkDataFrame, int]) -> tuple[pd.DataFrame, float]:
            t0 = time.perf_counter()
            rules = _scope_rules(scope[1], scope[2], scope[0], cfg, n_items)
            return rules, time.perf_counter() - t0

        done = parallel_map(one, scopes, _parallelism(resolved["engine"]), spark)
        parts = [rules for rules, _ in done]
        seconds = {scope[0]: secs for scope, (_, secs) in zip(scopes, done, strict=True)}
        seconds["all"] += prep
    finally:
        scoped.unpersist()
        release()
    rules = pd.concat(parts, ignore_index=True)
    rules["segment"] = rules["segment"].astype("str")
    return rules, seconds
