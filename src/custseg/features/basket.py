"""Basket behaviour per customer: how often, how big, how pricey, for how long.

These separate customers that spend the same total in different ways (a few bulk orders versus
many small ones), which TotalValue/Quantity alone cannot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from custseg.features.registry import FeatureSet, per_customer, register


def build(tx: pd.DataFrame, params: Mapping[str, Any]) -> pd.DataFrame:
    g = per_customer(tx).agg(
        invoices=("invoice_id", "nunique"),
        value=("amount", "sum"),
        units=("quantity", "sum"),
        first=("invoice_date", "min"),
        last=("invoice_date", "max"),
    )
    return pd.DataFrame(
        {
            "frequency": g["invoices"],
            "mean_basket_value": g["value"] / g["invoices"],
            "mean_basket_units": g["units"] / g["invoices"],
            "mean_unit_price": g["value"] / g["units"],
            "tenure_days": (g["last"] - g["first"]).dt.total_seconds() / 86_400,
        }
    )


FEATURES = register(
    FeatureSet("basket", ("invoice_id", "invoice_date", "amount", "quantity"), build)
)
