"""Share of each customer's spend per product category: what they buy, independent of how much,
so big and small spenders with the same tastes land together. The categories are those seen at
fit; a later customer's spend on a new category is left out of its shares."""

from __future__ import annotations

import pandas as pd

from custseg.features.base import FeatureBuilder, per_customer


class CategoryMix(FeatureBuilder):
    NAME = "category_mix"
    NEEDS = ("category", "amount")

    def _build(self, tx: pd.DataFrame) -> pd.DataFrame:
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
