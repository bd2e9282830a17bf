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


def _t(n: int, sil: float, dbi: float, k: int, lo: float = 0.1, hi: float = 0.4, noise=0.0):
    m = {"silhouette": sil, "davies_bouldin": dbi, "n_segments": k, "min_segment_share": lo,
         "max_segment_share": hi, "noise_share": noise}  # fmt: skip
    return Trial(n, {"n_clusters": k}, m)


def test_pareto_front_keeps_only_non_dominated_points():
    v = np.array([[0.6, 0.5], [0.7, 0.6], [0.5, 0.4], [0.55, 0.55], [0.7, 0.6]])
    assert pareto_front(v).tolist() == [True, True, True, False, True]


def test_selection_refuses_dust_giants_and_noise_then_prefers_fewer_segments():
    trials = [
        _t(0, 0.80, 0.30, 2, hi=0.95),  # one giant segment
        _t(1, 0.78, 0.35, 9, lo=0.01),  # dust clusters
        _t(2, 0.76, 0.40, 6, noise=0.5),  # half unassigned
        _t(3, 0.680, 0.49, 6),
        _t(4, 0.677, 0.55, 5),  # within 0.01 of the best eligible, fewer segments
        _t(5, 0.60, 0.70, 4),
    ]
    assert SEL.rule == "parsimonious" and SEL.silhouette_tolerance == 0.01
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
