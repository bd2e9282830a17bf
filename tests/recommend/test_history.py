from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from custseg.data.schema import validate
from custseg.recommend.codes import labels_of, of_customers
from custseg.recommend.history import (
    History,
    as_history,
    histories,
    history_pairs,
)
from custseg.recommend.segments import segment_labels


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


@given(
    st.lists(st.sampled_from(["b", "a", "c10", "c9", "Z", "é", None]), min_size=0, max_size=40),
    st.permutations(["b", "a", "c10", "c9", "Z", "é", "unused"]),
)
def test_labels_of_a_text_categorical_match_labels_of_its_text(values, categories):
    """The categorical fast path (sort only the categories in use) gives the codes and sorted
    labels the general path gives for the same values as plain text."""
    coded = pd.Series(pd.Categorical(values, categories=pd.Index(categories, dtype="str")))
    plain = pd.Series(values, dtype=object)
    codes, labels = labels_of(coded)
    want_codes, want_labels = labels_of(plain)
    assert isinstance(coded.dtype, pd.CategoricalDtype)
    np.testing.assert_array_equal(codes, want_codes)
    assert list(labels) == list(want_labels) == sorted({v for v in values if v is not None})


def test_of_customers_picks_lines_by_id_text_without_converting_every_line():
    tx = pd.DataFrame({"customer_id": pd.Categorical(["17850", "13047", None, "17850", "1"]),
                       "x": range(5)})  # fmt: skip
    mask = of_customers(tx, pd.Index(["17850", "1", "404"]))
    assert mask.tolist() == [True, False, False, True, True]
    assert of_customers(tx.astype({"customer_id": object}), pd.Index(["13047"])).tolist() == [
        False, True, False, False, False]  # fmt: skip
