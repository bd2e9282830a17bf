from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custseg.data.schema import validate
from custseg.features import REGISTRY, FeatureError, build_features
from custseg.features.scaling import make_transformer


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
    f = build_features(_tx(), "value_quantity")
    assert f.loc["a"].tolist() == [9.0, 6.0]
    assert f.loc["b"].tolist() == [5.0, 10.0]


def test_basket_features_match_hand_count():
    f = build_features(_tx(), "basket")
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
        build_features(tx, "value_quantity")
    msg = str(err.value)
    assert "'amount'" in msg and "feature sets that work on it: none" in msg
    with pytest.raises(FeatureError, match="unknown feature set 'rfmx'"):
        build_features(_tx(), "rfmx")


def test_every_registered_set_has_a_config_file():
    from custseg.cli import conf_dir

    configs = {p.stem for p in (conf_dir() / "features").glob("*.yaml")}
    assert set(REGISTRY) == configs


def test_transformer_logs_then_scales_and_rejects_negatives():
    f = build_features(_tx(), "value_quantity")
    t = make_transformer(list(f.columns), ["total_value"], "standard")
    out = pd.DataFrame(t.fit_transform(f), columns=t.get_feature_names_out())
    assert list(out.columns) == ["total_value", "total_quantity"]
    expected = np.log1p(f["total_value"])
    expected = (expected - expected.mean()) / expected.std(ddof=0)
    np.testing.assert_allclose(out["total_value"], expected)
    with pytest.raises(FeatureError, match="non-negative"):
        make_transformer(list(f.columns), ["total_value"], "none").fit_transform(-f)
    with pytest.raises(FeatureError, match="features.scaler"):
        make_transformer(list(f.columns), [], "minmaxx")
    with pytest.raises(FeatureError, match="features.log1p"):
        make_transformer(list(f.columns), ["recency"], "standard")


def test_align_columns_folds_unseen_one_hots_into_other_and_zero_fills():
    from custseg.features.registry import align_columns

    later = pd.DataFrame(
        {"recency": [1.0, 2.0], "region_B": [1.0, 0.0], "region_Z": [0.0, 1.0]}, index=["a", "b"]
    )
    out = align_columns(later, ["recency", "region_A", "region_B", "region_Other"])
    assert list(out.columns) == ["recency", "region_A", "region_B", "region_Other"]
    assert out.loc["a"].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert out.loc["b"].tolist() == [2.0, 0.0, 0.0, 1.0]  # unseen Z counts as Other
