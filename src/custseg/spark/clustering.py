"""Segmenting customers with pyspark.ml: log1p, standard scaling, then a Spark clusterer.

Mirrors the local transform (log1p on the skewed columns, then StandardScaler) so the two
engines cluster the same geometry. One difference that does not change the clustering: Spark's
StandardScaler divides by the sample standard deviation (n - 1), scikit-learn's by the
population one (n); it is the same factor on every column.

`segment` gives labels and Spark's own silhouette; `fit_model` is what the pipeline uses: it also
brings back the scaled features, the scaler's mean and std and the fitted centres or Gaussians,
so the segmentation can be scored by `custseg.spark.model` without Spark.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import reduce
from multiprocessing.pool import ThreadPool
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from pyspark.ml.clustering import BisectingKMeans, GaussianMixture, KMeans
from pyspark.ml.evaluation import ClusteringEvaluator
from pyspark.ml.feature import StandardScaler, VectorAssembler
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame as SparkDataFrame
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.util import inheritable_thread_target

from custseg.features.registry import FeatureError

T = TypeVar("T")
R = TypeVar("R")

ALGORITHMS = ("kmeans", "bisecting_kmeans", "gmm")
# what `fit_model` fits: algorithms whose Spark prediction rule custseg.spark.model repeats
# (bisecting k-means predicts by walking its tree, not by the nearest leaf centre)
MODEL_ALGORITHMS = ("kmeans", "gmm")


def _estimator(algorithm: str, k: int, seed: int, **extra: Any) -> Any:
    common = {"k": int(k), "seed": int(seed), "featuresCol": "scaled", "predictionCol": "label"}
    common |= {key: value for key, value in extra.items() if value is not None}
    if algorithm == "kmeans":
        return KMeans(**common)
    if algorithm == "bisecting_kmeans":
        return BisectingKMeans(**common)
    if algorithm == "gmm":
        return GaussianMixture(**common, probabilityCol="probability")
    raise ValueError(f"algorithm.name: {algorithm!r} has no Spark engine; one of {ALGORITHMS}")


def _model_metrics(algorithm: str, model: Any) -> dict[str, float]:
    if algorithm == "gmm":
        return {"log_likelihood": float(model.summary.logLikelihood)}
    # KMeans' and BisectingKMeans' cost is the within-cluster sum of squares (sklearn's inertia)
    return {"inertia": float(model.summary.trainingCost)}


def _logged(
    features_sdf: SparkDataFrame, feature_cols: Sequence[str], log1p_cols: Sequence[str]
) -> SparkDataFrame:
    """customer_id and the feature columns, log1p applied in place to `log1p_cols`."""
    unknown = [c for c in log1p_cols if c not in feature_cols]
    if unknown:
        raise FeatureError(f"features.log1p: {unknown} not in the feature columns {feature_cols}")
    logged = set(log1p_cols)
    if logged:
        negative = features_sdf.where(reduce(operator.or_, [F.col(c) < 0 for c in logged])).limit(1)
        if negative.count():
            raise FeatureError(
                "log1p needs non-negative values; clean negative quantities/amounts first "
                "or remove the column from features.log1p"
            )
    cols = [F.log1p(c).alias(c) if c in logged else F.col(c) for c in feature_cols]
    return features_sdf.select("customer_id", *cols)


def segment(
    features_sdf: SparkDataFrame,
    feature_cols: Sequence[str],
    log1p_cols: Sequence[str],
    algorithm: str,
    k: int,
    seed: int,
) -> tuple[pd.Series, dict[str, float]]:
    """Cluster customers; return labels (int64, indexed by customer_id, sorted) and metrics:
    silhouette (squared euclidean, on the scaled features) plus the algorithm's cost."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm.name: {algorithm!r} has no Spark engine; one of {ALGORITHMS}")
    prepared = _logged(features_sdf, feature_cols, log1p_cols).cache()
    try:
        vec = VectorAssembler(inputCols=list(feature_cols), outputCol="raw").transform(prepared)
        # Bisecting k-means splits a cluster by nudging its centre by 1e-4 of the centre's norm;
        # at a centre of ~1e-16 (mean-centred data) both children coincide and, depending on
        # float summation order, every point can fall on one side, leaving one cluster. Distances
        # do not change under translation, so it gets the data scaled but not centred.
        center = algorithm != "bisecting_kmeans"
        scaler = StandardScaler(inputCol="raw", outputCol="scaled", withMean=center, withStd=True)
        scaled = scaler.fit(vec).transform(vec).select("customer_id", "scaled").cache()
        model = _estimator(algorithm, k, seed).fit(scaled)
        pred = model.transform(scaled).select("customer_id", "scaled", "label").cache()
        silhouette = ClusteringEvaluator(
            featuresCol="scaled",
            predictionCol="label",
            metricName="silhouette",
            distanceMeasure="squaredEuclidean",
        ).evaluate(pred)
        pdf = pred.select("customer_id", "label").toPandas()
        metrics = {"silhouette": float(silhouette), **_model_metrics(algorithm, model)}
        for frame in (pred, scaled):
            frame.unpersist()
    finally:
        prepared.unpersist()
    labels = pd.Series(
        pdf["label"].to_numpy(dtype="int64"),
        index=pd.Index(pdf["customer_id"].astype("str"), name="customer_id"),
        name="segment",
    ).sort_index()
    return labels, metrics


