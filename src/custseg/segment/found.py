"""What a fit found against what was asked: the check on the segmentation a run keeps.

Fewer than two segments is an error (`ClusteringError`): one segment is every customer, so its
persona, its rules and its suggested actions would describe the whole shop while the report
still looks like a segmentation. A marketing user acting on it would target everyone as one
"segment"; stopping with what to change (features that tell customers apart, other algorithm
parameters) costs them less than a run that looks fine and says nothing.

Fewer segments than `segment.n_clusters` asked for, but at least two, is a warning
(`custseg.notices`: tag `warning.segment.fewer_segments` and a line in the report): k-means
cannot split customers whose features are identical, and a mixture may leave a component
empty. The segments found are real and usable, so the run goes on and says which number to
set so the next run asks for what the data holds.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from custseg import notices
from custseg.config.schema import GMM, HDBSCAN, KMeans, Segment
from custseg.segment.algorithms import ClusteringError


def distinct_profiles(X: np.ndarray) -> int:
    """How many different feature rows the customers have: k segments need k of them."""
    X = np.asarray(X, dtype="float64")
    return int(np.unique(X, axis=0).shape[0]) if X.size else 0


def alike_customers(n: int, distinct: int, features: str | None = None) -> str:
    """The sentence for customers the features cannot tell apart."""
    chosen = f"features={features}" if features else "the chosen features"
    return (f"the {n:,} customers have only {distinct} distinct feature profile(s) under "
            f"{chosen}, so there is nothing to segment; use a feature set that tells them "
            "apart (features=rfm, basket or visits) or more varied data")  # fmt: skip


def _asked(algorithm: Segment) -> str:
    if isinstance(algorithm, HDBSCAN):
        return (f"segment=hdbscan with segment.min_cluster_size={algorithm.min_cluster_size} "
                f"and segment.min_samples={algorithm.min_samples}")  # fmt: skip
    return f"segment={algorithm.name} with segment.n_clusters={algorithm.n_clusters}"


def _too_few(X: np.ndarray, algorithm: Segment, found: int, noise: float) -> ClusteringError:
    distinct = distinct_profiles(X)
    if distinct < 2:
        why = alike_customers(len(X), distinct)
    elif isinstance(algorithm, HDBSCAN):
        why = (f"lower segment.min_cluster_size (e.g. to "
               f"{max(2, algorithm.min_cluster_size // 4)}) or segment.min_samples so smaller "
               "groups count as segments, or use segment=kmeans")  # fmt: skip
        if found == 1:
            why = f"{noise:.0%} of the customers are unassigned; {why}"
    else:
        why = "set segment.n_clusters to another number or try segment=kmeans"
    what = ("left every customer unassigned: no segment at all" if found == 0 else
            "found 1 segment: one segment is every customer, not a segmentation")  # fmt: skip
    return ClusteringError(f"{_asked(algorithm)} {what}; {why}")


def check_found(X: np.ndarray, algorithm: Segment, metrics: Mapping[str, float]) -> None:
    """Raise for fewer than two segments; warn when k-means or a mixture found fewer than
    `segment.n_clusters` (see the module docstring for why)."""
    found = int(metrics["n_segments"])
    if found < 2:
        raise _too_few(X, algorithm, found, float(metrics.get("noise_share", 0.0)))
    if isinstance(algorithm, KMeans | GMM) and found < algorithm.n_clusters:
        distinct = distinct_profiles(X)
        why = (
            f"the customers have only {distinct} distinct feature profiles"
            if distinct < algorithm.n_clusters
            else "a component took no customer"
        )
        notices.warn(
            "segment.fewer_segments",
            f"segment.n_clusters={algorithm.n_clusters} asked for {algorithm.n_clusters} "
            f"segments but {algorithm.name} found {found} ({why}); set segment.n_clusters="
            f"{found} so the run asks for what the data holds, or use features that tell the "
            "customers apart",
        )
