"""Share of each customer's spend per product category: what they buy, independent of how much,
so big and small spenders with the same tastes land together."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from custseg.features.registry import FeatureSet, per_customer, register


def build(tx: pd.DataFrame, params: Mapping[str, Any]) -> pd.DataFrame:
    spend = (
        tx.groupby(["customer_id", "category"], observed=True)["amount"]
        .sum()
        .unstack("category", fill_value=0.0)
    )
    spend.columns = "cat_" + spend.columns.astype("str")
    # every customer gets a row, even one whose lines all lack a category
    spend = spend.reindex(per_customer(tx).size().index, fill_value=0.0)
    total = spend.sum(axis=1)
    # no positive spend (nothing, or returns only): no meaningful mix, so all shares are 0
    return spend.div(total.where(total > 0), axis=0).fillna(0.0)


FEATURES = register(FeatureSet("category_mix", ("category", "amount"), build))
