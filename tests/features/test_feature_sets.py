"""Each feature set against a table small enough to count by hand.

Customers (dates 2024; the last sale is b's, Feb 1 15:00, so the default reference is Feb 2):
  a: invoices 1 (Jan 1, two lines) and 2 (Jan 11); value 9, units 6; regions North x2, South x1;
     spend Food 5, Toys 4
  b: invoice 3 (Feb 1 15:00); value 5, units 10; South; Toys 5
  c: invoices 4 (Jan 20) and 5 (Jan 25); value 2, units 2; West x1, East x1 (tie); Food 1, Garden 1
  d: invoice 6 (Jan 15); value 4, units 2; South; Garden 4
Regions by customers: South 2 (b, d), North 1 (a), East 1 (c).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from custseg.data.schema import validate
from custseg.features import REGISTRY, FeatureError, build_features
from custseg.features.scaling import make_transformer
from tests.conftest import make_cfg


def _raw(**extra: list) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "c", "c", "d"],
            "invoice_id": ["1", "1", "2", "3", "4", "5", "6"],
            "invoice_date": [
                "2024-01-01 10:00:00",
                "2024-01-01 10:00:00",
                "2024-01-11 00:00:00",
                "2024-02-01 15:00:00",
                "2024-01-20 00:00:00",
                "2024-01-25 00:00:00",
                "2024-01-15 00:00:00",
            ],
            "product_id": ["x", "y", "x", "z", "x", "w", "w"],
            "quantity": [2, 1, 3, 10, 1, 1, 2],
            "unit_price": [1.0, 4.0, 1.0, 0.5, 1.0, 1.0, 2.0],
            "amount": [2.0, 4.0, 3.0, 5.0, 1.0, 1.0, 4.0],
            "category": ["Food", "Toys", "Food", "Toys", "Food", "Garden", "Garden"],
            "region": ["North", "North", "South", "South", "West", "East", "South"],
            **extra,
        }
    )


def _tx(**extra: list) -> pd.DataFrame:
    return validate(_raw(**extra), "t")


def _bare() -> pd.DataFrame:
    """Only the required columns: no category, region or weight."""
    return validate(_raw().drop(columns=["category", "region"]), "t")


def test_value_quantity_price():
    f = build_features(_tx(), "value_quantity_price")
    assert list(f.columns) == ["total_value", "total_quantity", "avg_unit_price"]
    assert f.loc["a"].tolist() == [9.0, 6.0, 1.5]
    assert f.loc["b"].tolist() == [5.0, 10.0, 0.5]
    assert f.loc["c"].tolist() == [2.0, 2.0, 1.0]
    assert f.loc["d"].tolist() == [4.0, 2.0, 2.0]


def test_rfm_default_reference_is_day_after_last_sale():
    f = build_features(_tx(), "rfm", {"reference_date": None})
    assert list(f.columns) == ["recency_days", "frequency", "monetary"]
    # reference 2024-02-02 00:00
    assert f.loc["a"].tolist() == [22.0, 2.0, 9.0]
    assert f.loc["b"].tolist() == [9 / 24, 1.0, 5.0]
    assert f.loc["c"].tolist() == [8.0, 2.0, 2.0]
    assert f.loc["d"].tolist() == [18.0, 1.0, 4.0]
    assert build_features(_tx(), "rfm").equals(f)  # key absent behaves as null


def test_rfm_explicit_reference_date():
    f = build_features(_tx(), "rfm", {"reference_date": "2024-03-01"})
    # 2024 is a leap year: Jan 11 -> Mar 1 is 20 + 29 days
    assert f["recency_days"].to_dict() == {"a": 50.0, "b": 28.375, "c": 36.0, "d": 46.0}
    with pytest.raises(FeatureError, match="before the last purchase"):
        build_features(_tx(), "rfm", {"reference_date": "2024-01-31"})
    with pytest.raises(FeatureError, match="features.reference_date"):
        build_features(_tx(), "rfm", {"reference_date": "soon"})


def test_rfm_region_one_hot_with_tie_rule():
    f = build_features(_tx(), "rfm_region", {"top_regions": 10})
    rfm = build_features(_tx(), "rfm")
    pd.testing.assert_frame_equal(f[list(rfm.columns)], rfm)
    regions = f.drop(columns=rfm.columns)
    assert list(regions.columns) == ["region_East", "region_North", "region_South"]
    assert regions.loc["a"].tolist() == [0.0, 1.0, 0.0]  # North x2 beats South x1
    assert regions.loc["b"].tolist() == [0.0, 0.0, 1.0]
    assert regions.loc["c"].tolist() == [1.0, 0.0, 0.0]  # East/West tie: East, alphabetically
    assert regions.loc["d"].tolist() == [0.0, 0.0, 1.0]


def test_rfm_region_other_bucket():
    f = build_features(_tx(), "rfm_region", {"top_regions": 1})
    regions = f.filter(like="region_")
    assert list(regions.columns) == ["region_South", "region_Other"]  # South has 2 customers
    assert regions["region_South"].to_dict() == {"a": 0.0, "b": 1.0, "c": 0.0, "d": 1.0}
    assert regions["region_Other"].to_dict() == {"a": 1.0, "b": 0.0, "c": 1.0, "d": 0.0}
    # North and East both have 1 customer: the tie keeps East
    f2 = build_features(_tx(), "rfm_region", {"top_regions": 2})
    assert list(f2.filter(like="region_").columns) == [
        "region_East",
        "region_South",
        "region_Other",
    ]
    assert f2.loc["a", "region_Other"] == 1.0
    with pytest.raises(FeatureError, match="features.top_regions"):
        build_features(_tx(), "rfm_region", {"top_regions": 0})


def test_category_mix_shares_sum_to_one():
    f = build_features(_tx(), "category_mix")
    assert list(f.columns) == ["cat_Food", "cat_Garden", "cat_Toys"]
    assert f.loc["a"].tolist() == [5 / 9, 0.0, 4 / 9]
    assert f.loc["b"].tolist() == [0.0, 0.0, 1.0]
    assert f.loc["c"].tolist() == [0.5, 0.5, 0.0]
    assert f.loc["d"].tolist() == [0.0, 1.0, 0.0]
    np.testing.assert_allclose(f.sum(axis=1), 1.0)


def test_category_mix_zero_spend_customer_gets_zero_shares():
    raw = _raw()
    zero = raw.iloc[[0]].assign(customer_id="e", invoice_id="7", unit_price=0.0, amount=0.0)
    f = build_features(validate(pd.concat([raw, zero]), "t"), "category_mix")
    assert f.loc["e"].tolist() == [0.0, 0.0, 0.0]
    assert f.loc["a"].tolist() == [5 / 9, 0.0, 4 / 9]


def test_basket_weight_columns_only_with_weight():
    base = ["frequency", "mean_basket_value", "mean_basket_units", "mean_unit_price", "tenure_days"]
    assert list(build_features(_tx(), "basket").columns) == base
    assert list(build_features(_tx(weight=[np.nan] * 7), "basket").columns) == base

    # weight is per unit: a weighs 2*0.5 + 1*2 + 3*0.5 = 4.5
    f = build_features(_tx(weight=[0.5, 2.0, 0.5, 0.1, 1.0, 1.0, np.nan]), "basket")
    assert list(f.columns) == [*base, "total_weight", "sales_per_weight"]
    assert f.loc["a", "total_weight"] == 4.5 and f.loc["a", "sales_per_weight"] == 2.0
    assert f.loc["b", "total_weight"] == pytest.approx(1.0)
    assert f.loc["b", "sales_per_weight"] == pytest.approx(5.0)
    assert f.loc["c"][["total_weight", "sales_per_weight"]].tolist() == [2.0, 1.0]
    assert f.loc["d", "total_weight"] == 0.0 and np.isnan(f.loc["d", "sales_per_weight"])
    pd.testing.assert_frame_equal(f[base], build_features(_tx(), "basket"))


def test_category_mix_without_category_names_it_and_usable_sets():
    with pytest.raises(FeatureError) as err:
        build_features(_bare(), "category_mix")
    msg = str(err.value)
    assert "needs column 'category'" in msg
    usable = msg.split("feature sets that work on it: ")[1]
    for name in ("rfm", "basket", "value_quantity", "value_quantity_price"):
        assert f"'{name}'" in usable
    for name in ("category_mix", "rfm_region"):
        assert f"'{name}'" not in usable


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_config_composes_builds_and_scales(name):
    params = OmegaConf.to_container(make_cfg(f"features={name}").features, resolve=True)
    assert params["name"] == name
    tx = _tx(weight=[0.5, 2.0, 0.5, 0.1, 1.0, 1.0, 0.25])  # every optional column present
    for data in (tx, _bare()) if name not in {"category_mix", "rfm_region"} else (tx,):
        f = build_features(data, name, params)
        assert list(f.index) == ["a", "b", "c", "d"]
        t = make_transformer(list(f.columns), params["log1p"], params["scaler"])
        out = t.fit_transform(f)
        assert out.shape == f.shape and np.isfinite(out).all()
