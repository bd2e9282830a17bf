"""Basket behaviour per customer: how often, how big, how pricey, for how long.

These separate customers that spend the same total in different ways (a few bulk orders versus
many small ones), which TotalValue/Quantity alone cannot. When the data carries a per-unit
`weight`, total weight and sales per weight tell heavy cheap goods from light dear ones; without
it the columns are absent, not all-NaN.
"""

from __future__ import annotations

import pandas as pd

from custseg.data.schema import has_column
from custseg.features.base import FeatureBuilder, per_customer


def basket_features(tx: pd.DataFrame) -> pd.DataFrame:
    aggs = {
        "invoices": ("invoice_id", "nunique"),
        "value": ("amount", "sum"),
        "units": ("quantity", "sum"),
        "first": ("invoice_date", "min"),
        "last": ("invoice_date", "max"),
    }
    weighed = has_column(tx, "weight")
    if weighed:  # weight is per unit; assign is a cheap shallow copy under copy-on-write
        tx = tx.assign(line_weight=tx["weight"] * tx["quantity"])
        aggs["weight"] = ("line_weight", "sum")
    g = per_customer(tx).agg(**aggs)
    out = pd.DataFrame(
        {
            "frequency": g["invoices"],
            "mean_basket_value": g["value"] / g["invoices"],
            "mean_basket_units": g["units"] / g["invoices"],
            "mean_unit_price": g["value"] / g["units"],
            "tenure_days": (g["last"] - g["first"]).dt.total_seconds() / 86_400,
        }
    )
    if weighed:
        out["total_weight"] = g["weight"]
        # a customer with no weighed lines has no meaningful ratio: NaN, not infinity
        out["sales_per_weight"] = g["value"] / g["weight"].where(g["weight"] > 0)
    return out



class Basket(FeatureBuilder):
    NAME = "basket"
    NEEDS = ("invoice_id", "invoice_date", "amount", "quantity")
    COLUMNS = ("frequency", "mean_basket_value", "mean_basket_units", "mean_unit_price",
               "tenure_days")  # fmt: skip

    def _build(self, tx: pd.DataFrame) -> pd.DataFrame:
        return basket_features(tx)
