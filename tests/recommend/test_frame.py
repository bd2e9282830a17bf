from __future__ import annotations

from unittest.mock import patch

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from custseg.recommend import frame
from custseg.recommend.frame import top_k, top_unseen

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
    with patch.object(frame, "CHUNK", chunk):  # chunk borders must not matter
        got = top_unseen(ranking, group_of, history, k)
    want = _reference_top_unseen(ranking, group_of, history, k)
    pd.testing.assert_frame_equal(got, want)


def test_top_k_sorts_unsorted_input_and_keeps_extra_columns():
    recs = pd.DataFrame({"customer_id": ["b", "a", "b", "a"], "item": ["y", "x", "x", "z"],
                         "score": [1.0, 2.0, 1.0, 2.0], "extra": [1, 2, 3, 4]})  # fmt: skip
    out = top_k(recs, 1)
    assert out[["customer_id", "item", "extra"]].values.tolist() == [["a", "x", 2], ["b", "x", 3]]
