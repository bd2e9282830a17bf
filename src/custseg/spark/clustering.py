"""Segmenting customers with pyspark.ml: log1p, standard scaling, then a Spark clusterer.

Mirrors the local transform (log1p on the skewed columns, then StandardScaler) so the two
engines cluster the same geometry. One difference that does not change the clustering: Spark's
StandardScaler divides by the sample standard deviation (n - 1), scikit-learn's by the
population one (n); it is the same factor on every column.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from functools import reduce
from typing import Any

import pandas as pd
from pyspark.ml.clustering import BisectingKMeans, GaussianMixture, KMeans
from pyspark.ml.evaluation import ClusteringEvaluator
from pyspark.ml.feature import StandardScaler, VectorAssembler
from pyspark.sql import DataFrame as SparkDataFrame
from pyspark.sql import functions as F

from custseg.features.registry import FeatureError

ALGORITHMS = ("kmeans", "bisecting_kmeans", "gmm")


def _estimator(algorithm: str, k: int, seed: int) -> Any:
    common = {"k": int(k), "seed": int(seed), "featuresCol": "scaled", "predictionCol": "label"}
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
    prepared = features_sdf.select("customer_id", *cols).cache()
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
