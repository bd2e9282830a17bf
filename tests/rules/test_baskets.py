"""make_baskets against a table small enough to list every basket by hand.

Lines (customer, invoice, time, product, name, category):
  c1  i1  Jan 1 09:00  A Apple   X     (listed twice: one basket entry)
  c1  i1  Jan 1 09:00  B Banana  X
  c1  i2  Jan 1 15:00  C Cherry  Y     (same customer and day as i1)
  c2  i3  Jan 2 10:00  A Apple   X
  c2  i4  Jan 3 10:00  B Banana  X
  c3  i5  Jan 2 11:00  D Date    Y
Invoice baskets:      i1 {A, B}, i2 {C}, i3 {A}, i4 {B}, i5 {D}
Customer-day baskets: c1@Jan 1 {A, B, C}, c2@Jan 2 {A}, c2@Jan 3 {B}, c3@Jan 2 {D}
Customer baskets:     c1 {A, B, C}, c2 {A, B}, c3 {D}
Baskets per item (invoice): A 2, B 2, C 1, D 1.
"""

from __future__ import annotations

from typing import get_args

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from custseg.config.schema import Rules
from custseg.data.schema import validate
from custseg.rules.baskets import BASKET_KEYS, ITEM_KEYS, Baskets, make_baskets
from custseg.rules.mining import frequent_itemsets


def _raw() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["c1", "c1", "c1", "c1", "c2", "c2", "c3"],
            "invoice_id": ["i1", "i1", "i1", "i2", "i3", "i4", "i5"],
            "invoice_date": [
                "2024-01-01 09:00:00",
                "2024-01-01 09:00:00",
                "2024-01-01 09:00:00",
                "2024-01-01 15:00:00",
                "2024-01-02 10:00:00",
                "2024-01-03 10:00:00",
                "2024-01-02 11:00:00",
            ],
            "product_id": ["A", "A", "B", "C", "A", "B", "D"],
            "quantity": [1, 2, 1, 1, 1, 1, 1],
            "unit_price": [1.0, 1.0, 2.0, 3.0, 1.0, 2.0, 4.0],
            "amount": [1.0, 2.0, 2.0, 3.0, 1.0, 2.0, 4.0],
            "product_name": ["Apple", "Apple", "Banana", "Cherry", "Apple", "Banana", "Date"],
            "category": ["X", "X", "X", "Y", "X", "X", "Y"],
        }
    )


@pytest.fixture
def tx() -> pd.DataFrame:
    return validate(_raw(), "t")


def contents(b: Baskets) -> dict[str, set[str]]:
    """basket_id -> set of item labels, read from the sparse rows (no dense matrix)."""
    m = b.matrix
    return {
        bid: {str(b.items[j]) for j in m.indices[m.indptr[i] : m.indptr[i + 1]]}
        for i, bid in enumerate(b.keys["basket_id"])
    }


def test_registries_name_the_config_choices():
    assert list(BASKET_KEYS) == ["invoice", "customer_day", "customer"]
    assert ITEM_KEYS == ("product_id", "product_name", "category")
    # and the typed config accepts exactly these
    assert set(get_args(Rules.model_fields["basket"].annotation)) == set(BASKET_KEYS)
    assert set(get_args(Rules.model_fields["item"].annotation)) == set(ITEM_KEYS)


def test_invoice_baskets(tx):
    b = make_baskets(tx)
    assert contents(b) == {"i1": {"A", "B"}, "i2": {"C"}, "i3": {"A"}, "i4": {"B"}, "i5": {"D"}}
    assert b.n_baskets == 5 and b.dropped_items == 0
    assert list(b.items) == ["A", "B", "C", "D"] and all(type(x) is str for x in b.items)
    assert isinstance(b.matrix, sp.csr_matrix)
    assert b.matrix.dtype == bool and b.matrix.shape == (5, 4)
    # "A" is listed twice in i1: one True entry, not a count of 2
    assert b.matrix.nnz == 6 and b.matrix.data.all()
    assert list(b.keys.columns) == ["basket_id", "customer_id", "date"]
    keys = b.keys.set_index("basket_id")
    assert keys.loc["i2", "customer_id"] == "c1"
    assert keys.loc["i2", "date"] == pd.Timestamp("2024-01-01 15:00")
    assert keys.loc["i5", "customer_id"] == "c3"


