"""profile() on a table small enough to check every number by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custseg.data.schema import validate
from custseg.profiling.profiles import customer_descriptors, profile


def _table() -> pd.DataFrame:
    # a, b in segment 0; c in segment 1; d is unlabelled but holds the data's last sale (01-12)
    return validate(
        pd.DataFrame(
            {
                "customer_id": ["a", "a", "a", "b", "c", "d"],
                "invoice_id": ["i1", "i1", "i2", "i3", "i4", "i5"],
                "invoice_date": [
                    "2024-01-01",
                    "2024-01-01",
                    "2024-01-05",
                    "2024-01-03",
                    "2024-01-10",
                    "2024-01-12",
                ],
                "product_id": ["P1", "P2", "P1", "P2", "P1", "P3"],
                "quantity": [2, 1, 4, 2, 10, 1],
                "unit_price": [5, 20, 5, 20, 1, 100],
                "amount": [10, 20, 20, 40, 10, 100],
                "product_name": ["one", "two", "one", "two", "one", "three"],
                "category": ["X", "Y", "X", "Y", "X", "Z"],
                "region": ["N", "N", "S", "S", "N", "E"],
            }
        ),
        "t",
    )


SEG = pd.Series({"a": 0, "b": 0, "c": 1})
FEATS = pd.DataFrame({"x": [1.0, 3.0, 5.0, 9.0]}, index=["a", "b", "c", "d"])


def test_descriptors_by_hand() -> None:
    d = customer_descriptors(_table())
    assert list(d.index) == ["a", "b", "c", "d"]
    a = d.loc["a"]
    assert a["monetary"] == 50 and a["frequency"] == 2
    assert a["recency_days"] == 8  # 01-05 to 01-13, the day after the last sale
    assert a["units_per_basket"] == 3.5
    assert a["mean_unit_price"] == pytest.approx(50 / 7)
    assert a["tenure_days"] == 4
    assert d.loc["c", "recency_days"] == 3 and d.loc["b", "tenure_days"] == 0


def test_descriptors_without_amount_omit_money() -> None:
    tx = _table().assign(amount=np.nan)
    d = customer_descriptors(tx)
    assert "monetary" not in d.columns and "mean_unit_price" not in d.columns
    assert d.loc["a", "units_per_basket"] == 3.5


def test_summary_by_hand() -> None:
    s = profile(_table(), SEG, FEATS).summary
    assert list(s.index) == ["0", "1", "all"]
    assert s["customers"].tolist() == [2, 1, 3]
    assert s.loc[["0", "1"], "customer_share"].sum() == pytest.approx(1.0)
    assert s.loc["0", "customer_share"] == pytest.approx(2 / 3)
    assert s["revenue"].tolist() == [90, 10, 100]  # d's 100 is ignored
    assert s.loc[["0", "1"], "revenue_share"].tolist() == pytest.approx([0.9, 0.1])
    assert s["avg_basket_value"].tolist() == pytest.approx([30, 10, 25])
    assert s["avg_basket_units"].tolist() == pytest.approx([3, 10, 4.75])
    assert s.loc["0", "mean_monetary"] == 45 and s.loc["all", "median_monetary"] == 40
    assert s.loc["0", "mean_recency_days"] == 9 and s.loc["1", "median_frequency"] == 1
    assert s.loc["0", "mean_feature_x"] == 2 and s.loc["all", "median_feature_x"] == 3
    assert "median_feature_x" in s.columns and "mean_tenure_days" in s.columns


def test_unassigned_row_last() -> None:
    seg = pd.Series({"a": 1, "b": -1, "c": 0})
    s = profile(_table(), seg, FEATS).summary
    assert list(s.index) == ["0", "1", "-1", "all"]


def test_mixes_by_hand() -> None:
    p = profile(_table(), SEG, FEATS)
    r = p.region_mix
    assert r is not None
    # a's main region is N (2 of 3 lines), b's S, c's N
    assert r.loc["0", "N"] == 0.5 and r.loc["0", "S"] == 0.5
    assert r.loc["1", "N"] == 1.0 and r.loc["1", "S"] == 0.0
    assert r.loc["all", "N"] == pytest.approx(2 / 3)
    assert "E" not in r.columns  # only d bought in E
    c = p.category_mix
    assert c is not None
    assert c.loc["0", "X"] == pytest.approx(1 / 3) and c.loc["0", "Y"] == pytest.approx(2 / 3)
    assert c.loc["all", "X"] == pytest.approx(0.4)
    np.testing.assert_allclose(c.sum(axis=1), 1.0)


def test_top_products_by_hand() -> None:
    t = profile(_table(), SEG, FEATS, top_n=2).top_products
    assert t is not None
    assert list(t.columns) == [
        "segment", "rank", "product_id", "product_name", "customers", "share", "overall_share",
    ]  # fmt: skip
    s0 = t[t["segment"] == "0"]
    assert s0["product_id"].tolist() == ["P2", "P1"] and s0["rank"].tolist() == [1, 2]
    assert s0["customers"].tolist() == [2, 1]
    assert s0["share"].tolist() == [1.0, 0.5]
    assert s0["overall_share"].tolist() == pytest.approx([2 / 3, 2 / 3])
    assert s0["product_name"].tolist() == ["two", "one"]
    allp = t[t["segment"] == "all"]
    assert allp["product_id"].tolist() == ["P1", "P2"]  # tie on 2 buyers: by id
    one = profile(_table(), SEG, FEATS, top_n=1).top_products
    assert one is not None and one.groupby("segment").size().tolist() == [1, 1, 1]


def test_missing_optional_columns_give_none() -> None:
    tx = _table().drop(columns=["region", "category", "product_name"])
    p = profile(tx, SEG, FEATS)
    assert p.region_mix is None and p.category_mix is None
    assert p.top_products is not None and "product_name" not in p.top_products.columns
    no_products = profile(_table().assign(product_id=None), SEG, FEATS)
    assert no_products.top_products is None
    no_amount = profile(_table().assign(amount=np.nan), SEG, FEATS)
    assert no_amount.category_mix is None and no_amount.region_mix is not None
    assert "mean_monetary" not in no_amount.summary.columns


def test_categorical_ids() -> None:
    tx = _table()
    tx["customer_id"] = tx["customer_id"].astype("category")
    tx["product_id"] = tx["product_id"].astype("category")
    p = profile(tx, SEG, FEATS)
    assert p.summary["customers"].tolist() == [2, 1, 3]
    assert p.top_products is not None
