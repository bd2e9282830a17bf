from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hydra.utils import get_class

from custseg.config import ConfigError, groups
from custseg.data.schema import validate
from custseg.features import BUILDERS, FeatureError, align_columns, build_features, builder
from custseg.features.scaling import make_transformer
from tests.conftest import make_config


def _tx() -> pd.DataFrame:
    return validate(
        pd.DataFrame(
            {
                "customer_id": ["a", "a", "a", "b"],
                "invoice_id": ["1", "1", "2", "3"],
                "invoice_date": ["2024-01-01", "2024-01-01", "2024-01-11", "2024-02-01"],
                "product_id": ["x", "y", "x", "z"],
                "quantity": [2, 1, 3, 10],
                "unit_price": [1.0, 4.0, 1.0, 0.5],
                "amount": [2.0, 4.0, 3.0, 5.0],
            }
        ),
        "t",
    )


def test_value_quantity_matches_hand_count():
    cfg = make_config()
    assert cfg.features.name == "value_quantity"  # the default set
    f = build_features(_tx(), cfg.features)
    assert f.loc["a"].tolist() == [9.0, 6.0]
    assert f.loc["b"].tolist() == [5.0, 10.0]


def test_basket_features_match_hand_count():
    f = build_features(_tx(), make_config("features=basket").features)
    a = f.loc["a"]
    assert a["frequency"] == 2
    assert a["mean_basket_value"] == 4.5
    assert a["mean_basket_units"] == 3.0
    assert a["mean_unit_price"] == 9.0 / 6.0
    assert a["tenure_days"] == 10.0
    assert f.loc["b", "tenure_days"] == 0.0


def test_missing_column_names_it_and_the_sets_that_work():
    tx = _tx()
    tx["amount"] = np.nan  # a source without prices, like Groceries
    tx["unit_price"] = np.nan
    with pytest.raises(FeatureError) as err:
        build_features(tx, make_config().features)
    msg = str(err.value)
    assert "'amount'" in msg and "feature sets that work on it: ['visits']" in msg
    # ... and the money-free set does work on it
    visits = build_features(tx, make_config("features=visits").features)
    assert list(visits.columns) == ["visits", "recency_days", "tenure_days", "mean_basket_size",
                                    "distinct_items"]  # fmt: skip
    assert len(visits) == tx["customer_id"].nunique()
    # an unknown set is refused when the config is composed, naming the group and the options
    with pytest.raises(ConfigError) as bad:
        make_config("features=rfmx")
    msg = str(bad.value)
    assert "features=rfmx" in msg and "no option 'rfmx'" in msg and "did you mean 'rfm'" in msg


def test_every_config_option_names_its_builder_class():
    """The string lookup of the old registry is the config's `_target_` now: each option's
    target is the BUILDERS class of that name, and every builder has an option."""
    options = groups()["features"]
    assert {b.NAME for b in BUILDERS} == set(options)
    for name in options:
        cfg = make_config(f"features={name}").features
        cls = get_class(cfg.target)
        assert cls in BUILDERS and name == cls.NAME
        assert type(builder(cfg)) is cls


def test_transformer_logs_then_scales_and_rejects_negatives():
    b = builder(make_config("features.log1p=[total_value]").features)
    f = b.fit_transform(_tx())
    t = b.scaling(seed=0)
    out = pd.DataFrame(t.fit_transform(f), columns=t.get_feature_names_out())
    assert list(out.columns) == ["total_value", "total_quantity"]
    expected = np.log1p(f["total_value"])
    expected = (expected - expected.mean()) / expected.std(ddof=0)
    np.testing.assert_allclose(out["total_value"], expected)
    np.testing.assert_allclose(out["total_quantity"], [-1.0, 1.0])  # scaled, not logged
    with pytest.raises(FeatureError, match="non-negative"):
        make_transformer(list(f.columns), ["total_value"], "none").fit_transform(-f)
    # scaler and log1p names are checked with the config, naming the key
    with pytest.raises(ConfigError, match="features.scaler") as err:
        make_config("features.scaler=minmaxx")
    assert err.value.key == "features.scaler"
    with pytest.raises(ConfigError, match=r"features.log1p\[0\]") as err:
        make_config("features.log1p=[recency]")
    assert err.value.key == "features.log1p[0]"


def test_align_columns_folds_unseen_one_hots_into_other_and_zero_fills():
    later = pd.DataFrame(
        {"recency": [1.0, 2.0], "region_B": [1.0, 0.0], "region_Z": [0.0, 1.0]}, index=["a", "b"]
    )
    out = align_columns(later, ["recency", "region_A", "region_B", "region_Other"])
    assert list(out.columns) == ["recency", "region_A", "region_B", "region_Other"]
    assert out.loc["a"].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert out.loc["b"].tolist() == [2.0, 0.0, 0.0, 1.0]  # unseen Z counts as Other
