"""The canonical transaction table every stage downstream of loading relies on.

One row per line item. Sources map their own columns onto these names; `validate` is the single
gate that turns a mapped frame into canonical dtypes, so later stages never re-check types.
"""

from __future__ import annotations

import difflib
import re
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

REQUIRED: tuple[str, ...] = (
    "customer_id",
    "invoice_id",
    "invoice_date",
    "product_id",
    "quantity",
    "unit_price",
    "amount",
)
OPTIONAL: tuple[str, ...] = ("product_name", "category", "region", "weight")
CANONICAL: tuple[str, ...] = REQUIRED + OPTIONAL

ID_COLUMNS = ("customer_id", "invoice_id", "product_id")
TEXT_COLUMNS = ("product_name", "category", "region")
NUMERIC_COLUMNS = ("quantity", "unit_price", "amount", "weight")

# Columns a source may legitimately lack; the stages that need them check `has_column`.
ABSENT_ALLOWED = ("product_id", "unit_price", "amount")


class SchemaError(ValueError):
    """Input that cannot become a canonical transaction table.

    Carries the file, column, problem and the fix separately so callers (and tests) can act on
    them, and renders them in one message a person can act on without a traceback.
    """

    def __init__(self, file: str, column: str | None, problem: str, fix: str | None = None) -> None:
        self.file = str(file)
        self.column = column
        self.problem = problem
        self.fix = fix
        where = f"column '{column}'" if column else "table"
        message = f"{self.file}: {where}: {problem}"
        if fix:
            message += f". Fix: {fix}"
        super().__init__(message)


def close_matches(name: str, options: Iterable[object], n: int = 3) -> list[str]:
    """Options that look like `name` (case, spaces, '_' and '-' ignored), best first: typos in
    column, config and option names are the commonest bad input, so every error suggests."""

    def key(text: str) -> str:
        return re.sub(r"[\s_\-.]", "", text.lower())

    by_key: dict[str, str] = {}
    for option in map(str, options):
        by_key.setdefault(key(option), option)
    hits = difflib.get_close_matches(key(str(name)), list(by_key), n=n, cutoff=0.6)
    return [by_key[h] for h in hits if by_key[h] != name]


def did_you_mean(name: str, options: Iterable[object]) -> str:
    """' (did you mean 'X'?)' or '' -- ready to append to a message."""
    hits = close_matches(name, options)
    return f" (did you mean {' or '.join(map(repr, hits))}?)" if hits else ""


def has_column(df: pd.DataFrame, column: str) -> bool:
    """True when the column exists and holds at least one value (sources fill absent ones NA)."""
    return column in df.columns and bool(df[column].notna().any())


def _examples(values: pd.Series, n: int = 3) -> str:
    return ", ".join(repr(v) for v in values.head(n).tolist())


def _where(mask: pd.Series, values: pd.Series | None = None) -> str:
    """'3 row(s), e.g. 'x', 'y' at row(s) [4, 9]': count, a few values and their row numbers
    (data rows counted from 0, the header not included)."""
    n = int(mask.sum())
    rows = list(map(int, mask.index[mask.to_numpy()][:3]))
    shown = f", e.g. {_examples(values[mask])}" if values is not None else ""
    return f"{n} row(s){shown} at row(s) {rows}"


def _named(source_column: str | None) -> str:
    return f" (source column '{source_column}')" if source_column else ""


