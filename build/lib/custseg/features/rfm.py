"""Recency, frequency, monetary: the classic view of customer value, reusable by other sets.

Recency is counted to a reference date: the configured one, or by default the day after the
last sale the model was fitted on. A later customer table whose sales go past that day (next
month's customers) is measured to the day after its own last sale instead, so recency never
turns negative and means "days since the customer last bought, as of the data's end".
"""

from __future__ import annotations

import pandas as pd

from custseg.features.base import FeatureBuilder, FeatureError, per_customer

NEEDS = ("invoice_id", "invoice_date", "amount")


def day_after_last_sale(tx: pd.DataFrame) -> pd.Timestamp:
    return tx["invoice_date"].max().normalize() + pd.Timedelta(days=1)


def rfm(tx: pd.DataFrame, when: pd.Timestamp) -> pd.DataFrame:
    """recency_days (fractional days, like basket.tenure_days), frequency (distinct invoices)
    and monetary (total spend) per customer, recency counted to `when`."""
    g = per_customer(tx).agg(
        last=("invoice_date", "max"),
        frequency=("invoice_id", "nunique"),
        monetary=("amount", "sum"),
    )
    recency = (when - g["last"]).dt.total_seconds() / 86_400
    if (recency < 0).any():
        raise FeatureError(
            f"features.reference_date: {when.date()} is before the last purchase "
            f"({g['last'].max()}); use a later date or null for the day after the last sale"
        )
    return pd.DataFrame(
        {
            "recency_days": recency,
            "frequency": g["frequency"].astype("float64"),
            "monetary": g["monetary"],
        }
    )


class RFM(FeatureBuilder):
    NAME = "rfm"
    NEEDS = NEEDS
    COLUMNS = ("recency_days", "frequency", "monetary")

    def __init__(self, log1p: list[str], scaler: str, reference_date: str | None) -> None:
        super().__init__(log1p, scaler)
        self.reference_date = reference_date

    def _learn(self, tx: pd.DataFrame) -> None:
        given = self.reference_date
        self.reference_date_ = pd.Timestamp(given) if given else day_after_last_sale(tx)

    def _when(self, tx: pd.DataFrame) -> pd.Timestamp:
        if self.reference_date:
            return self.reference_date_
        return max(self.reference_date_, day_after_last_sale(tx))

    def _build(self, tx: pd.DataFrame) -> pd.DataFrame:
        return rfm(tx, self._when(tx))
