"""The purchase summary: checked by hand on a small case and against plain pandas on many."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custseg.value import purchase_summary
from custseg.value.summary import SummaryError
from tests.value.planted import simulate


def _line(customer: str, invoice: str, day: int, hour: int, amount: float) -> dict:
    when = pd.Timestamp("2024-03-01") + pd.Timedelta(days=day, hours=hour)
    return {"customer_id": customer, "invoice_id": invoice, "invoice_date": when, "amount": amount}


HAND = pd.DataFrame(
    [
        _line("A", "a1", 0, 9, 10.0),
        _line("A", "a1", 0, 9, 5.0),
        _line("A", "a2", 3, 18, 20.0),
        _line("A", "a3", 10, 8, 30.0),
        _line("A", "a4", 10, 20, 10.0),  # a second invoice on day 10: one purchase
        _line("B", "b1", 5, 10, 7.0),
        _line("B", "b2", 5, 23, 8.0),
        _line("C", "c1", 14, 12, 3.0),  # first seen on the last day
        _line("D", "d1", 2, 1, 4.0),
        _line("D", "d2", 2, 22, 6.0),
        _line("D", "d3", 4, 12, 11.0),
    ]
)


def test_hand_made_history_gives_the_textbook_counts() -> None:
    got = purchase_summary(HAND.sample(frac=1.0, random_state=3))  # order must not matter
    want = pd.DataFrame(
        {
            "frequency": [2.0, 0.0, 0.0, 1.0],
            "recency": [10.0, 0.0, 0.0, 2.0],
            "T": [14.0, 9.0, 0.0, 12.0],
            "monetary_value": [30.0, np.nan, np.nan, 11.0],  # repeat days only: (20 + 40) / 2
        },
        index=pd.Index(["A", "B", "C", "D"], dtype="str", name="customer_id"),
    )
    pd.testing.assert_frame_equal(got, want)


def test_a_later_end_lengthens_T_only() -> None:
    got = purchase_summary(HAND, pd.Timestamp("2024-03-25 13:00"))
    base = purchase_summary(HAND)
    assert (got["T"] - base["T"]).eq(10.0).all()
    pd.testing.assert_frame_equal(got.drop(columns="T"), base.drop(columns="T"))


def test_lines_after_the_end_are_an_error_naming_the_dates() -> None:
    late = r"3 line\(s\) are dated after .* 2024-03-10; .* \(2024-03-15\)"
    with pytest.raises(SummaryError, match=late):
        purchase_summary(HAND, pd.Timestamp("2024-03-10 23:59"))


def test_without_money_every_monetary_value_is_missing() -> None:
    got = purchase_summary(HAND.drop(columns="amount"))
    assert got["monetary_value"].isna().all()
    with_na = purchase_summary(HAND.assign(amount=np.nan))  # a priceless source fills NA
    pd.testing.assert_frame_equal(got, with_na)
    pd.testing.assert_frame_equal(got.iloc[:, :3], purchase_summary(HAND).iloc[:, :3])


def _plain_pandas(tx: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """The same definitions written the slow, obvious way."""
    tx = tx.dropna(subset=["customer_id"]).assign(
        customer_id=lambda d: d["customer_id"].astype("str"),
        day=lambda d: d["invoice_date"].dt.normalize(),
    )
    days = tx.groupby(["customer_id", "day"], as_index=False)["amount"].sum()
    rows = {}
    for customer, g in days.groupby("customer_id"):
        g = g.sort_values("day")
        n = len(g) - 1
        rows[customer] = {
            "frequency": float(n),
            "recency": float((g["day"].iloc[-1] - g["day"].iloc[0]).days),
            "T": float((end.normalize() - g["day"].iloc[0]).days),
            "monetary_value": g["amount"].iloc[1:].mean() if n else np.nan,
        }
    out = pd.DataFrame.from_dict(rows, orient="index").sort_index()
    out.index = out.index.astype("str").rename("customer_id")
    return out


def test_summary_matches_a_plain_pandas_implementation() -> None:
    lines = simulate(n=600, seed=11).lines
    lines.loc[lines.index[::97], "customer_id"] = None  # lines without a customer are left out
    end = pd.Timestamp("2025-01-20 08:00")
    got = purchase_summary(lines, end)
    pd.testing.assert_frame_equal(got, _plain_pandas(lines, end), rtol=1e-10)
    assert got.index.is_monotonic_increasing and got.index.dtype == "str"


def test_categorical_ids_as_cleaned_lines_have_them_give_the_same_summary() -> None:
    lines = simulate(n=300, seed=5).lines
    cat = lines.assign(customer_id=lines["customer_id"].astype("category"))
    cat["customer_id"] = cat["customer_id"].cat.add_categories(["never-seen"])
    pd.testing.assert_frame_equal(purchase_summary(cat), purchase_summary(lines))


def test_no_lines_with_a_customer_is_an_error() -> None:
    with pytest.raises(SummaryError, match="no lines with a customer id"):
        purchase_summary(HAND.assign(customer_id=None))
