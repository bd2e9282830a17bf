from __future__ import annotations

from unittest.mock import patch

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custseg.data.schema import validate
from custseg.recommend import common
from custseg.recommend.common import (
    History,
    as_history,
    first_in_runs,
    first_of_key,
    histories,
    history_pairs,
    in_recs_order,
    order_in_runs,
    rank_within,
    segment_labels,
    top_k,
    top_unseen,
)


def test_histories_are_sets_of_str_per_customer_whatever_the_id_dtype():
    tx = validate(
        pd.DataFrame(
            {
                "customer_id": pd.Categorical(["a", "a", "b", "a"]),
                "invoice_id": ["1", "1", "2", "3"],
                "invoice_date": ["2024-01-01"] * 4,
                "product_id": pd.Categorical(["x", "y", "x", "x"]),
                "quantity": [1, 1, 1, 1],
                "unit_price": [1.0] * 4,
                "amount": [1.0] * 4,
            }
        ),
        "t",
    )
    assert histories(tx) == {"a": {"x", "y"}, "b": {"x"}}


def test_segment_labels_spell_integers_like_rules_do():
    s = pd.Series([2.0, 0.0, None], index=["a", "b", "c"])
    assert segment_labels(s).to_dict() == {"a": "2", "b": "0"}
    assert segment_labels(pd.Series([-1, 3], index=[1, 2])).to_dict() == {"1": "-1", "2": "3"}


def test_top_k_breaks_ties_by_item_id():
    recs = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b"],
            "item": ["z", "b", "m", "q"],
            "score": [0.5, 0.5, 0.9, 0.1],
            "source": "x",
            "reason": "r",
        }
    )
    out = top_k(recs, 2)
    assert out["item"].tolist() == ["m", "b", "q"]


# --- History: the {customer: items} mapping as a sparse matrix ------------------------------

pairs_st = st.lists(
    st.tuples(
        st.sampled_from(["c1", "c2", "c10", "b", "a7"]),
        st.sampled_from(["x", "y", "z9", "10", "2"]),
    ),
    max_size=25,
)


