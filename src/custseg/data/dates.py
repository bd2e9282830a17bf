"""Dates of one layout per column, read without guessing day and month.

Exports write dates in every layout there is, and pandas reads 01/02/2011 as January whatever
the file meant. So the layout is given (data.date_format) or inferred from the values, and a
column that mixes layouts, or reads both ways, stops with a SchemaError instead of a silent
misreading. Loading uses this twice: for the invoice date and for the day a derived invoice id
is built from.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from custseg.data.errors import SchemaError, rows_where, source_named
from custseg.data.ids import refuse_booleans
from custseg.notices import warn

_DATE_FIX = "export dates as text in one layout (e.g. 2011-02-01 10:30) and set data.date_format"
# the range of datetime64[ns], the dtype every stage downstream relies on
_FIRST_DAY, _LAST_DAY = pd.Timestamp("1677-09-22"), pd.Timestamp("2262-04-11")


class AmbiguousDates(SchemaError):
    """Every value reads day-first and month-first. A sample of the rows can be ambiguous where
    the whole column is not (13/02 further down decides), so the preflight lets this one pass."""


def _guess_format(value: str) -> str | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return guess_datetime_format(value)


def _layout(text: pd.Series) -> str | None:
    """The layout most of the first values use (one value alone can mislead pandas)."""
    sample = text.dropna().drop_duplicates().head(200)
    guesses = [g for g in map(_guess_format, sample) if g]
    return max(set(guesses), key=guesses.count) if guesses else None


def _swap_day_month(fmt: str) -> str | None:
    """'%m/%d/%Y' <-> '%d/%m/%Y'; None for layouts that start with the year (no ambiguity)."""
    if not fmt.startswith(("%d", "%m")) or "%d" not in fmt or "%m" not in fmt:
        return None
    return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def infer_layout(s: pd.Series) -> tuple[str | None, bool]:
    """The one layout the values use, as loading would infer it, and whether day and month could
    be swapped (every value reads both ways and some differ): what `custseg inspect` proposes
    for data.date_format. (None, False) when the values mix layouts or are not dates."""
    text = s.dropna().astype("str").str.strip()
    text = text[text != ""]
    fmt = _layout(text)
    if fmt is None:
        return None, False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            first = pd.to_datetime(text, format=fmt, errors="coerce")
            other = _swap_day_month(fmt)
            alt = pd.to_datetime(text, format=other, errors="coerce") if other else None
        except (ValueError, TypeError, OverflowError):
            return None, False
    if alt is not None and alt.notna().all():
        if first.notna().all():
            return fmt, bool((first != alt).any())
        return other, False
    return (fmt, False) if first.notna().all() else (None, False)


def _read_dates(
    text: pd.Series, fmt: str | None, file: str, column: str, source_column: str | None
) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "could not infer format": we report it
        try:
            return pd.to_datetime(text, format=fmt, errors="coerce")
        except (ValueError, TypeError, OverflowError) as exc:
            zones = "timezone" in str(exc).lower()
            what = "mixed time zones" if zones else "dates pandas cannot read"
            raise SchemaError(
                file,
                column,
                f"{what}{source_named(source_column)}: {exc}",
                "convert every date to one time zone (or drop the offsets) before export"
                if zones
                else _DATE_FIX,
            ) from exc


def _whole_number_text(value: Any) -> Any:
    """20110201 (or 20110201.0 from a column with blanks) -> '20110201' for a given layout."""
    number = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    if number and value == value and float(value).is_integer():
        return str(int(value))
    return value


def parse_dates(
    s: pd.Series, file: str, column: str, date_format: str | None, source_column: str | None
) -> pd.Series:
    """Dates in one layout per column. Without data.date_format the layout is inferred from the
    values; a column mixing layouts, or whose day/month order cannot be told apart, is an error
    rather than a silent misreading (01/02/2011 is January or February)."""
    named = source_named(source_column)
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s
    else:
        refuse_booleans(s, file, column, source_column, "dates",
                        f"map the date column with data.columns.{column}=<your column>")
        as_number = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        if date_format and (as_number or s.dtype == object):  # 20110201 read as a number
            s = s.map(_whole_number_text)
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            numbers = s.notna()
        elif s.dtype == object:
            numbers = s.map(lambda v: isinstance(v, (int, float, np.number)) and v == v)
            numbers = numbers.astype(bool)
        else:
            numbers = pd.Series(False, index=s.index)
        if numbers.any():
            raise SchemaError(
                file,
                column,
                f"numbers, not dates, in {rows_where(numbers, s)}{named} (spreadsheet serial days "
                "or Unix timestamps?)",
                "export the column as dates (e.g. 2011-02-01); for yyyymmdd numbers set "
                "data.date_format=%Y%m%d",
            )
        text = s.astype("str").str.strip()
        text = text.where(text != "")
        fmt = date_format or _layout(text)
        out = _read_dates(text, fmt, file, column, source_column)
        bad = out.isna() & text.notna()
        other = _swap_day_month(fmt) if fmt and not date_format else None
        if other:
            alt = _read_dates(text, other, file, column, source_column)
            alt_bad = alt.isna() & text.notna()
            if bad.any() and not alt_bad.any():  # e.g. 13/02/2011 further down: day first
                out, bad, fmt = alt, alt_bad, other
            elif not bad.any() and not alt_bad.any():
                differs = (out != alt) & out.notna()
                if differs.any():
                    i = differs.idxmax()
                    raise AmbiguousDates(
                        file,
                        column,
                        f"ambiguous dates{named}: every value reads day-first and month-first, "
                        f"e.g. {text[i]!r} at row {i} is {out[i].date()} as {fmt!r} but "
                        f"{alt[i].date()} as {other!r}",
                        f"set data.date_format={fmt!r} or data.date_format={other!r}",
                    )
        if bad.any():
            layouts = {_guess_format(v) for v in text[bad].head(50)} - {None, fmt}
            good = ~bad & text.notna()
            if layouts and fmt and not good.any():
                raise SchemaError(
                    file,
                    column,
                    f"no date fits data.date_format={fmt!r}{named}: e.g. {text[bad].iloc[0]!r} "
                    f"looks like {' / '.join(map(repr, sorted(layouts)))}",
                    f"set data.date_format={sorted(layouts)[0]} (or null to infer the layout)",
                )
            ok = good.idxmax()
            if layouts and fmt:
                source = "data.date_format" if date_format else "inferred"
                raise SchemaError(
                    file,
                    column,
                    f"mixed date layouts{named}: rows such as {text[ok]!r} (row {ok}) use "
                    f"{fmt!r} ({source}) but {rows_where(bad, text)} use "
                    f"{' / '.join(map(repr, sorted(layouts)))}",
                    "export every date in one layout and set data.date_format to it",
                )
            layout = f" with format {fmt!r}" if fmt else ""
            raise SchemaError(
                file,
                column,
                f"unparsable dates{layout} in {rows_where(bad, text)}{named}",
                "correct those values, or set data.date_format to the layout the file uses",
            )
    if out.isna().any():
        raise SchemaError(file, column, f"missing dates in {rows_where(out.isna())}{named}",
                          "fill in the date of those lines or remove them")  # fmt: skip
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_localize(None)
    outside = (out < _FIRST_DAY) | (out > _LAST_DAY)
    if outside.any():
        raise SchemaError(
            file,
            column,
            f"dates outside {_FIRST_DAY.date()}..{_LAST_DAY.date()} in "
            f"{rows_where(outside, s)}{named}",
            "correct the year (a typo, or a placeholder such as 9999-12-31)",
        )
    return out.astype("datetime64[ns]")


def warn_single_day(dates: pd.Series, file: str) -> None:
    """Warn when every line falls on one day: nothing measured over time means anything (the
    run goes on: segments by basket and spend still do)."""
    if len(dates) == 0 or dates.min().normalize() != dates.max().normalize():
        return
    warn(
        "data.single_day",
        f"{file}: column 'invoice_date': all {len(dates):,} lines are on "
        f"{dates.min().date()}: recency, tenure and visits are the same for every customer, and "
        "the recommendations cannot be evaluated (that needs lines before and after a cut-off "
        "day). Load a file that spans several days (weeks, for segments by buying rhythm)",
    )
