"""Internal quality metrics of a segmentation.

Silhouette is O(n^2) in memory and time, so above a threshold it is computed on a stratified
sample (every segment keeps its share) and the sample size is reported beside it. Unassigned
customers (label -1, HDBSCAN noise) are reported as `noise_share` and left out of the scores.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

from custseg.segment.algorithms import UNASSIGNED

BLOCK_BYTES = 2**20  # one block of the distance matrix in silhouette_values: fits a core's L2


def _distances(a: np.ndarray, b: np.ndarray, sq_a: np.ndarray, sq_b: np.ndarray) -> np.ndarray:
    """Euclidean distances of two row blocks, the operations of sklearn's euclidean_distances
    in its order (so the same numbers) without its per-call input checks, which cost more than
    the arithmetic on a cache-sized block."""
    d = a @ b.T
    d *= -2.0
    d += sq_a[:, None]
    d += sq_b[None, :]
    np.maximum(d, 0.0, out=d)
    return np.sqrt(d, out=d)


def silhouette_values(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per-customer silhouette (Euclidean), exactly as sklearn.metrics.silhouette_samples
    defines it, several times faster on one core (bench/bench_silhouette.py): a tuning study
    computes it once per trial, where it was most of a trial's time.

    The distance matrix is visited in square blocks, each pair of row blocks once (distances
    are symmetric: half the work); a block times the customers x segments indicator matrix
    (one BLAS product each way) adds every customer's summed distance to every segment.
    Singleton segments score 0, as in scikit-learn.
    """
    X = np.asarray(X, dtype=np.float64)
    _, codes = np.unique(np.asarray(labels), return_inverse=True)
    codes = codes.ravel()
    n, k = codes.size, int(codes.max(initial=-1)) + 1
    if not 2 <= k < n:
        raise ValueError(f"silhouette needs 2 to n_samples - 1 segments, got {k} for {n}")
    sizes = np.bincount(codes, minlength=k).astype(np.float64)
    member = np.zeros((n, k))
    member[np.arange(n), codes] = 1.0
    sq = np.einsum("ij,ij->i", X, X)
    sums = np.zeros((n, k))
    step = max(1, int((BLOCK_BYTES / 8) ** 0.5))
    for lo in range(0, n, step):
        hi = min(lo + step, n)
        for lo2 in range(lo, n, step):
            hi2 = min(lo2 + step, n)
            d = _distances(X[lo:hi], X[lo2:hi2], sq[lo:hi], sq[lo2:hi2])
            if lo2 == lo:  # a block on the diagonal: its own distances are 0, as in sklearn
                np.fill_diagonal(d, 0.0)
                sums[lo:hi] += d @ member[lo:hi]
                continue
            sums[lo:hi] += d @ member[lo2:hi2]
            sums[lo2:hi2] += d.T @ member[lo:hi]
    rows = np.arange(n)
    intra = sums[rows, codes] / np.maximum(sizes[codes] - 1, 1)
    sums /= sizes
    sums[rows, codes] = np.inf
    inter = sums.min(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (inter - intra) / np.maximum(intra, inter)
    out[sizes[codes] == 1] = 0.0
    return np.nan_to_num(out)


def silhouette(X: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette over all customers (sklearn.metrics.silhouette_score, exact)."""
    return float(silhouette_values(X, labels).mean())


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
        out["silhouette"] = silhouette(X[rows], labels[rows])
        out["silhouette_sample_size"] = float(rows.size)
    else:
        out["silhouette"] = silhouette(X, labels)
        out["silhouette_sample_size"] = float(labels.size)
    out["davies_bouldin"] = float(davies_bouldin_score(X, labels))
    out["calinski_harabasz"] = float(calinski_harabasz_score(X, labels))
    return out
