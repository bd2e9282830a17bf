"""Money-free features (price-less basket data) against hand counts."""

from __future__ import annotations

import pandas as pd
import pytest

from custseg.data.schema import validate
from custseg.features import FeatureError, build_features
from tests.conftest import make_config


def _baskets() -> pd.DataFrame:
    """Member, day, item only (Kaggle Groceries' shape), plus a category for the mix."""
    return validate(
        pd.DataFrame(
            {
                "customer_id": ["a", "a", "a", "a", "b"],
                "invoice_id": ["a@1", "a@1", "a@1", "a@11", "b@5"],
                "invoice_date": ["2024-01-01", "2024-01-01", "2024-01-01", "2024-01-11",
                                 "2024-01-05"],  # fmt: skip
                "product_id": ["milk", "bread", "eggs", "milk", "soda"],
                "category": ["dairy", "bakery", "dairy", "dairy", "drinks"],
                "quantity": 1,  # what the loader sets when a source has no quantities
                "unit_price": float("nan"),  # ... and no prices: missing, never 0
                "amount": float("nan"),
            }
        ),
        "t",
    )


def test_visits_match_hand_count() -> None:
    f = build_features(_baskets(), make_config("features=visits").features)
    # reference date: the day after the last sale, 2024-01-12
    assert f.loc["a"].to_dict() == {"visits": 2.0, "recency_days": 1.0, "tenure_days": 10.0,
                                    "mean_basket_size": 2.0, "distinct_items": 3.0}  # fmt: skip
    assert f.loc["b"].to_dict() == {"visits": 1.0, "recency_days": 7.0, "tenure_days": 0.0,
                                    "mean_basket_size": 1.0, "distinct_items": 1.0}  # fmt: skip


def test_category_mix_by_units_without_prices() -> None:
    cfg = make_config("features=category_mix", "features.by=units").features
    f = build_features(_baskets(), cfg)
    assert f.loc["a"].to_dict() == pytest.approx({"cat_bakery": 0.25, "cat_dairy": 0.75,
                                                  "cat_drinks": 0.0})  # fmt: skip
    assert f.loc["b", "cat_drinks"] == 1.0
    with pytest.raises(FeatureError, match="features.by=units"):
        build_features(_baskets(), make_config("features=category_mix").features)
