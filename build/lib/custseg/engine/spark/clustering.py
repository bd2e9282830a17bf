"""Segmenting customers with pyspark.ml: log1p, standard scaling, then k-means or a Gaussian
mixture, restarted `segment.n_init` times as scikit-learn does.

Mirrors the local transform (log1p on the skewed columns, then StandardScaler) so the two
engines cluster the same geometry. One difference that does not change the clustering: Spark's
StandardScaler divides by the sample standard deviation (n - 1), scikit-learn's by the
population one (n); it is the same factor on every column.

`fit_model` brings back the scaled features, the labels, the scaler's mean and std and the
fitted centres or Gaussians, so the segmentation can be scored by
`custseg.engine.spark.model` without Spark.
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
from pyspark.ml.clustering import GaussianMixture, KMeans
from pyspark.ml.feature import StandardScaler, VectorAssembler
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame as SparkDataFrame
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.util import inheritable_thread_target

from custseg.config.schema import GMM
from custseg.config.schema import KMeans as KMeansBlock
from custseg.features.base import FeatureError

T = TypeVar("T")
R = TypeVar("R")


def _estimator(algorithm: KMeansBlock | GMM, seed: int, tol: float) -> Any:
    common = {"k": algorithm.n_clusters, "seed": int(seed), "maxIter": algorithm.max_iter,
              "tol": float(tol), "featuresCol": "scaled", "predictionCol": "label"}  # fmt: skip
    if isinstance(algorithm, GMM):
        return GaussianMixture(**common, probabilityCol="probability")
    return KMeans(**common)


def spark_tol(algorithm: KMeansBlock | GMM, n_customers: int) -> float:
    """The tolerance Spark gets for `segment.tol`. Spark's GMM stops on the change of the total
    log-likelihood, scikit-learn's on the per-customer mean: the configured value times the
    customers. k-means takes it as it is."""
    if isinstance(algorithm, GMM):
        return float(algorithm.tol) * n_customers
    return float(algorithm.tol)


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


def fit_model(
    features_sdf: SparkDataFrame,
    feature_cols: Sequence[str],
    log1p_cols: Sequence[str],
    algorithm: KMeansBlock | GMM,
    seed: int,
    *,
    n_customers: int,
    parallelism: int,
) -> SparkClustering:
    """Scale and cluster on Spark as the `segment` block says: `n_init` restarts (seeds seed,
    seed + 1, ...) keep the best (k-means: lowest cost; GMM: highest log-likelihood), fitted
    `parallelism` at a time, each with `max_iter` and `tol` (see `spark_tol`). Per-customer
    results are collected to the driver.
    """
    cols = list(feature_cols)
    prepared = _logged(features_sdf, cols, log1p_cols)
    vec = VectorAssembler(inputCols=cols, outputCol="raw").transform(prepared)
    scaler = StandardScaler(inputCol="raw", outputCol="scaled", withMean=True, withStd=True)
    scaler_model = scaler.fit(vec)
    # customers are few next to transaction lines: one partition per core, not per shuffle slot
    spark = features_sdf.sparkSession
    parts = spark.sparkContext.defaultParallelism
    scaled = scaler_model.transform(vec).select("customer_id", "scaled").coalesce(parts).cache()
    gmm = isinstance(algorithm, GMM)
    tol = spark_tol(algorithm, n_customers)
    try:

        def one(i: int) -> tuple[Any, float]:
            model = _estimator(algorithm, int(seed) + i, tol).fit(scaled)
            summary = model.summary
            return model, float(summary.logLikelihood if gmm else summary.trainingCost)

        fits = parallel_map(one, list(range(algorithm.n_init)), parallelism, spark)
        models, costs = [m for m, _ in fits], [c for _, c in fits]
        chosen = int(np.argmax(costs) if gmm else np.argmin(costs))
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
        params = {"n_init": algorithm.n_init, "parallelism": int(parallelism),
                  "max_iter": int(best.getMaxIter()), "tol": float(best.getTol()),
                  "seed": int(best.getSeed())}  # fmt: skip
        if not gmm:
            params |= {"init": str(best.getInitMode()), "init_steps": best.getInitSteps()}
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
        params=params,
    )
    if gmm:
        out.weights = np.asarray(best.weights, dtype="float64")
        out.means = np.stack([g.mean.toArray() for g in best.gaussians])
        out.covariances = np.stack([g.cov.toArray() for g in best.gaussians])
    else:
        out.centres = np.stack([np.asarray(c, dtype="float64") for c in best.clusterCenters()])
    return out
