"""Recency, frequency, monetary: the classic view of customer value, reusable by other sets."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import pandas as pd

from custseg.features.registry import FeatureError, FeatureSet, per_customer, register

REQUIRED = ("invoice_id", "invoice_date", "amount")


def reference_date(tx: pd.DataFrame, value: str | date | None) -> pd.Timestamp:
    """The day recency is counted to; by default the day after the last sale, so the most
    recent buyers get a small positive recency rather than zero."""
    if value is None:
        return tx["invoice_date"].max().normalize() + pd.Timedelta(days=1)
    try:
        return pd.Timestamp(value)
    except (TypeError, ValueError) as e:
        raise FeatureError(
            f"features.reference_date: {value!r} is not a date like '2011-12-10'"
        ) from e


def rfm(tx: pd.DataFrame, ref: str | date | None = None) -> pd.DataFrame:
    """recency_days (fractional days, like basket.tenure_days), frequency (distinct invoices)
    and monetary (total spend) per customer."""
    when = reference_date(tx, ref)
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


def build(tx: pd.DataFrame, params: Mapping[str, Any]) -> pd.DataFrame:
    return rfm(tx, params.get("reference_date"))


FEATURES = register(FeatureSet("rfm", REQUIRED, build))
