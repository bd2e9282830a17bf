"""Beyond-accuracy metrics and the new/repeat and per-segment breakdowns, by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from custseg.recommend.evaluate import evaluation_detail, evaluation_table
from custseg.recommend.history import History
from custseg.recommend.metrics import Training, beyond, ranked
from custseg.recommend.split import Truth, split

# training: who bought what (4 customers)
TRAIN = History.from_mapping({"t1": {"A", "B"}, "t2": {"A", "C"}, "t3": {"A", "B", "C"},
                              "t4": {"D"}})  # fmt: skip
RECS = pd.DataFrame({"customer_id": ["u1", "u1", "u2", "u2"], "item": ["A", "B", "A", "C"],
                     "score": [2.0, 1.0, 2.0, 1.0], "source": "s", "reason": "r"})  # fmt: skip


def test_novelty_diversity_and_distributional_coverage_by_hand():
    m = beyond(ranked(RECS), 2, Training(TRAIN, catalogue_size=4))
    # novelty: mean of -log2(share of training customers who bought the item) over the 4 recs
    p = {"A": 3 / 4, "B": 2 / 4, "C": 2 / 4}
    want_novelty = np.mean([-math.log2(p[i]) for i in ["A", "B", "A", "C"]])
    assert m["novelty"] == pytest.approx(want_novelty)
    # diversity: 1 - mean cosine(co-occurrence) of each list's pair: (A,B) and (A,C)
    cos_ab = 2 / math.sqrt(3 * 2)  # t1, t3 bought both
    cos_ac = 2 / math.sqrt(3 * 2)  # t2, t3
    assert m["diversity"] == pytest.approx(1 - (cos_ab + cos_ac) / 2)
    # distributional coverage: entropy of how often each item is recommended (A 2, B 1, C 1)
    shares = np.array([2, 1, 1]) / 4
    assert m["distributional_coverage"] == pytest.approx(-(shares * np.log2(shares)).sum())
    assert m["coverage"] == pytest.approx(3 / 4)


def test_table_scores_new_and_repeat_items_apart_and_detail_by_segment():
    new = History.from_mapping({"u1": {"B"}, "u2": {"D"}})
    repeat = History.from_mapping({"u1": {"A"}})
    table = evaluation_table({"s": RECS}, new, (1, 2), 4, repeat, TRAIN)
    assert table.loc["s", "hit_rate@2"] == pytest.approx(1 / 2)  # u1 gets B at 2; u2 misses D
    assert table.loc["s", "ndcg@2"] == pytest.approx((1 / math.log2(3)) / 2)
    assert table.loc["s", "repeat.hit_rate@1"] == pytest.approx(1.0)  # u1's A at 1
    assert table.loc["s", "novelty@2"] > 0
    segments = pd.Series({"u1": 0, "u2": 1})
    detail = evaluation_detail({"s": RECS}, Truth(new, repeat), (2,), segments)
    hit = detail[(detail["metric"] == "hit_rate") & (detail["items"] == "new")]
    assert hit.set_index("segment")["value"].to_dict() == {"all": 0.5, "0": 1.0, "1": 0.0}
    assert hit.set_index("segment")["customers"].to_dict() == {"all": 2, "0": 1, "1": 1}
    again = detail[(detail["items"] == "repeat") & (detail["metric"] == "map")]
    assert again.set_index("segment")["value"].to_dict() == {"all": 1.0, "0": 1.0}


def _lines(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "product_id", "invoice_date"]).assign(
        invoice_date=lambda d: pd.to_datetime(d["invoice_date"])
    )


LINES = _lines([
    ("a", "P1", "2024-01-01"), ("a", "P2", "2024-01-05"), ("a", "P1", "2024-01-09"),
    ("b", "P1", "2024-01-02"), ("b", "P3", "2024-01-03"),
    ("c", "P2", "2024-01-04"),  # one shopping day: trains only
    ("d", "P9", "2024-01-10"),  # new customer after the cut
])  # fmt: skip


def test_global_split_parts_and_unseen_items():
    train, truth, info = split(LINES, cutoff="2024-01-05")
    assert len(train) == 4
    assert dict(truth.new) == {"a": frozenset({"P2"})}
    assert dict(truth.repeat) == {"a": frozenset({"P1"})}
    assert info["excluded_not_in_train"] == 1 and info["test_items_unseen_in_training"] == 0
    _, truth2, info2 = split(LINES, cutoff="2024-01-03")
    assert dict(truth2.new) == {"a": frozenset({"P2"}), "b": frozenset({"P3"})}
    assert info2["test_items_unseen_in_training"] == 2  # P2 and P3 first sold after the cut


def test_per_customer_split_tests_each_customers_last_shopping_day():
    train, truth, info = split(LINES, how="per_customer")
    # a: last day 01-09 (P1, a repeat); b: last day 01-03 (P3, new); c, d: one day, train only
    assert sorted(map(tuple, train[["customer_id", "product_id"]].to_numpy())) == [
        ("a", "P1"), ("a", "P2"), ("b", "P1"), ("c", "P2"), ("d", "P9")]  # fmt: skip
    assert dict(truth.new) == {"b": frozenset({"P3"})}
    assert dict(truth.repeat) == {"a": frozenset({"P1"})}
    assert info["split"] == "per_customer"
    with pytest.raises(ValueError, match="recommend.evaluate.split"):
        split(LINES, how="random")
