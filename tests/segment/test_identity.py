"""Segment numbers by value, kept by the fitted model, and matched to a reference run."""

from __future__ import annotations

import cloudpickle
import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans

from custseg.clean import clean
from custseg.config import ConfigError
from custseg.data.sources import load
from custseg.engine.local import LocalEngine
from custseg.model import CustomerModel
from custseg.segment.identity import (
    Renumbered,
    align_to_reference,
    aligned,
    completed,
    match_by_centres,
    match_by_customers,
    relabel,
    segment_value,
    value_order,
)
from tests.conftest import make_config


def _tx(rows: list[tuple[str, float]], money: bool = True) -> pd.DataFrame:
    tx = pd.DataFrame(rows, columns=["customer_id", "amount"])
    return tx if money else tx.drop(columns="amount")


def test_segments_are_numbered_by_revenue_share():
    customers = pd.Index(["a", "b", "c", "d", "e"])
    labels = np.array([7, 7, 3, 5, -1])  # a, b in 7; c in 3; d in 5; e unassigned
    tx = _tx([("a", 10.0), ("b", 5.0), ("c", 100.0), ("d", 1.0), ("d", 1.0), ("d", 1.0),
              ("e", 1e6)])  # fmt: skip
    order = value_order(labels, customers, tx)
    assert order == {3: 0, 7: 1, 5: 2}  # 100 > 15 > 3; the noise's money ranks nothing
    assert relabel(labels, order).tolist() == [1, 1, 0, 2, -1]


def test_without_money_segments_are_numbered_by_lines_then_customers():
    customers = pd.Index(["a", "b", "c", "d", "e"])
    labels = np.array([0, 0, 1, 2, 2])
    # segment 0: 2 lines, 2 customers; 1: 3 lines, 1 customer; 2: 2 lines, 2 customers
    tx = _tx([("a", 0), ("b", 0), ("c", 0), ("c", 0), ("c", 0), ("d", 0), ("e", 0)], money=False)
    assert "revenue" not in segment_value(labels, customers, tx)
    assert value_order(labels, customers, tx) == {1: 0, 0: 1, 2: 2}  # 0 and 2 tie: old label


def test_renumbered_clusterer_predicts_the_new_numbers_and_survives_pickling():
    X = np.array([[0.0], [0.1], [5.0], [5.1], [9.0], [9.1]])
    km = KMeans(3, n_init=3, random_state=0).fit(X)
    order = {int(km.labels_[4]): 0, int(km.labels_[0]): 1, int(km.labels_[2]): 2}
    wrapped = Renumbered(km, order).fit(X)
    assert wrapped.labels_.tolist() == [1, 1, 2, 2, 0, 0]
    back = cloudpickle.loads(cloudpickle.dumps(wrapped))
    assert back.predict(np.array([[9.05], [0.05]])).tolist() == [0, 1]
    with pytest.raises(ValueError, match="have no number"):
        Renumbered(km, {0: 0}).fit(X)


def test_matching_by_shared_customers_recovers_a_permutation_and_leaves_strangers_alone():
    reference = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    mine = np.array([2, 2, 0, 0, 1, 1, 4, 4])  # this run's 4 is the reference's 3
    assert match_by_customers(mine, reference) == {2: 0, 0: 1, 1: 2, 4: 3}
    partial = np.array([2, 2, 0, 0, 1, 1, -1, -1])  # reference's 3 became noise here
    assert match_by_customers(partial, reference) == {2: 0, 0: 1, 1: 2}
    # 3 segments vs a reference of 2: the extra one gets the next number after its highest
    assert aligned({10: 0, 11: 1, 12: 2}, {0: 1, 2: 0}, [0, 1]) == {10: 1, 12: 0, 11: 2}
    # fewer segments than the reference: its numbers are kept, with a gap
    assert aligned({10: 0, 11: 1}, {0: 4, 1: 0}, [0, 1, 2, 3, 4]) == {10: 4, 11: 0}


def test_a_component_without_training_customers_still_gets_a_number():
    assert completed({2: 0, 0: 1}, [0, 1, 2, 3, -1]) == {2: 0, 0: 1, 1: 2, 3: 3}
    assert completed({}, []) == {}


def test_matching_by_centres_pairs_the_nearest_one_to_one():
    mine = {0: np.array([0.0, 0.0]), 1: np.array([5.0, 5.0]), 2: np.array([9.0, 0.0])}
    ref = {0: np.array([5.2, 4.9]), 1: np.array([8.8, 0.3])}
    assert match_by_centres(mine, ref) == {1: 0, 2: 1}


def test_a_reference_of_other_customers_is_matched_by_centres_in_this_runs_scaling():
    config = make_config("data.generator.n_rows=5000", "segment.n_clusters=3")
    tx, _ = clean(load(config.data, 0).transactions, config.clean)
    seg = LocalEngine().segment(tx, config)
    transform = seg.pipeline.steps[0][1]
    # the same customers under other ids, their numbers shifted by one: found by centres
    reference = seg.features.assign(segment=(seg.labels + 1) % 3)
    reference.index = "other-" + reference.index
    order = {s: s for s in range(3)}
    got = align_to_reference(seg.labels, seg.features.index, seg.X, transform, reference, order)
    assert got == {0: 1, 1: 2, 2: 0}
    with pytest.raises(ConfigError, match="lacks the feature columns"):
        align_to_reference(seg.labels, seg.features.index, seg.X, transform,
                           reference.drop(columns="total_value"), order)  # fmt: skip


def test_a_fitted_model_segments_new_data_with_the_numbers_the_run_logged():
    config = make_config("data.generator.n_rows=20000", "rules=none", "recommend=none",
                         "report=none", "stability.rounds=2")  # fmt: skip
    loaded = load(config.data, config.seed)
    tx, _ = clean(loaded.transactions, config.clean)
    model = CustomerModel(config).fit(tx)
    seg = model.training_.segmentation
    logged = pd.Series(seg.labels, index=seg.features.index)
    again = model.segment(tx, clean=False)
    assert (again.loc[logged.index] == logged).all()
    value = segment_value(seg.labels, seg.features.index, tx)
    assert value.index.tolist() == [0, 1, 2, 3, 4]
    assert value["revenue"].is_monotonic_decreasing  # segment 0 holds the largest share
    truth = loaded.truth.customers.set_index("customer_id")["segment"].loc[logged.index]
    assert truth[logged == 0].value_counts().idxmax() == "high_value"  # the VIPs come first
    assert set(seg.stability.jaccard) == set(range(5)) and seg.stability.rounds == 2
