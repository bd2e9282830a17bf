"""The rule that chooses one trial: eligibility first, then the configured rule."""

from __future__ import annotations

from typing import get_args

import numpy as np
import pytest

from custseg.config import ConfigError
from custseg.config.schema import Selection
from custseg.tuning.selection import RULES, Trial, pareto_front, segment_sizes, select
from tests.conftest import make_config

SEL = make_config("tuning=optuna").tuning.selection  # conf/tuning/optuna.yaml: parsimonious


def _t(n: int, sil: float, dbi: float, k: int, lo: float = 0.1, hi: float = 0.4, noise=0.0,
       ari: float | None = 0.95):  # fmt: skip
    m = {"silhouette": sil, "davies_bouldin": dbi, "n_segments": k, "min_segment_share": lo,
         "max_segment_share": hi, "noise_share": noise}  # fmt: skip
    if ari is not None:
        m["stability.ari_mean"] = ari
    return Trial(n, {"n_clusters": k}, m)


def test_pareto_front_keeps_only_non_dominated_points():
    v = np.array([[0.6, 0.5], [0.7, 0.6], [0.5, 0.4], [0.55, 0.55], [0.7, 0.6]])
    assert pareto_front(v).tolist() == [True, True, True, False, True]


def test_selection_refuses_dust_giants_and_noise_then_prefers_fewer_segments():
    trials = [
        _t(0, 0.80, 0.30, 3, hi=0.95),  # one giant segment
        _t(1, 0.78, 0.35, 9, lo=0.01),  # dust clusters
        _t(2, 0.76, 0.40, 6, noise=0.5),  # half unassigned
        _t(3, 0.680, 0.49, 6),
        _t(4, 0.662, 0.55, 5),  # within 0.02 of the best eligible, fewer segments
        _t(5, 0.60, 0.70, 4),
    ]
    assert SEL.rule == "parsimonious" and SEL.silhouette_tolerance == 0.02
    chosen, notes = select(trials, SEL)
    assert chosen.number == 4 and not notes
    assert [t.eligible for t in trials] == [False, False, False, True, True, True]
    assert "above 80%" in trials[0].why_not and "below 5%" in trials[1].why_not
    assert "unassigned" in trials[2].why_not
    best, _ = select(trials, SEL.model_copy(update={"rule": "front_best_silhouette"}))
    assert best.number == 3  # on the eligible front with the best silhouette


def test_selection_without_eligible_trials_says_so():
    chosen, notes = select([_t(0, 0.8, 0.3, 2, hi=0.99), _t(1, 0.5, 0.3, 3, hi=0.9)], SEL)
    assert chosen.number == 0 and "no trial met" in notes[0]


def test_a_trial_with_one_segment_is_never_eligible_and_sits_behind_the_front():
    one = Trial(0, {"n_clusters": 2}, {"n_segments": 1.0, "min_segment_share": 1.0,
                                       "max_segment_share": 1.0})  # fmt: skip
    chosen, _ = select([one, _t(1, 0.3, 1.2, 3)], SEL)
    assert chosen.number == 1 and one.why_not == "fewer than two segments" and not one.on_front


def test_every_configurable_rule_exists_and_an_unknown_one_is_a_config_error():
    assert set(RULES) == set(get_args(Selection.model_fields["rule"].annotation))
    with pytest.raises(ConfigError, match="tuning.selection.rule: 'elbow' is not one of"):
        make_config("tuning=optuna", "tuning.selection.rule=elbow")


def test_segment_sizes_are_largest_first_with_unassigned_last():
    assert segment_sizes(np.array([1, 1, 0, -1, 2, 2, 2])) == [3, 2, 1, 1]
    assert segment_sizes(np.array([-1, -1])) == [2]


def test_too_few_segments_and_unstable_trials_are_ineligible():
    """min_segments (3) and min_stability (0.8, mean bootstrap ARI) come before the rule: the
    best silhouette with two segments, or with segments a refit does not find again, loses."""
    assert SEL.min_segments == 3 and SEL.min_stability == 0.8
    trials = [
        _t(0, 0.70, 0.40, 2),  # two segments
        _t(1, 0.66, 0.45, 4, ari=0.55),  # unstable
        _t(2, 0.60, 0.50, 5),
        _t(3, 0.58, 0.50, 6, ari=None),  # measured no stability: not held to the gate
    ]
    chosen, notes = select(trials, SEL)
    assert chosen.number == 2 and not notes
    assert trials[0].why_not == "fewer than 3 segments"
    assert trials[1].why_not == "unstable: bootstrap ARI 0.55 below 0.80"
    assert trials[3].eligible
    relaxed = SEL.model_copy(update={"min_segments": 2, "min_stability": 0.5})
    assert select(trials, relaxed)[0].number == 0


def test_a_segment_holding_nearly_all_revenue_is_a_giant_in_value_terms():
    """The demo's VIPs (12% of customers, ~80% of revenue) lumped with the bulk buyers make one
    segment with ~94% of the revenue: the best silhouette, and not eligible."""
    assert SEL.max_revenue_share == 0.9
    merged, apart = _t(0, 0.64, 0.48, 3), _t(1, 0.625, 0.49, 5)
    merged.metrics["max_revenue_share"], apart.metrics["max_revenue_share"] = 0.94, 0.80
    chosen, _ = select([merged, apart], SEL)
    assert chosen.number == 1 and merged.why_not == "a segment above 90% of revenue"
    no_money = _t(2, 0.64, 0.48, 3)  # price-less data: no revenue, no limit
    assert select([no_money, _t(3, 0.625, 0.49, 5)], SEL)[0].number == 2


def test_parsimonious_prefers_the_more_stable_of_equal_sizes():
    trials = [_t(0, 0.600, 0.40, 4, ari=0.85), _t(1, 0.599, 0.50, 4, ari=0.97)]
    assert select(trials, SEL)[0].number == 1  # same k, tied silhouette: the stabler one
    trials = [_t(0, 0.600, 0.40, 4, ari=0.97), _t(1, 0.599, 0.50, 3, ari=0.85)]
    assert select(trials, SEL)[0].number == 1  # fewer segments still comes first


def test_search_space_below_min_segments_is_a_config_error():
    with pytest.raises(ConfigError, match=r"n_clusters.low=2 is below tuning.selection.min_s"):
        make_config("tuning=optuna", "segment.search_space.n_clusters.low=2")
    make_config("tuning=optuna", "segment.search_space.n_clusters.low=2",
                "tuning.selection.min_segments=2")  # fmt: skip
    with pytest.raises(ConfigError, match="tuning.stability_rounds=0 measures none"):
        make_config("tuning=optuna", "tuning.stability_rounds=0")
    make_config("tuning=optuna", "tuning.stability_rounds=0", "tuning.selection.min_stability=0")
