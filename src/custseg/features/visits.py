"""Visits: how a customer shops, measured without money.

Loyalty-card and basket exports often carry only member, date and item (no price, no
quantity), yet those customers still differ in how often, how recently, for how long, how much
per trip and how widely they buy. These five columns need no amount, so price-less data can
be segmented; with quantities, basket size counts units, otherwise lines.
"""

from __future__ import annotations

import pandas as pd

from custseg.data.schema import has_column
from custseg.features.base import per_customer
from custseg.features.rfm import RFM


def visit_features(tx: pd.DataFrame, when: pd.Timestamp) -> pd.DataFrame:
    """visits (distinct baskets), recency_days to `when`, tenure_days (first to last visit),
    mean_basket_size (units, or lines without quantities) and distinct_items per customer."""
    size = tx["quantity"] if has_column(tx, "quantity") else pd.Series(1.0, index=tx.index)
    g = per_customer(tx.assign(_size=size)).agg(
        visits=("invoice_id", "nunique"),
        first=("invoice_date", "min"),
        last=("invoice_date", "max"),
        size=("_size", "sum"),
        distinct_items=("product_id", "nunique"),
    )
    return pd.DataFrame(
        {
            "visits": g["visits"].astype("float64"),
            "recency_days": (when - g["last"]).dt.total_seconds() / 86_400,
            "tenure_days": (g["last"] - g["first"]).dt.total_seconds() / 86_400,
            "mean_basket_size": g["size"] / g["visits"],
            "distinct_items": g["distinct_items"].astype("float64"),
        }
    )


class Visits(RFM):
    """RFM's reference date (learned at fit, never negative recency), money-free columns."""

    NAME = "visits"
    NEEDS = ("invoice_id", "invoice_date", "product_id")
    COLUMNS = ("visits", "recency_days", "tenure_days", "mean_basket_size", "distinct_items")

    def _build(self, tx: pd.DataFrame) -> pd.DataFrame:
        return visit_features(tx, self._when(tx))
