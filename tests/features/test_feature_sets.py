"""Each feature set against a table small enough to count by hand, built through the config
(`features=<name>` names the builder by `_target_`), and what a fitted builder learns.

Customers (dates 2024; the last sale is b's, Feb 1 15:00, so the default reference is Feb 2):
  a: invoices 1 (Jan 1, two lines) and 2 (Jan 11); value 9, units 6; regions North x2, South x1;
     spend Food 5, Toys 4
  b: invoice 3 (Feb 1 15:00); value 5, units 10; South; Toys 5
  c: invoices 4 (Jan 20) and 5 (Jan 25); value 2, units 2; West x1, East x1 (tie); Food 1, Garden 1
  d: invoice 6 (Jan 15); value 4, units 2; South; Garden 4
Regions by customers: South 2 (b, d), North 1 (a), East 1 (c).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest
from omegaconf import open_dict

from custseg.config import ConfigError, compose, groups
from custseg.config import validate as validate_config
from custseg.config.schema import Features
from custseg.data.schema import validate
from custseg.features import BUILDERS, FeatureError, build_features, builder
from tests.conftest import make_config

WITH_REGION_OR_CATEGORY = {"category_mix", "rfm_region"}


@cache
def _cfg(name: str, *overrides: str) -> Features:
    """The checked `features` block of `features=<name>` (frozen, so safe to share)."""
    return make_config(f"features={name}", *(f"features.{o}" for o in overrides)).features


def _build(tx: pd.DataFrame, name: str, *overrides: str) -> pd.DataFrame:
    return build_features(tx, _cfg(name, *overrides))


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


def _later() -> pd.DataFrame:
    """A later month: customers a (again) and e, f; regions and categories the fit never saw."""
    return validate(
        pd.DataFrame(
            {
                "customer_id": ["a", "e", "e", "f"],
                "invoice_id": ["7", "8", "8", "9"],
                "invoice_date": [
                    "2024-03-01 00:00",
                    "2024-03-05 00:00",
                    "2024-03-05 00:00",
                    "2024-03-09 12:00",
                ],
                "product_id": ["x", "x", "v", "w"],
                "quantity": [1, 2, 1, 4],
                "unit_price": [2.0, 1.0, 6.0, 1.0],
                "amount": [2.0, 2.0, 6.0, 4.0],
                "category": ["Food", "Food", "Books", "Garden"],
                "region": ["North", "Mars", "Mars", "West"],
            }
        ),
        "later",
    )


def test_value_quantity_price():
    f = _build(_tx(), "value_quantity_price")
    assert list(f.columns) == ["total_value", "total_quantity", "avg_unit_price"]
    assert f.loc["a"].tolist() == [9.0, 6.0, 1.5]
    assert f.loc["b"].tolist() == [5.0, 10.0, 0.5]
    assert f.loc["c"].tolist() == [2.0, 2.0, 1.0]
    assert f.loc["d"].tolist() == [4.0, 2.0, 2.0]


def test_rfm_default_reference_is_day_after_last_sale():
    assert _cfg("rfm").reference_date is None  # conf/features/rfm.yaml's default
    b = builder(_cfg("rfm"))
    f = b.fit_transform(_tx())
    assert b.reference_date_ == pd.Timestamp("2024-02-02")  # learned at fit
    assert list(f.columns) == ["recency_days", "frequency", "monetary"]
    assert f.loc["a"].tolist() == [22.0, 2.0, 9.0]
    assert f.loc["b"].tolist() == [9 / 24, 1.0, 5.0]
    assert f.loc["c"].tolist() == [8.0, 2.0, 2.0]
    assert f.loc["d"].tolist() == [18.0, 1.0, 4.0]
    # the key must be there (null for the default): a file without it is refused, naming it
    raw = compose(["features=rfm"])
    with open_dict(raw):
        del raw.features["reference_date"]
    with pytest.raises(ConfigError, match="features.reference_date is required"):
        validate_config(raw)


def test_rfm_explicit_reference_date():
    f = _build(_tx(), "rfm", "reference_date=2024-03-01")
    # 2024 is a leap year: Jan 11 -> Mar 1 is 20 + 29 days
    assert f["recency_days"].to_dict() == {"a": 50.0, "b": 28.375, "c": 36.0, "d": 46.0}
    with pytest.raises(FeatureError, match="features.reference_date.*before the last purchase"):
        _build(_tx(), "rfm", "reference_date=2024-01-31")
    with pytest.raises(ConfigError, match="features.reference_date") as err:
        _cfg("rfm", "reference_date=soon")
    assert err.value.key == "features.reference_date"


def test_rfm_recency_of_some_customers_is_their_recency_in_the_full_table():
    """The reference date is learned at fit: c and d alone (whose last sale is weeks before
    b's) are still measured to Feb 2, not to the day after their own last sale."""
    full = builder(_cfg("rfm"))
    table = full.fit_transform(_tx())
    tx = _tx()
    some = full.transform(tx[tx["customer_id"].isin(["c", "d"])])
    pd.testing.assert_frame_equal(some, table.loc[["c", "d"]])
    # a one-off table of the same customers counts to its own end instead (Jan 26)
    alone = _build(tx[tx["customer_id"].isin(["c", "d"])], "rfm")
    assert alone["recency_days"].to_dict() == {"c": 1.0, "d": 11.0}


def test_rfm_of_a_later_period_counts_to_its_own_end_never_negative():
    """Sales past the fitted reference date: recency runs to the day after the later data's
    last sale (Mar 10), so it never turns negative."""
    b = builder(_cfg("rfm")).fit(_tx())
    later = b.transform(_later())
    assert later["recency_days"].to_dict() == {"a": 9.0, "e": 5.0, "f": 0.5}
    assert b.reference_date_ == pd.Timestamp("2024-02-02")  # transform learns nothing
    # a configured date is kept, and a later sale past it is an error naming the key
    fixed = builder(_cfg("rfm", "reference_date=2024-03-01")).fit(_tx())
    with pytest.raises(FeatureError, match="features.reference_date"):
        fixed.transform(_later())


def test_rfm_region_one_hot_with_tie_rule():
    f = _build(_tx(), "rfm_region", "top_regions=10")
    rfm = _build(_tx(), "rfm")
    pd.testing.assert_frame_equal(f[list(rfm.columns)], rfm)
    regions = f.drop(columns=rfm.columns)
    assert list(regions.columns) == ["region_East", "region_North", "region_South"]
    assert regions.loc["a"].tolist() == [0.0, 1.0, 0.0]  # North x2 beats South x1
    assert regions.loc["b"].tolist() == [0.0, 0.0, 1.0]
    assert regions.loc["c"].tolist() == [1.0, 0.0, 0.0]  # East/West tie: East, alphabetically
    assert regions.loc["d"].tolist() == [0.0, 0.0, 1.0]


def test_rfm_region_other_bucket():
    f = _build(_tx(), "rfm_region", "top_regions=1")
    regions = f.filter(like="region_")
    assert list(regions.columns) == ["region_South", "region_Other"]  # South has 2 customers
    assert regions["region_South"].to_dict() == {"a": 0.0, "b": 1.0, "c": 0.0, "d": 1.0}
    assert regions["region_Other"].to_dict() == {"a": 1.0, "b": 0.0, "c": 1.0, "d": 0.0}
    # North and East both have 1 customer: the tie keeps East
    f2 = _build(_tx(), "rfm_region", "top_regions=2")
    assert list(f2.filter(like="region_").columns) == [
        "region_East",
        "region_South",
        "region_Other",
    ]
    assert f2.loc["a", "region_Other"] == 1.0
    with pytest.raises(ConfigError, match="features.top_regions"):
        _cfg("rfm_region", "top_regions=0")


def test_rfm_region_of_a_later_period_gets_the_fitted_regions():
    b = builder(_cfg("rfm_region", "top_regions=2"))
    fitted = b.fit_transform(_tx())
    assert b.regions_ == ["East", "South", "Other"]
    later = b.transform(_later())
    assert list(later.columns) == list(fitted.columns) == b.columns_
    regions = later.filter(like="region_")
    assert regions.loc["a"].tolist() == [0.0, 0.0, 1.0]  # North: not kept at fit
    assert regions.loc["e"].tolist() == [0.0, 0.0, 1.0]  # Mars: never seen
    assert regions.loc["f"].tolist() == [0.0, 0.0, 1.0]
    # without an Other column (every region kept), a new region is all zeros
    wide = builder(_cfg("rfm_region", "top_regions=10")).fit(_tx())
    later = wide.transform(_later())
    assert list(later.columns) == wide.columns_
    assert later.filter(like="region_").loc["e"].tolist() == [0.0, 0.0, 0.0]


def test_category_mix_shares_sum_to_one():
    f = _build(_tx(), "category_mix")
    assert list(f.columns) == ["cat_Food", "cat_Garden", "cat_Toys"]
    assert f.loc["a"].tolist() == [5 / 9, 0.0, 4 / 9]
    assert f.loc["b"].tolist() == [0.0, 0.0, 1.0]
    assert f.loc["c"].tolist() == [0.5, 0.5, 0.0]
    assert f.loc["d"].tolist() == [0.0, 1.0, 0.0]
    np.testing.assert_allclose(f.sum(axis=1), 1.0)


def test_category_mix_of_a_later_period_gets_the_fitted_categories():
    b = builder(_cfg("category_mix"))
    b.fit(_tx())
    later = b.transform(_later())
    assert list(later.columns) == ["cat_Food", "cat_Garden", "cat_Toys"] == b.columns_
    assert later.loc["a"].tolist() == [1.0, 0.0, 0.0]
    assert later.loc["f"].tolist() == [0.0, 1.0, 0.0]
    # e spent 2 on Food and 6 on Books, a category the fit never saw: left out of its shares
    assert later.loc["e"].tolist() == [0.25, 0.0, 0.0]


def test_category_mix_zero_spend_customer_gets_zero_shares():
    raw = _raw()
    zero = raw.iloc[[0]].assign(customer_id="e", invoice_id="7", unit_price=0.0, amount=0.0)
    f = _build(validate(pd.concat([raw, zero]), "t"), "category_mix")
    assert f.loc["e"].tolist() == [0.0, 0.0, 0.0]
    assert f.loc["a"].tolist() == [5 / 9, 0.0, 4 / 9]


def test_basket_weight_columns_only_with_weight():
    base = ["frequency", "mean_basket_value", "mean_basket_units", "mean_unit_price", "tenure_days"]
    assert list(_build(_tx(), "basket").columns) == base
    assert list(_build(_tx(weight=[np.nan] * 7), "basket").columns) == base

    # weight is per unit: a weighs 2*0.5 + 1*2 + 3*0.5 = 4.5
    f = _build(_tx(weight=[0.5, 2.0, 0.5, 0.1, 1.0, 1.0, np.nan]), "basket")
    assert list(f.columns) == [*base, "total_weight", "sales_per_weight"]
    assert f.loc["a", "total_weight"] == 4.5 and f.loc["a", "sales_per_weight"] == 2.0
    assert f.loc["b", "total_weight"] == pytest.approx(1.0)
    assert f.loc["b", "sales_per_weight"] == pytest.approx(5.0)
    assert f.loc["c"][["total_weight", "sales_per_weight"]].tolist() == [2.0, 1.0]
    assert f.loc["d", "total_weight"] == 0.0 and np.isnan(f.loc["d", "sales_per_weight"])
    pd.testing.assert_frame_equal(f[base], _build(_tx(), "basket"))


def test_basket_fitted_without_weight_ignores_a_later_weight_column():
    b = builder(_cfg("basket")).fit(_tx())
    later = b.transform(_tx(weight=[0.5] * 7))
    assert list(later.columns) == b.columns_ == list(b.COLUMNS)
    pd.testing.assert_frame_equal(later, _build(_tx(), "basket"))


def test_category_mix_without_category_names_it_and_usable_sets():
    with pytest.raises(FeatureError) as err:
        _build(_bare(), "category_mix")
    msg = str(err.value)
    assert "needs column 'category'" in msg
    usable = msg.split("feature sets that work on it: ")[1]
    for name in ("rfm", "basket", "value_quantity", "value_quantity_price"):
        assert f"'{name}'" in usable
    for name in ("category_mix", "rfm_region"):
        assert f"'{name}'" not in usable


@pytest.mark.parametrize("name", groups()["features"])
def test_config_composes_builds_and_scales(name):
    cfg = _cfg(name)
    assert cfg.name == name
    tx = _tx(weight=[0.5, 2.0, 0.5, 0.1, 1.0, 1.0, 0.25])  # every optional column present
    for data in (tx, _bare()) if name not in WITH_REGION_OR_CATEGORY else (tx,):
        b = builder(cfg)
        f = b.fit_transform(data)
        assert list(f.index) == ["a", "b", "c", "d"] and b.columns_ == list(f.columns)
        out = b.scaling(seed=0).fit_transform(f)
        assert out.shape == f.shape and np.isfinite(out).all()


@pytest.mark.parametrize("name", groups()["features"])
def test_every_option_targets_a_builder_whose_needs_and_columns_match(name):
    """conf/features/<name>.yaml's `_target_` builds the class named <name>; it builds its
    COLUMNS (first, in order) and fails naming each NEEDS column the data lacks."""
    cfg = _cfg(name)
    b = builder(cfg)
    assert type(b) in BUILDERS and name == b.NAME
    assert cfg.target == f"{type(b).__module__}.{type(b).__qualname__}"
    assert b.log1p == list(cfg.log1p) and b.scaler == cfg.scaler
    assert set(cfg.log1p) <= set(b.COLUMNS)  # the default log1p columns are the set's own
    columns = list(b.fit_transform(_tx()).columns)
    assert columns[: len(b.COLUMNS)] == list(b.COLUMNS)
    for need in b.NEEDS:
        tx = _tx().drop(columns=need)
        with pytest.raises(FeatureError, match=f"{name!r} needs column {need!r}"):
            builder(cfg).fit(tx)


def test_every_builder_is_a_config_option():
    assert sorted(b.NAME for b in BUILDERS) == sorted(groups()["features"])