def _to_text(s: pd.Series) -> pd.Series:
    """Strip stray whitespace: 'cream cheese ' and 'cream cheese' are one product; a value that
    is only whitespace is missing, not an id."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = s.cat.categories.astype("str").str.strip()
        if cats.is_unique and not (cats == "").any():
            return s.cat.rename_categories(cats)
        s = s.astype("str")
    text = s.astype("str").str.strip()
    return text.where(text != "")


# pandas-style hints for numbers a spreadsheet or ERP wrote for people, not programs
_NUMBER_HINTS = (
    (re.compile(r"[+-]?\d{1,3}(\.\d{3})*,\d+"),
     "they use a decimal comma: add ++data.read_options.decimal=','"),
    (re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?"),
     "they use a thousands separator: add ++data.read_options.thousands=','"),
    (re.compile(r"\s*([$£€¥]\s*[+-]?[\d.,]+|[+-]?[\d.,]+\s*[$£€¥]|[+-]?[\d.,]+\s*[A-Z]{3})\s*"),
     "they carry a currency: export plain numbers (the currency in its own column)"),
)  # fmt: skip


def _to_number(s: pd.Series, file: str, column: str, source_column: str | None) -> pd.Series:
    if pd.api.types.is_complex_dtype(s):
        raise SchemaError(file, column, f"complex numbers{_named(source_column)}",
                          "export real numbers")  # fmt: skip
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.astype("float64")
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    try:
        out = pd.to_numeric(s, errors="coerce")
    except (TypeError, ValueError):  # lists, bytes, ...: judge their text instead
        out = pd.to_numeric(s.astype("str"), errors="coerce")
    if pd.api.types.is_complex_dtype(out):
        raise SchemaError(file, column, f"complex numbers{_named(source_column)}",
                          "export real numbers")  # fmt: skip
    bad = out.isna() & s.notna()
    if bad.any():
        text = s[bad].astype("str")
        fix = (
            f"the column must hold plain numbers: correct those rows, or check that "
            f"data.columns.{column} maps the right column"
        )
        for pattern, hint in _NUMBER_HINTS:
            if text.str.fullmatch(pattern).all():
                fix = hint
                break
        raise SchemaError(
            file,
            column,
            f"non-numeric values in {_where(bad, s)}{_named(source_column)}",
            fix,
        )
    return out.astype("float64")


_DATE_FIX = "export dates as text in one layout (e.g. 2011-02-01 10:30) and set data.date_format"
# the range of datetime64[ns], the dtype every stage downstream relies on
_FIRST_DAY, _LAST_DAY = pd.Timestamp("1677-09-22"), pd.Timestamp("2262-04-11")


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
                f"{what}{_named(source_column)}: {exc}",
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
    named = _named(source_column)
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s
    else:
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
                f"numbers, not dates, in {_where(numbers, s)}{named} (spreadsheet serial days "
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
                    raise SchemaError(
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
                    f"{fmt!r} ({source}) but {_where(bad, text)} use "
                    f"{' / '.join(map(repr, sorted(layouts)))}",
                    "export every date in one layout and set data.date_format to it",
                )
            layout = f" with format {fmt!r}" if fmt else ""
            raise SchemaError(
                file,
                column,
                f"unparsable dates{layout} in {_where(bad, text)}{named}",
                "correct those values, or set data.date_format to the layout the file uses",
            )
    if out.isna().any():
        raise SchemaError(file, column, f"missing dates in {_where(out.isna())}{named}",
                          "fill in the date of those lines or remove them")  # fmt: skip
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_localize(None)
    outside = (out < _FIRST_DAY) | (out > _LAST_DAY)
    if outside.any():
        raise SchemaError(
            file,
            column,
            f"dates outside {_FIRST_DAY.date()}..{_LAST_DAY.date()} in {_where(outside, s)}{named}",
            "correct the year (a typo, or a placeholder such as 9999-12-31)",
        )
    return out.astype("datetime64[ns]")


def validate(
    df: pd.DataFrame,
    file: str,
    *,
    date_format: str | None = None,
    source_columns: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Return `df` as a canonical table (canonical column order and dtypes) or raise SchemaError.

    `source_columns` maps canonical names back to the file's own names so errors point at the
    column the user actually has; columns it leaves out were derived or set by a source (a
    derived unit price is missing where the quantity is 0, and cleaning counts those rows).
    Without it every column counts as the caller's own. Missing customer ids are allowed here:
    dropping them is a cleaning rule with a reported count, not a load failure. The file name
    rides along in `attrs["source"]` so later stages can name it too.
    """
    given = source_columns is None
    source_columns = source_columns or {}
    dup = df.columns[df.columns.duplicated()]
    if len(dup):
        raise SchemaError(file, str(dup[0]), "appears more than once in the header",
                          "rename or drop the duplicate column")  # fmt: skip
    if df.shape[0] == 0:
        raise SchemaError(file, None, "empty table: no rows to segment (only a header?)",
                          "export the file again with its data rows")  # fmt: skip
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        col = missing[0]
        src = source_columns.get(col)
        hint = f" (mapped from '{src}', which the file does not have)" if src else ""
        others = [c for c in map(str, df.columns) if c not in CANONICAL]
        raise SchemaError(
            file,
            col,
            f"missing required column{hint}{did_you_mean(src or col, others)}; "
            f"present: {sorted(map(str, df.columns))}",
            f"map the column that holds it with data.columns.{col}=<your column>"
            + (" (or null if the file has none)" if col in ABSENT_ALLOWED else ""),
        )

    out = pd.DataFrame(index=pd.RangeIndex(len(df)))
    df = df.reset_index(drop=True)
    for col in CANONICAL:
        if col not in df.columns:
            continue
        s = df[col]
        src = source_columns.get(col)
        if col == "invoice_date":
            out[col] = parse_dates(s, file, col, date_format, src)
        elif col in NUMERIC_COLUMNS:
            out[col] = _to_number(s, file, col, src)
        else:
            out[col] = _to_text(s) if s.notna().any() else s.astype("str")

    for col in NUMERIC_COLUMNS:
        if col not in out:
            continue
        values = out[col].to_numpy(dtype="float64", na_value=np.nan)
        own = given or col in source_columns
        checked = col == "quantity" or (col != "weight" and own and has_column(out, col))
        if checked and out[col].isna().any():
            raise SchemaError(
                file,
                col,
                f"missing values in {_where(out[col].isna())}{_named(source_columns.get(col))}",
                "fill them in or remove those lines (a line cut short, with fewer fields "
                "than the header, also leaves them empty)",
            )
        inf = pd.Series(np.isinf(values), index=out.index)
        if inf.any():
            derived = "" if own else " (derived from quantity and unit_price: check those)"
            raise SchemaError(
                file,
                col,
                f"infinite values in {_where(inf, out[col])}{derived}",
                "export finite numbers (an overflow or a division by zero in the export?)",
            )
    if out["customer_id"].isna().all():
        raise SchemaError(
            file,
            "customer_id",
            "no customer ids at all: nothing to segment",
            "map the customer column with data.columns.customer_id=<your column>",
        )
    if out["invoice_id"].isna().any():
        raise SchemaError(
            file,
            "invoice_id",
            f"missing values in {_where(out['invoice_id'].isna())}",
            "fill them in, or set data.columns.invoice_id=null to use customer x day",
        )
    _check_invoice_owners(out, file)
    out.attrs["source"] = str(file)
    return out


def _check_invoice_owners(out: pd.DataFrame, file: str) -> None:
    """One invoice is one purchase by one customer: an id shared by customers means the export
    merged shops or years that reuse numbers, and baskets would mix strangers' items."""
    known = out.loc[out["customer_id"].notna(), ["invoice_id", "customer_id"]].drop_duplicates()
    shared = known["invoice_id"].duplicated(keep=False)
    if not shared.any():
        return
    first = known.loc[shared, "invoice_id"].iloc[0]
    owners = known.loc[known["invoice_id"] == first, "customer_id"].head(3).tolist()
    rows = out.index[(out["invoice_id"] == first).to_numpy()][:5].tolist()
    n = int(known.loc[shared, "invoice_id"].nunique())
    raise SchemaError(
        file,
        "invoice_id",
        f"{n} invoice id(s) belong to several customers, e.g. {first!r} to "
        f"{', '.join(map(repr, owners))} at row(s) {rows}",
        "make invoice ids unique (prefix the shop or year if the system reuses numbers) or set "
        "data.columns.invoice_id=null to use customer x day as the invoice",
    )
