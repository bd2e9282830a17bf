"""Each customer's purchase history as the buy-till-you-die models read it.

A purchase is a customer's day with at least one invoice (several invoices on one day are one
shopping trip, the convention of the BG/NBD and Gamma-Gamma papers and of `lifetimes`), so the
summary is counted on (customer, day) pairs: `frequency` is the number of purchase days after
the first, `recency` the days from the first purchase day to the last, `T` the days from the
first purchase day to the end of the observation period, and `monetary_value` the mean spend of
the repeat purchase days (the first day is left out: it is the one every customer has, and the
Gamma-Gamma model describes repeat spend). Everything is computed on integer codes with sorts
and bincounts, because a groupby over ten million lines is a hashing exercise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from custseg.data.schema import has_column
from custseg.recommend.codes import labels_of

COLUMNS = ("frequency", "recency", "T", "monetary_value")


class SummaryError(ValueError):
    """The lines cannot be summarised for the value models; the message says what to change."""


def observation_end(tx: pd.DataFrame) -> pd.Timestamp:
    """The day of the data's last line: the default end of the observation period."""
    if not len(tx):
        raise SummaryError("value: no transaction lines to summarise")
    return pd.Timestamp(tx["invoice_date"].max()).floor("D")


def line_days(dates: pd.Series) -> np.ndarray:
    """Whole days since the epoch, as int64 (times of day dropped)."""
    return dates.to_numpy().astype("datetime64[D]").astype(np.int64)


def purchase_summary(tx: pd.DataFrame, end: pd.Timestamp | None = None) -> pd.DataFrame:
    """One row per customer (index `customer_id` as text, sorted): frequency, recency, T (days)
    and monetary_value, measured up to the day `end` (default: the day of the last line).

    `monetary_value` is NaN for customers without repeat purchase days and for everyone when the
    lines have no `amount`. Lines without a customer id are left out. Lines after `end` are an
    error rather than dropped: a T shorter than the recency is no history the models can read.
    """
    end_day = observation_end(tx) if end is None else pd.Timestamp(end).floor("D")
    codes, labels = labels_of(tx["customer_id"])
    known = codes >= 0
    days = line_days(tx["invoice_date"])
    if not known.all():
        codes, days = codes[known], days[known]
    if not len(codes):
        raise SummaryError("value: no lines with a customer id to summarise")
    last_day = int(end_day.to_datetime64().astype("datetime64[D]").astype(np.int64))
    if days.max() > last_day:
        late = int((days > last_day).sum())
        raise SummaryError(
            f"value: {late} line(s) are dated after the end of the observation period "
            f"{end_day.date()}; pass an end on or after the last line's day "
            f"({pd.Timestamp(days.max(), unit='D').date()})"
        )
    first = int(days.min())
    span = last_day - first + 1
    key = codes * span + (days - first)
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])  # one per (customer, day)
    pair = key[starts]
    customer, day = pair // span, pair % span + first
    n = len(labels)
    trips = np.bincount(customer, minlength=n)
    block = np.r_[0, np.cumsum(trips)[:-1]]  # each customer's first (customer, day) pair
    first_day, last_trip = day[block], day[block + trips - 1]
    frequency = (trips - 1).astype(np.float64)
    out = pd.DataFrame(
        {
            "frequency": frequency,
            "recency": (last_trip - first_day).astype(np.float64),
            "T": (last_day - first_day).astype(np.float64),
            "monetary_value": _repeat_spend(tx, known, order, starts, customer, block, frequency),
        },
        index=pd.Index(labels, name="customer_id"),
    )
    return out  # every label has lines: `labels_of` numbers only the ids present


def _repeat_spend(
    tx: pd.DataFrame,
    known: np.ndarray,
    order: np.ndarray,
    starts: np.ndarray,
    customer: np.ndarray,
    block: np.ndarray,
    frequency: np.ndarray,
) -> np.ndarray:
    """Mean spend of each customer's repeat purchase days (NaN without any, or without money):
    the spend of every (customer, day) pair, summed per customer, less the first day's."""
    if not has_column(tx, "amount"):
        return np.full(len(frequency), np.nan)
    amount = tx["amount"].to_numpy(dtype=np.float64, na_value=np.nan)
    amount = np.nan_to_num(amount[known] if not known.all() else amount, nan=0.0)
    per_day = np.add.reduceat(amount[order], starts)
    total = np.bincount(customer, weights=per_day, minlength=len(frequency))
    repeat = total - per_day[block]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(frequency > 0, repeat / np.where(frequency > 0, frequency, 1), np.nan)
