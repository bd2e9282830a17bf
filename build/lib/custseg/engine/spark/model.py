"""Spark-fitted segmentation as plain scikit-learn objects, for scoring without Spark.

The customer model keeps the fitted `Pipeline` (transform, cluster) and calls `.predict` on raw
features in a process that may have no JVM and no pyspark (a served MLflow model). So this
module imports neither: it holds the numbers Spark fitted (scaler mean and std, k-means centres,
Gaussian mixture parameters) and repeats Spark's prediction rules in numpy, so a customer gets
the segment Spark would give. The clusterers keep the contract of `custseg.segment.algorithms`
(`labels_`, `predict`, `label()`, `quality(X)`), so a Spark fit is measured by the same code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from custseg.features.base import FeatureError

# Spark's ml.impl.Utils.EPSILON: the machine epsilon, as Spark computes it
EPSILON = float(np.finfo(np.float64).eps)


def _as_matrix(X: Any, columns: np.ndarray | None, n_features: int) -> np.ndarray:
    """Rows x features as float64; a DataFrame is reordered to the fitted column order."""
    if isinstance(X, pd.DataFrame) and columns is not None:
        missing = [c for c in columns if c not in X.columns]
        if missing:
            raise FeatureError(f"features missing for this model: {missing}")
        X = X[list(columns)]
    out = np.asarray(X, dtype="float64")
    if out.ndim != 2 or out.shape[1] != n_features:
        raise ValueError(f"expected {n_features} feature columns, got shape {out.shape}")
    return out


class SparkStandardScaling(TransformerMixin, BaseEstimator):
    """log1p on the skewed columns, then (x - mean) * (1 / std) as Spark's StandardScalerModel.

    `mean` and `std` are the values Spark fitted (std is the sample one, n - 1; a zero std
    scales to 0, as in Spark). Left as None, `fit` computes them the same way from its input.
    Output columns keep the input column order (log1p is applied in place).
    """

    def __init__(
        self,
        log1p: Sequence[str] = (),
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
    ) -> None:
        self.log1p = log1p
        self.mean = mean
        self.std = std

    def fit(self, X: Any, y: Any = None) -> SparkStandardScaling:
        if not isinstance(X, pd.DataFrame):
            raise TypeError("fit needs a DataFrame: the log1p columns are named")
        unknown = [c for c in self.log1p if c not in X.columns]
        if unknown:
            raise FeatureError(f"features.log1p: {unknown} not in the columns {list(X.columns)}")
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = len(X.columns)
        self.log_mask_ = np.isin(self.feature_names_in_, list(self.log1p))
        if self.mean is None or self.std is None:
            logged = self._log(np.asarray(X, dtype="float64"))
            mean, std = logged.mean(axis=0), logged.std(axis=0, ddof=1)
        else:
            mean, std = self.mean, self.std
        self.mean_ = np.asarray(mean, dtype="float64").reshape(self.n_features_in_)
        self.std_ = np.asarray(std, dtype="float64").reshape(self.n_features_in_)
        safe = np.where(self.std_ != 0, self.std_, 1.0)
        self.inv_std_ = np.where(self.std_ != 0, 1.0 / safe, 0.0)
        return self

    def _log(self, X: np.ndarray) -> np.ndarray:
        X = X.copy()
        part = X[:, self.log_mask_]
        if (part < 0).any():
            raise FeatureError(
                "log1p needs non-negative values; clean negative quantities/amounts first "
                "or remove the column from features.log1p"
            )
        X[:, self.log_mask_] = np.log1p(part)
        return X

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "mean_")
        M = self._log(_as_matrix(X, self.feature_names_in_, self.n_features_in_))
        return (M - self.mean_) * self.inv_std_

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "feature_names_in_")
        return self.feature_names_in_.copy()


class NearestCentre(ClusterMixin, BaseEstimator):
    """Spark's KMeansModel.predict: the closest centre by Euclidean distance, first on ties.

    `cluster_centers` are the centres Spark fitted; `fit` only checks them, labels X and
    measures its inertia.
    """

    def __init__(self, cluster_centers: Any = None) -> None:
        self.cluster_centers = cluster_centers

    def fit(self, X: Any, y: Any = None) -> NearestCentre:
        centres = np.asarray(self.cluster_centers, dtype="float64")
        if centres.ndim != 2 or len(centres) == 0:
            raise ValueError("cluster_centers must be a non-empty (k, n_features) array")
        self.cluster_centers_ = centres
        self.n_features_in_ = centres.shape[1]
        self.labels_ = self.predict(X)
        self.inertia_ = self.inertia(X, self.labels_)
        return self

    def distances(self, X: Any) -> np.ndarray:
        """Squared distance of every row to every centre (rows x k), computed per centre
        as sum((x - c)^2) rather than by the norm expansion, which loses digits near ties."""
        check_is_fitted(self, "cluster_centers_")
        M = _as_matrix(X, None, self.n_features_in_)
        return np.stack([((M - c) ** 2).sum(axis=1) for c in self.cluster_centers_], axis=1)

    def predict(self, X: Any) -> np.ndarray:
        return np.argmin(self.distances(X), axis=1).astype("int64")

    def inertia(self, X: Any, labels: np.ndarray) -> float:
        """Within-cluster sum of squares of `labels` (scikit-learn's inertia_)."""
        d = self.distances(X)
        return float(d[np.arange(len(d)), np.asarray(labels, dtype="int64")].sum())

    def label(self) -> str:
        check_is_fitted(self, "cluster_centers_")
        return f"kmeans-k{len(self.cluster_centers_)}"

    def quality(self, X: Any) -> dict[str, float]:
        """k-means' own measure, as KMeansSegmenter reports it."""
        return {"inertia": self.inertia(X, self.predict(X))}


class SparkGaussianMixture(ClusterMixin, BaseEstimator):
    """Spark's GaussianMixtureModel.predict with the weights, means and full covariances
    Spark fitted: argmax of EPSILON + weight * pdf, the pdf on the (pseudo-)inverse from an
    eigendecomposition with Spark's tolerance, so singular covariances behave as in Spark."""

    def __init__(self, weights: Any = None, means: Any = None, covariances: Any = None) -> None:
        self.weights = weights
        self.means = means
        self.covariances = covariances

    def fit(self, X: Any, y: Any = None) -> SparkGaussianMixture:
        self.weights_ = np.asarray(self.weights, dtype="float64")
        self.means_ = np.asarray(self.means, dtype="float64")
        self.covariances_ = np.asarray(self.covariances, dtype="float64")
        k, d = self.means_.shape
        if self.weights_.shape != (k,) or self.covariances_.shape != (k, d, d):
            raise ValueError("weights (k,), means (k, d) and covariances (k, d, d) must agree")
        self.n_features_in_ = d
        roots, consts = [], []
        for cov in self.covariances_:
            eig, vecs = np.linalg.eigh(cov)
            tol = EPSILON * eig.max() * len(eig)
            keep = eig > tol
            if not keep.any():
                raise ValueError("a covariance matrix has no non-zero eigenvalues")
            inv_root = np.where(keep, 1.0 / np.sqrt(np.where(keep, eig, 1.0)), 0.0)
            roots.append(inv_root[:, None] * vecs.T)  # D^-1/2 U^T
            consts.append(-0.5 * (d * np.log(2.0 * np.pi) + np.log(eig[keep]).sum()))
        self.root_inv_ = np.stack(roots)
        self.log_const_ = np.asarray(consts)
        self.labels_ = self.predict(X)
        return self

    def _log_pdf(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "root_inv_")
        M = _as_matrix(X, None, self.n_features_in_)
        out = np.empty((len(M), len(self.weights_)))
        for j, (root, mu, const) in enumerate(
            zip(self.root_inv_, self.means_, self.log_const_, strict=True)
        ):
            v = (M - mu) @ root.T
            out[:, j] = const - 0.5 * (v * v).sum(axis=1)
        return out

    def predict_proba(self, X: Any) -> np.ndarray:
        p = EPSILON + self.weights_ * np.exp(self._log_pdf(X))
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        return np.argmax(EPSILON + self.weights_ * np.exp(self._log_pdf(X)), axis=1).astype("int64")

    def score_samples(self, X: Any) -> np.ndarray:
        """Log-likelihood of each row under the mixture (no EPSILON: the exact density)."""
        w = self._log_pdf(X) + np.log(self.weights_)
        top = w.max(axis=1, keepdims=True)
        return (top + np.log(np.exp(w - top).sum(axis=1, keepdims=True)))[:, 0]

    def _n_parameters(self) -> int:
        k, d = self.means_.shape
        return int(k * d + k * d * (d + 1) / 2 + k - 1)  # full covariances, as scikit-learn

    def bic(self, X: Any) -> float:
        """Bayesian information criterion as scikit-learn defines it (lower is better)."""
        n = len(np.asarray(X))
        return float(-2 * self.score_samples(X).sum() + self._n_parameters() * np.log(n))

    def aic(self, X: Any) -> float:
        return float(-2 * self.score_samples(X).sum() + 2 * self._n_parameters())

    def label(self) -> str:
        check_is_fitted(self, "weights_")
        return f"gmm-full-k{len(self.weights_)}"

    def quality(self, X: Any) -> dict[str, float]:
        """The mixture's own measures, as GMMSegmenter reports them."""
        return {"bic": self.bic(X), "aic": self.aic(X)}