def _as_dict(pairs: list[tuple[str, str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for c, i in pairs:
        out.setdefault(c, set()).add(i)
    return out


def test_history_reads_like_the_dict_it_replaces():
    h = History.from_mapping({"b": ["x", "y", "x"], "a": {"y"}, "new": set()})
    assert list(h) == ["a", "b", "new"]  # sorted labels; empty rows kept
    assert len(h) == 3 and h.nnz == 3 and h.sizes().tolist() == [1, 2, 0]
    assert h["b"] == {"x", "y"} and h["new"] == frozenset()
    assert h == {"a": {"y"}, "b": {"x", "y"}, "new": set()}
    assert "a" in h and "zz" not in h and 3 not in h and h.get("zz") is None
    with pytest.raises(KeyError):
        h["zz"]
    assert dict(h | {"new": {"z"}, "c": {"x"}}) == {
        "a": {"y"}, "b": {"x", "y"}, "new": {"z"}, "c": {"x"}
    }  # fmt: skip
    assert dict(h.subset(["b", "nobody", "a"])) == {"a": {"y"}, "b": {"x", "y"}}
    assert history_pairs(h).values.tolist() == [["a", "y"], ["b", "x"], ["b", "y"]]
    assert as_history(h) is h


def test_histories_skip_missing_items_and_customers():
    tx = pd.DataFrame({"customer_id": ["a", None, "b", "b", "c"],
                       "product_id": ["x", "y", None, "z", None]})  # fmt: skip
    assert histories(tx) == {"a": {"x"}, "b": {"z"}}  # c has no known item: not a customer


@given(pairs_st, st.lists(st.tuples(st.integers(-1, 6), st.integers(-1, 6)), max_size=20),
       st.booleans())  # fmt: skip
def test_history_matches_sets_and_lookups_match_membership(pairs, queries, bitmap):
    want = _as_dict(pairs)
    h = History.from_mapping(want)
    assert h == want and list(h) == sorted(want)
    tx = pd.DataFrame(pairs or [("a", "x")][:0], columns=["customer_id", "product_id"])
    assert histories(tx) == want
    if not bitmap:  # the other lookup: binary search in the sorted keys
        h = History(h.matrix, h.customers, h.item_labels)
        h._table = np.sort(h.pairs()[0] * max(len(h.item_labels), 1) + h.pairs()[1])
    rows = np.array([r for r, _ in queries], dtype=np.int64)
    cols = np.array([c for _, c in queries], dtype=np.int64)
    custs, items = list(h.customers), list(h.item_labels)
    expected = [
        0 <= r < len(custs) and 0 <= c < len(items) and items[c] in want[custs[r]]
        for r, c in queries
    ]
    assert h.contains(rows, cols).tolist() == expected


# --- top-k unseen from a group ranking, against the per-customer loop it replaced ------------


def _reference_top_unseen(ranking, group_of, history, k):
    rows, customers = [], []
    for customer, group in group_of.items():
        seen = history.get(customer, ())
        taken = 0
        for pos in ranking.index[ranking["group"] == group]:
            if ranking.at[pos, "item"] in seen:
                continue
            rows.append(pos)
            customers.append(customer)
            taken += 1
            if taken == k:
                break
    out = ranking.loc[rows].reset_index(drop=True)
    out.insert(0, "customer_id", pd.array(customers, dtype="str"))
    return out


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["g1", "g2", "g3"]), st.sampled_from(list("abcdefg"))),
             max_size=20, unique=True),
    st.dictionaries(st.sampled_from(["u1", "u2", "u3", "u4", "u5"]),
                    st.sampled_from(["g1", "g2", "g4"]), max_size=5),
    pairs_st,
    st.integers(1, 4),
    st.sampled_from([1, 3, 1000]),
)  # fmt: skip
def test_top_unseen_equals_the_loop(ranking_rows, groups, pairs, k, chunk):
    ranking = pd.DataFrame(ranking_rows or [("g1", "a")], columns=["group", "item"])
    ranking["score"] = np.arange(len(ranking), 0, -1, dtype="float64")
    group_of = pd.Series(groups, dtype="str") if groups else pd.Series({"u1": "g1"})
    history = {c.replace("c", "u"): items for c, items in _as_dict(pairs).items()}
    with patch.object(common, "CHUNK", chunk):  # chunk borders must not matter
        got = top_unseen(ranking, group_of, history, k)
    want = _reference_top_unseen(ranking, group_of, history, k)
    pd.testing.assert_frame_equal(got, want)


# --- orderings on integer codes, against lexsort ----------------------------------------------

codes_st = st.lists(st.tuples(st.integers(0, 4), st.sampled_from([0.0, 0.5, 1.0, 2.0, -1.0]),
                              st.integers(0, 5)), max_size=40)  # fmt: skip


@given(codes_st)
def test_recs_order_is_customer_then_score_desc_then_item_stable(rows):
    cust = np.array([c for c, _, _ in rows], dtype=np.int64)
    score = np.array([s for _, s, _ in rows], dtype=np.float64)
    item = np.array([i for _, _, i in rows], dtype=np.int64)
    want = np.lexsort((item, -score, cust))
    assert in_recs_order(cust, score, item).tolist() == want.tolist()
    srt = np.sort(cust)  # runs: already grouped by customer
    for k in (None, 1, 3):
        ref = np.lexsort((-score, srt))
        if k is not None:
            ref = ref[rank_within(srt[ref]) < k]
        assert order_in_runs(srt, score, k).tolist() == ref.tolist()
    seen: set[tuple[int, int]] = set()
    first = []
    for c, i in zip(srt.tolist(), item.tolist(), strict=True):
        first.append((c, i) not in seen)
        seen.add((c, i))
    assert first_in_runs(srt, item).tolist() == first
    assert first_of_key(srt * 10 + item).tolist() == first


def test_top_k_sorts_unsorted_input_and_keeps_extra_columns():
    recs = pd.DataFrame({"customer_id": ["b", "a", "b", "a"], "item": ["y", "x", "x", "z"],
                         "score": [1.0, 2.0, 1.0, 2.0], "extra": [1, 2, 3, 4]})  # fmt: skip
    out = top_k(recs, 1)
    assert out[["customer_id", "item", "extra"]].values.tolist() == [["a", "x", 2], ["b", "x", 3]]