@dataclass
class SparkClustering:
    """One Spark fit brought back to the driver: enough to score customers without Spark."""

    customers: pd.Index  # customer_id (str) per row of X and labels, sorted
    X: np.ndarray  # the scaled features Spark clustered (log1p, then mean/std)
    labels: np.ndarray  # int64 segment per row, as Spark's model.transform gave it
    mean: np.ndarray  # the scaler's mean (after log1p), per feature column
    std: np.ndarray  # the scaler's sample standard deviation, per feature column
    centres: np.ndarray | None = None  # kmeans: (k, d) cluster centres
    weights: np.ndarray | None = None  # gmm: (k,) mixing weights
    means: np.ndarray | None = None  # gmm: (k, d) component means
    covariances: np.ndarray | None = None  # gmm: (k, d, d) full covariances
    costs: list[float] = field(default_factory=list)  # per restart: k-means cost or GMM log-lik
    chosen: int = 0  # the restart kept (lowest cost, highest log-likelihood)
    params: dict[str, Any] = field(default_factory=dict)  # what Spark ran with


def parallel_map(
    fn: Callable[[T], R], items: Sequence[T], parallelism: int, spark: SparkSession
) -> list[R]:
    """fn over items, up to `parallelism` at once, results in order. Spark runs jobs from several
    driver threads side by side (pyspark's CrossValidator fits this way), which hides the fixed
    cost of each small job; results do not depend on the thread count, and a failure is the
    first in `items` order, as a loop would raise it."""
    if int(parallelism) <= 1 or len(items) <= 1:
        return [fn(x) for x in items]

    def guarded(x: T) -> tuple[bool, Any]:
        try:
            return True, fn(x)
        except Exception as exc:  # re-raised below, in order
            return False, exc

    with ThreadPool(min(int(parallelism), len(items))) as pool:
        done = pool.map(inheritable_thread_target(spark)(guarded), items)
    for ok, value in done:
        if not ok:
            raise value
    return [value for _, value in done]


def _gmm_parameters(model: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    weights = np.asarray(model.weights, dtype="float64")
    means = np.stack([g.mean.toArray() for g in model.gaussians])
    covs = np.stack([g.cov.toArray() for g in model.gaussians])
    return weights, means, covs


def fit_model(
    features_sdf: SparkDataFrame,
    feature_cols: Sequence[str],
    log1p_cols: Sequence[str],
    algorithm: str,
    k: int,
    seed: int,
    *,
    n_init: int = 1,
    max_iter: int | None = None,
    tol: float | None = None,
    parallelism: int = 1,
) -> SparkClustering:
    """Scale and cluster on Spark; `n_init` restarts (seeds seed, seed + 1, ...) keep the best
    (k-means: lowest cost; GMM: highest log-likelihood), as scikit-learn's n_init does, fitted
    `parallelism` at a time. max_iter / tol None keep Spark's defaults. Per-customer results
    are collected to the driver.
    """
    if algorithm not in MODEL_ALGORITHMS:
        raise ValueError(
            f"algorithm.name: {algorithm!r} cannot be fitted as a scoring model on Spark; "
            f"one of {list(MODEL_ALGORITHMS)}"
        )
    if int(n_init) < 1:
        raise ValueError(f"algorithm.n_init: {n_init} must be at least 1")
    cols = list(feature_cols)
    prepared = _logged(features_sdf, cols, log1p_cols)
    vec = VectorAssembler(inputCols=cols, outputCol="raw").transform(prepared)
    scaler = StandardScaler(inputCol="raw", outputCol="scaled", withMean=True, withStd=True)
    scaler_model = scaler.fit(vec)
    # customers are few next to transaction lines: one partition per core, not per shuffle slot
    spark = features_sdf.sparkSession
    parts = spark.sparkContext.defaultParallelism
    scaled = scaler_model.transform(vec).select("customer_id", "scaled").coalesce(parts).cache()
    try:
        extra: dict[str, Any] = {"maxIter": max_iter, "tol": tol}

        def one(i: int) -> tuple[Any, float]:
            model = _estimator(algorithm, k, int(seed) + i, **extra).fit(scaled)
            summary = model.summary
            cost = summary.logLikelihood if algorithm == "gmm" else summary.trainingCost
            return model, float(cost)

        fits = parallel_map(one, list(range(int(n_init))), parallelism, spark)
        models, costs = [m for m, _ in fits], [c for _, c in fits]
        chosen = int(np.argmax(costs) if algorithm == "gmm" else np.argmin(costs))
        best = models[chosen]
        values = vector_to_array("scaled")
        pdf = (
            best.transform(scaled)
            .select(
                "customer_id",
                *[values[j].alias(f"x{j}") for j in range(len(cols))],
                F.col("label").cast("long").alias("label"),
            )
            .toPandas()
        )
        spark_params = {
            "max_iter": int(best.getMaxIter()),
            "tol": float(best.getTol()),
            "seed": int(best.getSeed()),
        }
        if algorithm == "kmeans":
            spark_params |= {"init": str(best.getInitMode()), "init_steps": best.getInitSteps()}
    finally:
        scaled.unpersist()
    pdf["customer_id"] = pdf["customer_id"].astype("str")
    pdf = pdf.sort_values("customer_id", kind="stable")
    out = SparkClustering(
        customers=pd.Index(pdf["customer_id"], name="customer_id"),
        X=pdf[[f"x{j}" for j in range(len(cols))]].to_numpy(dtype="float64"),
        labels=pdf["label"].to_numpy(dtype="int64"),
        mean=scaler_model.mean.toArray().astype("float64"),
        std=scaler_model.std.toArray().astype("float64"),
        costs=costs,
        chosen=chosen,
        params={"n_init": int(n_init), "parallelism": int(parallelism), **spark_params},
    )
    if algorithm == "kmeans":
        out.centres = np.stack([np.asarray(c, dtype="float64") for c in best.clusterCenters()])
    else:
        out.weights, out.means, out.covariances = _gmm_parameters(best)
    return out