def test_customer_day_baskets(tx):
    b = make_baskets(tx, basket="customer_day")
    assert contents(b) == {
        "c1@2024-01-01": {"A", "B", "C"},
        "c2@2024-01-02": {"A"},
        "c2@2024-01-03": {"B"},
        "c3@2024-01-02": {"D"},
    }
    keys = b.keys.set_index("basket_id")
    # the first invoice_date of the basket: i1 at 09:00, not i2 at 15:00
    assert keys.loc["c1@2024-01-01", "date"] == pd.Timestamp("2024-01-01 09:00")
    assert keys.loc["c2@2024-01-03", "customer_id"] == "c2"


def test_customer_baskets(tx):
    b = make_baskets(tx, basket="customer")
    assert contents(b) == {"c1": {"A", "B", "C"}, "c2": {"A", "B"}, "c3": {"D"}}
    assert b.keys.set_index("basket_id").loc["c2", "date"] == pd.Timestamp("2024-01-02 10:00")
    assert list(b.keys["customer_id"]) == list(b.keys["basket_id"])


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("product_name", {"i1": {"Apple", "Banana"}, "i2": {"Cherry"}, "i3": {"Apple"},
                          "i4": {"Banana"}, "i5": {"Date"}}),
        # A and B are both category X: i1 holds X once
        ("category", {"i1": {"X"}, "i2": {"Y"}, "i3": {"X"}, "i4": {"X"}, "i5": {"Y"}}),
    ],
)  # fmt: skip
def test_item_keys(tx, item, expected):
    b = make_baskets(tx, item=item)
    assert contents(b) == expected
    assert b.matrix.nnz == sum(len(v) for v in expected.values())


def test_min_item_count_drops_rare_items_but_keeps_every_basket(tx):
    b = make_baskets(tx, min_item_count=2)
    # C and D are in one basket each; i2 and i5 held nothing else: they stay, as empty rows,
    # because a support is a share of all the baskets (issue 15)
    assert b.dropped_items == 2 and b.emptied_baskets == 2
    assert list(b.items) == ["A", "B"]
    assert contents(b) == {"i1": {"A", "B"}, "i2": set(), "i3": {"A"}, "i4": {"B"}, "i5": set()}
    assert len(b.keys) == b.n_baskets == 5 == make_baskets(tx).n_baskets
    assert b.keys.set_index("basket_id").loc["i5", "customer_id"] == "c3"
    # counted in distinct baskets: the duplicate A line in i1 does not make A count 3
    none_left = make_baskets(tx, min_item_count=3)
    assert (none_left.n_baskets, none_left.matrix.nnz, none_left.dropped_items) == (5, 0, 4)
    assert none_left.emptied_baskets == 5
    # customer baskets: A and B are in two customers' baskets, C and D in one
    assert contents(make_baskets(tx, basket="customer", min_item_count=2)) == {
        "c1": {"A", "B"},
        "c2": {"A", "B"},
        "c3": set(),
    }


def test_support_is_a_share_of_all_baskets_whatever_min_item_count(tx):
    # A is in i1 and i3: 2 of the 5 invoices, however many rare items went
    for k in (1, 2):
        sets = frequent_itemsets(
            make_baskets(tx, min_item_count=k), 0.4, engine="eclat", max_itemsets=1_000
        )
        got = dict(zip(sets["itemsets"], sets["support"], strict=True))
        assert got == {frozenset("A"): 0.4, frozenset("B"): 0.4}, k


