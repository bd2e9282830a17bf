"""How stable a segmentation is: bootstrap the customers, refit the same algorithm on each
sample, and see whether the segments come back (Hennig 2007, "Cluster-wise assessment of
cluster stability", as R's fpc::clueboot does it).

A segment a refit on slightly different customers does not find again is an artefact of this
sample, not a group to build campaigns on; silhouette cannot tell, since it scores one fit.

Two measures, both on the distinct customers drawn into each bootstrap sample (the customers
both fits have seen, so no `predict` is needed and nothing is extrapolated):

* per segment, Hennig's Jaccard recovery: the largest Jaccard similarity between the segment
  (restricted to the sample) and any cluster of the refit, averaged over rounds. Hennig reads
  >= 0.75 as stable, >= 0.85 as highly stable, <= 0.5 as dissolved;
* overall, the mean adjusted Rand index between the original labels and the refit's labels.

Unassigned customers (-1, HDBSCAN noise) are no segment: they get no Jaccard of their own and
never "recover" a segment. In the ARI they form one more group, so a refit that drops a
segment into noise (or assigns the noise) counts as disagreement.

Above `sample_size` customers the bootstrap runs within one seeded sample of that many
customers, which bounds the cost of a refit whatever the data size.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from multiprocessing.pool import ThreadPool

import numpy as np
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_limits

from custseg.segment.algorithms import UNASSIGNED

STABLE = 0.75  # Hennig's reading of the mean Jaccard recovery of a segment
HIGHLY_STABLE = 0.85
DISSOLVED = 0.5

Refit = Callable[[np.ndarray, int], np.ndarray]  # (rows of X, seed) -> labels of those rows


def verdict(jaccard: float) -> str:
    """Hennig's reading of a segment's mean Jaccard recovery (clusterboot)."""
    if jaccard >= HIGHLY_STABLE:
        return "highly stable"
    if jaccard >= STABLE:
        return "stable"
    return "dissolved" if jaccard <= DISSOLVED else "unstable"


@dataclass
class Stability:
    """Bootstrap stability of one segmentation (segments keyed by their final numbers)."""

    rounds: int
    customers: int  # customers the bootstrap drew from (all, or the seeded sample)
    ari: list[float] = field(default_factory=list)  # one per round
    jaccard: dict[int, list[float]] = field(default_factory=dict)  # segment -> one per round

    @property
    def ari_mean(self) -> float:
        return float(np.mean(self.ari)) if self.ari else float("nan")

    @property
    def jaccard_means(self) -> dict[int, float]:
        return {s: float(np.mean(v)) for s, v in sorted(self.jaccard.items())}

    @property
    def jaccard_min(self) -> float:
        means = self.jaccard_means
        return min(means.values()) if means else float("nan")

    @property
    def jaccard_mean(self) -> float:
        means = self.jaccard_means
        return float(np.mean(list(means.values()))) if means else float("nan")

    def verdict(self, segment: int) -> str:
        """Hennig's reading of one segment's mean Jaccard recovery."""
        return verdict(self.jaccard_means[segment])

    def as_metrics(self) -> dict[str, float]:
        """The run's metrics: stability.ari_mean, .jaccard_min, .jaccard_mean, .jaccard.<s>."""
        return {
            "stability.ari_mean": self.ari_mean,
            "stability.jaccard_min": self.jaccard_min,
            "stability.jaccard_mean": self.jaccard_mean,
            "stability.rounds": float(self.rounds),
            "stability.customers": float(self.customers),
            **{f"stability.jaccard.{s}": v for s, v in self.jaccard_means.items()},
        }


def jaccard_matrix(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Jaccard similarity of every group of `a` with every group of `b` (labels of the same
    customers; -1 is no group): the groups of a, the groups of b, and the matrix."""
    ga, gb = np.unique(a[a != UNASSIGNED]), np.unique(b[b != UNASSIGNED])
    on = (a != UNASSIGNED) & (b != UNASSIGNED)
    both = np.zeros((ga.size, gb.size))  # intersections, counted in one pass
    np.add.at(both, (np.searchsorted(ga, a[on]), np.searchsorted(gb, b[on])), 1.0)
    size_a = np.array([(a == g).sum() for g in ga], dtype=float)
    size_b = np.array([(b == g).sum() for g in gb], dtype=float)
    union = size_a[:, None] + size_b[None, :] - both
    return ga, gb, np.divide(both, union, out=np.zeros_like(both), where=union > 0)


def max_jaccard(original: np.ndarray, refit: np.ndarray) -> dict[int, float]:
    """For each segment of `original` (not -1), the largest Jaccard similarity with any
    cluster of `refit` (not -1) on the same customers; 0 when the refit found none."""
    segs, clusters, jac = jaccard_matrix(original, refit)
    if not clusters.size:
        return {int(s): 0.0 for s in segs}
    return {int(s): float(j) for s, j in zip(segs, jac.max(axis=1), strict=True)}


def bootstrap(
    labels: np.ndarray, refit: Refit, rounds: int, sample_size: int, seed: int, n_jobs: int = 1
) -> Stability:
    """Stability of `labels` (one per customer) by `rounds` bootstrap refits.

    `refit(rows, seed)` fits the same algorithm, as configured, on the customers `rows` (row
    indices, with repeats: a bootstrap sample) and returns a label per row. Deterministic for
    a seed: the sample, every draw and every refit's seed come from it, before any refit runs.
    With `n_jobs` > 1 the refits run that many at a time, each on one core (many small fits
    gain nothing from OpenMP threads, and on a busy machine their spinning costs several
    times the fit); the numbers do not change.
    """
    labels = np.asarray(labels, dtype="int64")
    rng = np.random.default_rng(seed)
    pool = np.arange(labels.size)
    if labels.size > sample_size:
        pool = np.sort(rng.choice(labels.size, sample_size, replace=False))
    draws = [rng.choice(pool, pool.size, replace=True) for _ in range(rounds)]

    def one(r: int) -> tuple[float, dict[int, float]]:
        rows = draws[r]
        with threadpool_limits(limits=1, user_api="openmp") if n_jobs > 1 else nullcontext():
            fitted = np.asarray(refit(rows, seed + r + 1), dtype="int64")
        # each drawn customer once: a repeated row is the same point with the same label
        distinct, first = np.unique(rows, return_index=True)
        mine, theirs = labels[distinct], fitted[first]
        return float(adjusted_rand_score(mine, theirs)), max_jaccard(mine, theirs)

    if n_jobs > 1 and rounds > 1:
        with threadpool_limits(limits=1, user_api="blas"), ThreadPool(n_jobs) as workers:
            results = workers.map(one, range(rounds))
    else:
        results = [one(r) for r in range(rounds)]
    out = Stability(rounds, int(pool.size))
    for s in np.unique(labels[pool][labels[pool] != UNASSIGNED]):
        out.jaccard[int(s)] = []
    for ari, found in results:
        out.ari.append(ari)
        for s, j in found.items():  # a segment not drawn in a round: no value for it
            out.jaccard[s].append(j)
    return out
