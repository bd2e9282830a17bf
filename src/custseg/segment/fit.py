"""Fit one clustering configuration and score it: what every tuning trial, the final fit and
the drift check run, so a trial's numbers are the final model's numbers."""

from __future__ import annotations

from typing import Any

import numpy as np

from custseg.config.schema import GMM, KMeans, Metrics, Segment
from custseg.segment.algorithms import build, fit_labels
from custseg.segment.found import check_found
from custseg.segment.metrics import segmentation_metrics
from custseg.segment.stability import Stability, bootstrap


def fit_scored(
    X: np.ndarray, algorithm: Segment, seed: int, metrics: Metrics
) -> tuple[dict[str, float], np.ndarray, Any]:
    """Fit `algorithm` (a `segment` config block) on X; return its metrics, labels and the
    fitted estimator, whatever it found: a tuning trial with one segment is a poor trial,
    not an error (the study judges it)."""
    est = build(algorithm.target, algorithm.params(), seed)
    labels = fit_labels(est, X)
    scores = segmentation_metrics(
        X,
        labels,
        max_exact=metrics.silhouette_max_exact,
        sample_size=metrics.silhouette_sample_size,
        seed=seed,
    )
    return scores | est.quality(X), labels, est


def evaluate(
    X: np.ndarray, algorithm: Segment, seed: int, metrics: Metrics
) -> tuple[dict[str, float], np.ndarray, Any]:
    """`fit_scored` for the model a run keeps: fewer than two segments is an error, fewer
    than asked a warning (`custseg.segment.found`)."""
    fit = fit_scored(X, algorithm, seed, metrics)
    check_found(X, algorithm, fit[0])
    return fit


def stability(
    X: np.ndarray, labels: np.ndarray, algorithm: Segment, seed: int, rounds: int,
    sample_size: int, n_jobs: int = 1,
) -> Stability:  # fmt: skip
    """Bootstrap stability of `labels`, refitting `algorithm` as configured on each sample
    (`custseg.segment.stability`): the same measure for a tuning trial and the final fit.

    `n_jobs` refits at a time for k-means and mixtures, whose fits run in compiled code
    without the GIL; HDBSCAN's refits run one at a time (its tree building holds the GIL and
    brings its own workers: threads made a study slower, not faster)."""

    def refit(rows: np.ndarray, round_seed: int) -> np.ndarray:
        return fit_labels(build(algorithm.target, algorithm.params(), round_seed), X[rows])

    at_once = n_jobs if isinstance(algorithm, KMeans | GMM) else 1
    return bootstrap(labels, refit, rounds, sample_size, seed, at_once)
