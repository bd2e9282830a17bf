from __future__ import annotations

import pandas as pd
import pytest

from custseg.data.schema import validate
from custseg.recommend import favourites
from custseg.recommend.history import History, histories

LINES = [  # customer, product; a buys P1 twice, which must count once
    ("a", "P1"), ("a", "P1"), ("a", "P2"),
    ("b", "P1"), ("b", "P3"),
    ("c", "P1"), ("c", "P2"), ("c", "P4"),
    ("d", "P5"), ("d", "P1"),
    ("e", "P5"), ("e", "P6"),
]  # fmt: skip
SEGMENT = pd.Series({"a": 0, "b": 0, "c": 0, "d": 1, "e": 1, "g": 1})


def _tx() -> pd.DataFrame:
    n = len(LINES)
    return validate(
        pd.DataFrame(
            {
                "customer_id": [c for c, _ in LINES],
                "invoice_id": [str(i) for i in range(n)],
                "invoice_date": ["2024-01-01"] * n,
                "product_id": [p for _, p in LINES],
                "quantity": [1] * n,
                "unit_price": [1.0] * n,
                "amount": [1.0] * n,
            }
        ),
        "t",
    )


def _lists(recs: pd.DataFrame) -> dict[str, list[tuple[str, float]]]:
    return {
        c: list(zip(g["item"], g["score"].round(4), strict=True))
        for c, g in recs.groupby("customer_id")
    }


def test_segment_favourites_rank_by_share_of_segment_customers_and_skip_history():
    tx = _tx()
    # f has no segment: nothing from favourites; g has a segment but no purchases yet
    history = histories(tx) | {"f": {"P1"}, "g": set()}
    recs = favourites.recommend(tx, history, SEGMENT, k=10)
    third = round(1 / 3, 4)
    assert _lists(recs) == {
        # segment 0 (a, b, c): P1 3/3, P2 2/3, P3 1/3, P4 1/3
        "a": [("P3", third), ("P4", third)],
        "b": [("P2", round(2 / 3, 4)), ("P4", third)],
        "c": [("P3", third)],
        # segment 1 (d, e; g bought nothing so is not a buyer): P5 2/2, P1 1/2, P6 1/2
        "d": [("P6", 0.5)],
        "e": [("P1", 0.5)],
        "g": [("P5", 1.0), ("P1", 0.5), ("P6", 0.5)],
    }
    assert (recs["source"] == "favourite").all()
    assert recs.iloc[0]["reason"] == "popular in segment 0 (33% of its customers bought it)"
    assert _lists(favourites.recommend(tx, history, SEGMENT, k=1))["g"] == [("P5", 1.0)]
    only_a = favourites.recommend(tx, {"a": history["a"]}, SEGMENT, k=10)
    assert set(only_a["customer_id"]) == {"a"}  # recommends for the customers asked about


def test_global_popularity_baseline():
    tx = _tx()
    recs = favourites.popular(tx, histories(tx), k=2)
    # 5 customers: P1 4/5, P2 2/5, P5 2/5, then P3, P4, P6 1/5 each
    assert _lists(recs) == {
        "a": [("P5", 0.4), ("P3", 0.2)],
        "b": [("P2", 0.4), ("P5", 0.4)],
        "c": [("P5", 0.4), ("P3", 0.2)],
        "d": [("P2", 0.4), ("P3", 0.2)],
        "e": [("P1", 0.8), ("P2", 0.4)],
    }
    assert (recs["source"] == "popular").all()
    with pytest.raises(ValueError, match="k must be"):
        favourites.popular(tx, histories(tx), k=0)


def test_buyers_may_be_a_ready_history():
    tx = _tx()
    history = histories(tx)
    assert isinstance(history, History)
    pd.testing.assert_frame_equal(
        favourites.recommend(history, history, SEGMENT, k=3),
        favourites.recommend(tx, {c: set(v) for c, v in history.items()}, SEGMENT, k=3),
    )
    pd.testing.assert_frame_equal(
        favourites.segment_ranking(history, SEGMENT), favourites.segment_ranking(tx, SEGMENT)
    )
    pd.testing.assert_frame_equal(
        favourites.popular(history, history), favourites.popular(tx, history)
    )


def test_a_ranking_made_earlier_serves_like_recommend():
    # what a fitted model stores (the ranking, cut to `top` per segment) and serves later
    tx = _tx()
    history = histories(tx) | {"g": set()}
    full = favourites.segment_ranking(tx, SEGMENT)
    pd.testing.assert_frame_equal(
        favourites.from_ranking(full, history, SEGMENT, 3),
        favourites.recommend(tx, history, SEGMENT, k=3),
    )
    top = favourites.segment_ranking(tx, SEGMENT, top=2)
    assert top[["group", "item"]].values.tolist() == [
        ["0", "P1"], ["0", "P2"], ["1", "P5"], ["1", "P1"]
    ]  # fmt: skip
    pd.testing.assert_frame_equal(
        top, full.groupby("group", sort=False).head(2).reset_index(drop=True)
    )
    assert _lists(favourites.from_ranking(top, history, SEGMENT, 3)) == {
        "b": [("P2", round(2 / 3, 4))],
        "e": [("P1", 0.5)],
        "g": [("P5", 1.0), ("P1", 0.5)],
    }  # a and c already have both of segment 0's top 2; d has both of segment 1's
    assert favourites.from_ranking(top.iloc[:0], history, SEGMENT, 3).empty
