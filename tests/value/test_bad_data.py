"""Data the value models cannot learn from: a clear error for the fit, a warning for the check.

Each case fails before pymc-marketing is imported, so these stay in the quick tier.
"""

from __future__ import annotations

import pandas as pd
import pytest

from custseg.config.value import Value
from custseg.notices import collecting
from custseg.value import ValueModel, validate
from tests.conftest import make_config
from tests.value.test_summary import HAND, _line


@pytest.fixture(scope="module")
def spec() -> Value:
    value = make_config("value=bgnbd").value
    assert isinstance(value, Value)
    return value


def _fit_error(spec: Value, lines: pd.DataFrame) -> str:
    with pytest.raises(ValueError, match="value=bgnbd") as info:
        ValueModel(spec).fit(lines)
    assert "value=none" in str(info.value)  # every message says what would work
    return str(info.value)


def test_one_day_of_data_names_the_key_and_the_fix(spec: Value) -> None:
    one_day = HAND.assign(invoice_date=pd.Timestamp("2024-05-02 10:00"))
    message = _fit_error(spec, one_day)
    assert "more than one day; all 4 customers' lines fall on one day" in message


def test_no_returning_customer_is_an_error(spec: Value) -> None:
    once = pd.DataFrame([_line(f"C{i}", f"i{i}", i, 10, 5.0) for i in range(6)])
    message = _fit_error(spec, once)
    assert "needs customers with repeat purchases; all 6 customers bought on one day only" in (
        message
    )


def test_a_single_customer_is_an_error(spec: Value) -> None:
    message = _fit_error(spec, HAND[HAND["customer_id"] == "A"])
    assert "at least 2 customers" in message and "the data has 1" in message


def test_holdout_longer_than_the_data_warns_and_returns_none(spec: Value) -> None:
    warned: dict[str, str] = {}
    with collecting(warned):
        assert validate(spec, HAND) is None  # the lines span 14 days, holdout_days is 180
    assert "value.holdout_days=180 leaves no calibration period" in warned["value.holdout"]
    assert "spans 14 day(s)" in warned["value.holdout"]


def test_holdout_without_repeat_buyers_before_the_cut_warns(spec: Value) -> None:
    late = pd.DataFrame(
        [_line(c, f"{c}{d}", d, 9, 5.0) for c, days in [("E", (0, 12)), ("F", (1, 14))]
         for d in days]
    )  # fmt: skip
    warned: dict[str, str] = {}
    with collecting(warned):  # the cut at day 9 leaves one purchase each
        assert validate(spec.model_copy(update={"holdout_days": 5}), late) is None
    message = warned["value.holdout"]
    assert "calibration period (up to 2024-03-10) cannot be fitted" in message
    assert "needs customers with repeat purchases; all 2 customers" in message


def test_holdout_switched_off_is_silent(spec: Value) -> None:
    warned: dict[str, str] = {}
    with collecting(warned):
        assert validate(spec.model_copy(update={"holdout_days": 0}), HAND) is None
    assert warned == {}