def test_categorical_ids_give_the_same_baskets(tx):
    cat = tx.copy()
    for col in ("customer_id", "invoice_id", "product_id", "product_name", "category"):
        cat[col] = cat[col].astype("category")
    for basket in BASKET_KEYS:
        a, b = make_baskets(tx, basket=basket), make_baskets(cat, basket=basket)
        assert contents(a) == contents(b)
        assert list(a.items) == list(b.items)
        pd.testing.assert_frame_equal(a.keys, b.keys)


def test_row_order_does_not_change_columns(tx):
    shuffled = tx.iloc[::-1].reset_index(drop=True)
    a, b = make_baskets(tx), make_baskets(shuffled)
    assert list(a.items) == list(b.items)
    assert contents(a) == contents(b)


def test_subset_keeps_items_and_aligns_keys(tx):
    b = make_baskets(tx)
    mask = b.keys["customer_id"].eq("c1").to_numpy()
    sub = b.subset(mask)
    assert sub.n_baskets == 2 and sub.emptied_baskets == 0
    assert list(sub.items) == list(b.items) and sub.matrix.shape[1] == 4
    assert contents(sub) == {"i1": {"A", "B"}, "i2": {"C"}}
    assert list(sub.keys.index) == [0, 1]
    # a scope counts its emptied baskets too: c1's i2 held only the rare C
    pruned = make_baskets(tx, min_item_count=2)
    sub = pruned.subset(pruned.keys["customer_id"].eq("c1").to_numpy())
    assert (sub.n_baskets, sub.emptied_baskets) == (2, 1)
    with pytest.raises(ValueError, match="mask"):
        b.subset(np.array([True]))


def test_unknown_basket_or_item_names_the_config_key(tx):
    with pytest.raises(ValueError, match=r"rules\.basket.*'week'.*invoice.*customer_day"):
        make_baskets(tx, basket="week")
    with pytest.raises(ValueError, match=r"rules\.item.*'sku'.*product_id.*category"):
        make_baskets(tx, item="sku")


def test_absent_item_column_is_named(tx):
    no_cat = validate(_raw().drop(columns=["category"]), "t")
    with pytest.raises(ValueError, match=r"'category'.*absent or empty"):
        make_baskets(no_cat, item="category")
    empty = _raw()
    empty["product_name"] = None
    with pytest.raises(ValueError, match="'product_name'"):
        make_baskets(validate(empty, "t"), item="product_name")


def test_missing_items_and_customers_are_ignored(tx):
    raw = _raw()
    raw.loc[6, "product_id"] = None  # i5's only line has no product
    raw.loc[3, "customer_id"] = None  # i2's line has no customer
    t = validate(raw, "t")
    assert contents(make_baskets(t)) == {"i1": {"A", "B"}, "i2": {"C"}, "i3": {"A"}, "i4": {"B"}}
    # customer baskets: i2's line belongs to no customer
    assert contents(make_baskets(t, basket="customer")) == {"c1": {"A", "B"}, "c2": {"A", "B"}}
    assert "c1@2024-01-01" in contents(make_baskets(t, basket="customer_day"))


def test_large_table_is_fast_and_sparse():
    # 1M lines: vectorised build, memory proportional to the entries
    import time

    rng = np.random.default_rng(0)
    n = 1_000_000
    days = pd.to_timedelta(rng.integers(0, 365, n), "D")
    tx = pd.DataFrame(
        {
            "customer_id": pd.Categorical(rng.integers(0, 20_000, n).astype(str)),
            "invoice_id": pd.Categorical(rng.integers(0, 200_000, n).astype(str)),
            "invoice_date": pd.Timestamp("2024-01-01") + days,
            "product_id": pd.Categorical(rng.integers(0, 5_000, n).astype(str)),
        }
    )
    t0 = time.perf_counter()
    b = make_baskets(tx)
    assert time.perf_counter() - t0 < 10
    assert b.matrix.shape[1] == 5_000
    assert b.matrix.nnz <= n and b.matrix.nnz == b.matrix.getnnz()
