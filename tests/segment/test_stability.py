"""Bootstrap stability (Hennig's Jaccard recovery, mean ARI): real segments come back, split
noise does not; seeded, capped for large data, and noise (-1) is no segment."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from custseg.segment.algorithms import UNASSIGNED
from custseg.segment.fit import evaluate, stability
from custseg.segment.stability import bootstrap, jaccard_matrix, max_jaccard
from tests.conftest import make_config

CONFIG = make_config("segment.n_init=3")


def _kmeans(k: int):
    return CONFIG.segment.model_copy(update={"n_clusters": k})


def test_jaccard_by_hand():
    a = np.array([0, 0, 0, 1, 1, -1])
    b = np.array([5, 5, 7, 7, 7, 7])
    groups_a, groups_b, jac = jaccard_matrix(a, b)
    assert groups_a.tolist() == [0, 1] and groups_b.tolist() == [5, 7]
    # {0,1,2} vs {0,1}: 2/3; {0,1,2} vs {2,3,4,5}: 1/6 (customer 5, noise in a, counts in b)
    assert jac[0].tolist() == pytest.approx([2 / 3, 1 / 6])
    assert jac[1].tolist() == pytest.approx([0.0, 2 / 4])  # {3,4} vs {2,3,4,5}
    assert max_jaccard(a, b) == pytest.approx({0: 2 / 3, 1: 0.5})
    assert max_jaccard(a, np.full(6, UNASSIGNED)) == {0: 0.0, 1: 0.0}  # all noise: none found


def test_clear_segments_are_stable_and_noise_split_in_six_is_not():
    X, _ = make_blobs(600, centers=4, cluster_std=0.6, random_state=1)
    _, labels, _ = evaluate(X, _kmeans(4), 0, CONFIG.metrics)
    clear = stability(X, labels, _kmeans(4), seed=0, rounds=10, sample_size=10_000)
    assert clear.ari_mean > 0.99 and clear.jaccard_min > 0.95
    assert {clear.verdict(s) for s in clear.jaccard_means} == {"highly stable"}
    assert len(clear.ari) == 10 and all(len(v) == 10 for v in clear.jaccard.values())

    noise = np.random.default_rng(0).uniform(size=(600, 2))
    _, labels, _ = evaluate(noise, _kmeans(6), 0, CONFIG.metrics)
    split = stability(noise, labels, _kmeans(6), seed=0, rounds=10, sample_size=10_000)
    assert split.ari_mean < clear.ari_mean - 0.1 and split.jaccard_min < 0.85
    metrics = split.as_metrics()
    assert metrics["stability.jaccard_min"] == min(metrics[f"stability.jaccard.{s}"]
                                                   for s in range(6))  # fmt: skip
    assert metrics["stability.rounds"] == 10 and metrics["stability.customers"] == 600


def test_seeded_parallel_rounds_change_nothing():
    X, _ = make_blobs(400, centers=3, cluster_std=2.5, random_state=2)  # overlapping: varied
    _, labels, _ = evaluate(X, _kmeans(5), 0, CONFIG.metrics)
    one = stability(X, labels, _kmeans(5), seed=3, rounds=6, sample_size=10_000)
    again = stability(X, labels, _kmeans(5), seed=3, rounds=6, sample_size=10_000, n_jobs=2)
    other = stability(X, labels, _kmeans(5), seed=4, rounds=6, sample_size=10_000)
    assert one.ari == again.ari and one.jaccard == again.jaccard
    assert one.ari != other.ari
    assert len(set(one.ari)) > 1  # the rounds differ: they are not one fit repeated


def test_above_the_sample_size_the_bootstrap_draws_from_a_seeded_sample():
    labels = np.repeat([0, 1], 500)
    seen: list[np.ndarray] = []

    def refit(rows: np.ndarray, seed: int) -> np.ndarray:
        seen.append(rows)
        return labels[rows]  # a refit that finds the original segments again

    out = bootstrap(labels, refit, rounds=3, sample_size=200, seed=0)
    pool = np.unique(np.concatenate(seen))
    assert out.customers == 200 and pool.size <= 200
    assert all(r.size == 200 for r in seen)  # each round: a bootstrap of the 200
    assert out.ari == [1.0, 1.0, 1.0] and out.jaccard_means == {0: 1.0, 1: 1.0}


def test_noise_is_no_segment_and_a_segment_lost_to_noise_is_not_recovered():
    labels = np.repeat([0, 1, UNASSIGNED], [300, 300, 100])

    def loses_segment_1(rows: np.ndarray, seed: int) -> np.ndarray:
        found = labels[rows].copy()
        found[found == 1] = UNASSIGNED  # the refit drops segment 1 into noise
        return found

    out = bootstrap(labels, loses_segment_1, rounds=4, sample_size=10_000, seed=0)
    assert set(out.jaccard) == {0, 1}  # no Jaccard for the noise
    assert out.jaccard_means[0] == 1.0 and out.jaccard_means[1] == 0.0
    # in the ARI the noise is one more group: segment 1 merged into it is disagreement
    assert out.verdict(1) == "dissolved" and out.ari_mean < 0.8
