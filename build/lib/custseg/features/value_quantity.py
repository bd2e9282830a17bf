"""TotalValue and total Quantity per customer: the notebook baseline, kept for comparison."""

from __future__ import annotations

import pandas as pd

from custseg.features.base import FeatureBuilder, per_customer


class ValueQuantity(FeatureBuilder):
    NAME = "value_quantity"
    NEEDS = ("amount", "quantity")
    COLUMNS = ("total_value", "total_quantity")

    def _build(self, tx: pd.DataFrame) -> pd.DataFrame:
        return per_customer(tx).agg(
            total_value=("amount", "sum"), total_quantity=("quantity", "sum")
        )
