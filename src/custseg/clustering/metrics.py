"""Internal quality metrics of a segmentation.

Silhouette is O(n^2) in memory and time, so above a threshold it is computed on a stratified
sample (every segment keeps its share) and the sample size is reported beside it. Unassigned
customers (label -1, HDBSCAN noise) are reported as `noise_share` and left out of the scores.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

from custseg.clustering.algorithms import UNASSIGNED


def stratified_sample(labels: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Row indices, about `size` of them, with each label keeping its share (at least 2 each)."""
    rng = np.random.default_rng(seed)
    n = labels.size
    idx = []
    for lab in np.unique(labels):
        rows = np.flatnonzero(labels == lab)
        take = min(rows.size, max(2, round(size * rows.size / n)))
        idx.append(rng.choice(rows, take, replace=False))
    return np.sort(np.concatenate(idx))


def segmentation_metrics(
    X: np.ndarray,
    labels: np.ndarray,
    *,
    max_exact: int = 20_000,
    sample_size: int = 10_000,
    seed: int = 0,
) -> dict[str, float]:
    X = np.asarray(X, dtype="float64")
    labels = np.asarray(labels)
    n_all = labels.size
    assigned = labels != UNASSIGNED
    X, labels = X[assigned], labels[assigned]
    counts = np.unique(labels, return_counts=True)[1]
    out: dict[str, float] = {
        "n_customers": float(n_all),
        "n_segments": float(counts.size),
        "noise_share": float(1 - assigned.mean()),
        "min_segment_share": float(counts.min() / n_all) if counts.size else 0.0,
        "max_segment_share": float(counts.max() / n_all) if counts.size else 0.0,
    }
    if counts.size < 2 or counts.size >= labels.size:
        return out  # the scores below are undefined for one segment or all singletons
    if labels.size > max_exact:
        rows = stratified_sample(labels, sample_size, seed)
        out["silhouette"] = float(silhouette_score(X[rows], labels[rows]))
        out["silhouette_sample_size"] = float(rows.size)
    else:
        out["silhouette"] = float(silhouette_score(X, labels))
        out["silhouette_sample_size"] = float(labels.size)
    out["davies_bouldin"] = float(davies_bouldin_score(X, labels))
    out["calinski_harabasz"] = float(calinski_harabasz_score(X, labels))
    return out
