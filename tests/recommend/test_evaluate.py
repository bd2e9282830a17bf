from __future__ import annotations

import math

import pandas as pd
import pytest

from custseg.data.schema import validate
from custseg.recommend.evaluate import evaluation_table, metrics_at_k, time_split
from custseg.recommend.history import History

LINES = [  # customer, product, date (10 days: 2024-01-01 .. 2024-01-10)
    ("a", "P1", "2024-01-01 10:00"),
    ("a", "P1", "2024-01-09 08:00"),  # bought before: not a test item
    ("a", "P2", "2024-01-10 09:00"),
    ("b", "P1", "2024-01-02 10:00"),
    ("b", "P1", "2024-01-09 11:00"),  # nothing new: b is excluded
    ("c", "P3", "2024-01-05 10:00"),  # no test-period activity: neither kept nor excluded
    ("d", "P4", "2024-01-10 10:00"),  # new customer: excluded
    ("e", "P2", "2024-01-03 10:00"),
    ("e", "P3", "2024-01-09 00:00"),  # at the cutoff: test
    ("e", "P4", "2024-01-09 12:00"),
]


def _tx() -> pd.DataFrame:
    n = len(LINES)
    return validate(
        pd.DataFrame(
            {
                "customer_id": [c for c, _, _ in LINES],
                "invoice_id": [str(i) for i in range(n)],
                "invoice_date": [d for _, _, d in LINES],
                "product_id": [p for _, p, _ in LINES],
                "quantity": [1] * n,
                "unit_price": [1.0] * n,
                "amount": [1.0] * n,
            }
        ),
        "t",
    )


def test_default_cutoff_leaves_the_last_fifth_of_days_and_keeps_new_items_only():
    train, test_items, info = time_split(_tx())
    assert info["cutoff"] == "2024-01-09"  # 10 days x 0.2 = the last 2 days
    assert len(train) == 4 and (train["invoice_date"] < "2024-01-09").all()
    assert test_items == {"a": {"P2"}, "e": {"P3", "P4"}}
    assert info["train_rows"] == 4 and info["test_rows"] == 6
    assert info["test_customers"] == 2
    assert info["excluded_customers"] == 2
    assert info["excluded_not_in_train"] == 1 and info["excluded_no_new_items"] == 1


def test_explicit_cutoff():
    train, test_items, info = time_split(_tx(), cutoff="2024-01-05")
    assert info["cutoff"] == "2024-01-05" and info["train_rows"] == 3
    # c's only line is on the cutoff day: new to the shop, so excluded with d
    assert test_items == {"a": {"P2"}, "e": {"P3", "P4"}}
    assert info["excluded_customers"] == 3  # b (nothing new), c and d (not in train)
    with pytest.raises(ValueError, match="empty train"):
        time_split(_tx(), cutoff="2023-12-01")


TEST_ITEMS = {"u1": {"A", "B"}, "u2": {"C"}, "u3": {"D", "E", "F", "G"}}
RECS = pd.DataFrame(
    {
        "customer_id": ["u1", "u1", "u1", "u2", "u2", "u4", "u4"],  # u3: no recs; u4: not tested
        "item": ["A", "X", "B", "Y", "C", "A", "Q"],
        "score": [0.9, 0.8, 0.7, 0.6, 0.5, 0.9, 0.8],
        "source": "t",
        "reason": "r",
    }
)


def test_metrics_at_k_by_hand():
    m = metrics_at_k(RECS, TEST_ITEMS, k=3, catalogue_size=12)
    assert m["hit_rate"] == pytest.approx(2 / 3)
    assert m["precision"] == pytest.approx((2 / 3 + 1 / 3 + 0) / 3)
    assert m["recall"] == pytest.approx((2 / 2 + 1 / 1 + 0 / 4) / 3)
    u1 = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))  # hits at 1 and 3; ideal 2 hits
    u2 = (1 / math.log2(3)) / 1.0  # hit at 2; ideal 1 hit
    assert m["ndcg"] == pytest.approx((u1 + u2 + 0) / 3)
    assert m["coverage"] == pytest.approx(6 / 12)  # A X B Y C Q
    # MAP: precision at each hit, over min(true items, k): u1 (1 + 2/3) / 2, u2 (1/2) / 1
    assert m["map"] == pytest.approx(((1 + 2 / 3) / 2 + 1 / 2 + 0) / 3)
    m1 = metrics_at_k(RECS, TEST_ITEMS, k=1, catalogue_size=12)
    assert m1 == pytest.approx(
        {"hit_rate": 1 / 3, "precision": 1 / 3, "recall": 1 / 6, "ndcg": 1 / 3, "map": 1 / 3,
         "coverage": 2 / 12}
    )  # fmt: skip


def test_rank_column_wins_over_score_and_table_has_a_row_per_recommender():
    ranked = RECS.assign(rank=[3, 2, 1, 2, 1, 1, 2])  # a blend's order, not its scores
    assert metrics_at_k(ranked, TEST_ITEMS, k=1, catalogue_size=12)["hit_rate"] == pytest.approx(
        2 / 3
    )
    table = evaluation_table({"plain": RECS, "ranked": ranked}, TEST_ITEMS, catalogue_size=12)
    assert list(table.index) == ["plain", "ranked"]
    assert table.columns[:6].tolist() == [
        "hit_rate@5", "precision@5", "recall@5", "ndcg@5", "map@5", "coverage@5"
    ]  # fmt: skip
    assert table.loc["plain", "precision@10"] == pytest.approx((2 / 10 + 1 / 10) / 3)
    assert table.loc["plain", "recall@5"] == pytest.approx(2 / 3)
    positional = evaluation_table({"plain": RECS}, TEST_ITEMS, (1,), 12)
    assert positional.loc["plain", "coverage@1"] == pytest.approx(2 / 12)
    with pytest.raises(ValueError, match="catalogue_size"):
        evaluation_table({"plain": RECS}, TEST_ITEMS)


def test_test_items_are_a_history_and_metrics_take_either():
    _, test_items, _ = time_split(_tx())
    assert isinstance(test_items, History) and test_items.nnz == 3
    as_dict = {c: set(v) for c, v in TEST_ITEMS.items()}
    history = History.from_mapping(TEST_ITEMS)
    assert metrics_at_k(RECS, history, 3, 12) == metrics_at_k(RECS, as_dict, 3, 12)
    empty = RECS.iloc[:0]
    assert metrics_at_k(empty, history, 3, 12)["hit_rate"] == 0.0
