from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custseg.data import synthetic
from custseg.data.schema import validate


@pytest.fixture(scope="module")
def demo() -> synthetic.Demo:
    return synthetic.generate(synthetic.DemoParams(n_rows=60_000), seed=7)


@pytest.fixture(scope="module")
def clean_lines(demo) -> pd.DataFrame:
    tx = demo.transactions
    keep = (
        tx["customer_id"].notna()
        & ~tx["invoice_id"].astype(str).str.startswith("C")
        & (tx["product_id"] != "POST")
    )
    out = tx[keep].drop_duplicates().astype({"customer_id": str, "product_id": str})
    return out.merge(demo.truth.customers[["customer_id", "segment"]], on="customer_id")


def test_same_seed_same_data_other_seed_other_data():
    p = synthetic.DemoParams(n_rows=5_000)
    a, b = synthetic.generate(p, seed=1), synthetic.generate(p, seed=1)
    pd.testing.assert_frame_equal(a.transactions, b.transactions)
    pd.testing.assert_frame_equal(a.truth.pairs, b.truth.pairs)
    c = synthetic.generate(p, seed=2)
    assert not a.transactions["amount"].equals(c.transactions["amount"])


@pytest.mark.parametrize("n_rows", [20_000, 200_000])
def test_size_follows_config(n_rows):
    demo = synthetic.generate(synthetic.DemoParams(n_rows=n_rows), seed=0)
    assert abs(demo.truth.dirt["clean_rows"] / n_rows - 1) < 0.15


def test_output_is_a_valid_canonical_table_with_dirt_to_clean(demo):
    tx = validate(demo.transactions, "demo")
    assert len(tx) == len(demo.transactions)
    d = demo.truth.dirt
    assert d["clean_rows"] + d["duplicates"] + d["anonymous"] + d["cancellations"] + d[
        "postage"
    ] == len(tx)
    assert (tx.loc[tx["invoice_id"].str.startswith("C"), "quantity"] < 0).all()


def test_planted_segments_buy_as_specified(clean_lines):
    per_cust = clean_lines.groupby("customer_id").agg(
        segment=("segment", "first"),
        invoices=("invoice_id", "nunique"),
        units=("quantity", "sum"),
        value=("amount", "sum"),
        last=("invoice_date", "max"),
    )
    per_cust["price"] = per_cust["value"] / per_cust["units"]
    med = per_cust.groupby("segment").median(numeric_only=True)
    assert med["value"].idxmax() == "high_value"
    assert med["invoices"].idxmax() == "high_value"
    assert med["price"].idxmax() == "premium"
    assert med["price"].idxmin() in {"bulk", "lapsed"}
    units_per_invoice = med["units"] / med["invoices"]
    assert units_per_invoice.idxmax() == "bulk"
    last = per_cust.groupby("segment")["last"].max()
    assert last["lapsed"] < pd.Timestamp("2024-06-01") < last.drop("lapsed").min()


def test_planted_pairs_are_strong_rules_inside_their_segment(demo, clean_lines):
    """Independent count: confidence and lift of each planted pair within its segment."""
    for pair in demo.truth.pairs.itertuples():
        seg = clean_lines[clean_lines["segment"] == pair.segment]
        baskets = seg.groupby("invoice_id")["product_id"].agg(set)
        has_a = baskets.map(lambda s, a=pair.antecedent: a in s)
        has_b = baskets.map(lambda s, b=pair.consequent: b in s)
        confidence = (has_a & has_b).sum() / has_a.sum()
        lift = confidence / has_b.mean()
        assert has_a.mean() > 0.08, pair  # frequent enough to be mined
        assert confidence > 0.5, pair  # planted at 0.7; lapsed has few baskets
        assert lift > 3, pair


def test_regions_prefer_different_categories(clean_lines):
    mix = pd.crosstab(clean_lines["region"], clean_lines["category"], normalize="index")
    # total-variation distance between the closest two regions' category mixes
    dists = [
        0.5 * np.abs(mix.iloc[i] - mix.iloc[j]).sum()
        for i in range(len(mix))
        for j in range(i + 1, len(mix))
    ]
    assert min(dists) > 0.1


def test_bad_generator_settings_are_rejected():
    with pytest.raises(ValueError, match="n_products"):
        synthetic.generate(synthetic.DemoParams(n_rows=1_000, n_products=10))
