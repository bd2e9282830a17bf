"""Share of each customer's spend (or units, for price-less data) per product category: what they
buy, independent of how much, so big and small spenders with the same tastes land together. The
categories are those seen at fit; a later customer's spend on a new category is left out of its
shares."""

from __future__ import annotations

import pandas as pd

from custseg.data.schema import has_column
from custseg.features.base import FeatureBuilder, FeatureError, per_customer


class CategoryMix(FeatureBuilder):
    NAME = "category_mix"
    NEEDS = ("category",)

    def __init__(self, log1p: list[str], scaler: str, by: str) -> None:
        super().__init__(log1p, scaler)
        self.by = by  # "spend" (amount) or "units" (quantity; lines when there is none)

    def _check(self, tx: pd.DataFrame) -> None:
        super()._check(tx)
        if self.by == "spend" and not has_column(tx, "amount"):
            raise FeatureError(
                "feature set 'category_mix' with features.by=spend needs column 'amount', which "
                "this data does not have; use features.by=units (shares of units bought)"
            )

    def _build(self, tx: pd.DataFrame) -> pd.DataFrame:
        if self.by == "spend":
            weight = "amount"
        elif has_column(tx, "quantity"):
            weight = "quantity"
        else:
            tx, weight = tx.assign(_lines=1.0), "_lines"
        spend = (
            tx.groupby(["customer_id", "category"], observed=True)[weight]
            .sum()
            .unstack("category", fill_value=0.0)
        )
        spend.columns = "cat_" + spend.columns.astype("str")
        # every customer gets a row, even one whose lines all lack a category
        spend = spend.reindex(per_customer(tx).size().index, fill_value=0.0)
        total = spend.sum(axis=1)
        # no positive spend (nothing, or returns only): no meaningful mix, so all shares are 0
        return spend.div(total.where(total > 0), axis=0).fillna(0.0)
