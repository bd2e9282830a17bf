"""Numbers as a spreadsheet or an ERP wrote them for people, read only when the reading is sure.

'1,000' is a thousand with a thousands separator and one with a decimal comma; '1.000,50' is a
European thousand. One value cannot decide, the whole column can: '1,5', '0,500' or '1.000,50'
only read with a decimal comma, '1,000,000' or '12,000.50' only with a thousands separator,
and '1,000', '2,500' (one to three digits, one comma, three digits) either way. Those count as
thousands: no export writes a quantity or a price with three decimals throughout; beside plain
whole numbers all under 1,000 ('5') they are surely thousands, as a spreadsheet formats them.
A column with values that only read one way and values that only read the other is an error
that names both; so is a read option (data.read_options.decimal / thousands) the values
contradict, because pandas then reads '2,5' as 25 or '1,000' as 1 without a word.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from custseg.data.errors import SchemaError, rows_where, source_named
from custseg.data.ids import refuse_booleans, single_values
from custseg.notices import warn

_THOUSANDS_ONLY = re.compile(r"[+-]?\d{1,3}(,\d{3})+\.\d+|[+-]?\d{1,3}(,\d{3}){2,}")
_DECIMAL_ONLY = re.compile(r"[+-]?\d{1,3}(\.\d{3})+,\d+|[+-]?\d+,(\d{1,2}|\d{4,})|[+-]?\d{4,},\d+"
                           r"|[+-]?\d{1,3}(\.\d{3}){2,}|[+-]?0,\d+")  # fmt: skip
_INTEGER = re.compile(r"[+-]?\d+")
_DOT_THREE = re.compile(r"[+-]?\d{1,3}\.\d{3}")  # '1.000': a thousand, or one with 3 decimals
_EITHER = re.compile(r"[+-]?\d{1,3},\d{3}")  # '1,000': thousands or a decimal comma
_DOT_DECIMAL = re.compile(r"[+-]?\d*\.(\d{1,2}|\d{4,})")  # '2.5': '.' is the decimal mark
_DOT_GROUPS = re.compile(r"[+-]?\d{1,3}(\.\d{3})+(,\d+)?")  # '1.000,50': '.' groups thousands
_SPACE_GROUPS = re.compile(r"[+-]?\d{1,3}([ \u00a0\u202f]\d{3})+([.,]\d+)?")
_CURRENCY = re.compile(r"\s*([$£€¥]\s*[+-]?[\d.,]+|[+-]?[\d.,]+\s*[$£€¥]"
                       r"|[+-]?[\d.,]+\s*[A-Z]{3})\s*")
THOUSANDS, DECIMAL, MIXED = "thousands", "decimal", "mixed"


def _matches(text: pd.Series, pattern: re.Pattern[str]) -> pd.Series:
    return text.str.fullmatch(pattern).fillna(False).astype(bool)


def separators(text: pd.Series) -> tuple[str | None, dict[str, str]]:
    """The separator style of a column of number text, judged on every value, and an example
    value for each reading: (thousands | decimal | mixed | None, {reading: example}). Values
    with '.' as the decimal mark ('2.5') count for thousands: ',' cannot be the decimal mark
    beside them. None when no value has a comma."""
    text = text.dropna().astype("str").str.strip()
    if not text.str.contains(",", regex=False).any():
        return None, {}
    seen: dict[str, str] = {}
    for name, pattern in ((THOUSANDS, _THOUSANDS_ONLY), (DECIMAL, _DECIMAL_ONLY),
                          (THOUSANDS, _DOT_DECIMAL), ("either", _EITHER)):  # fmt: skip
        hit = _matches(text, pattern)
        if hit.any() and name not in seen:
            seen[name] = str(text[hit].iloc[0])
    if set(seen) == {"either"}:  # '1,000' beside '5' but never beside '5000': thousands
        whole = text[_matches(text, _INTEGER)]
        if len(whole) and (whole.astype("float64").abs() < 1000).all():
            seen[THOUSANDS] = seen["either"]
    if THOUSANDS in seen and DECIMAL in seen:
        return MIXED, seen
    if DECIMAL in seen:
        return DECIMAL, seen
    if THOUSANDS in seen or "either" in seen:
        return THOUSANDS, seen
    return None, seen


def _fix(style: str, seen: dict[str, str], text: pd.Series) -> str:
    if style == THOUSANDS:
        example = seen.get("either", seen.get(THOUSANDS))
        return (f"they use ',' as a thousands separator (e.g. {example!r}): add "
                "++data.read_options.thousands=','")  # fmt: skip
    if style == DECIMAL:
        dots = _matches(text.dropna().astype("str").str.strip(), _DOT_GROUPS).any()
        also = " ++data.read_options.thousands='.'" if dots else ""
        return (f"they use a decimal comma (e.g. {seen[DECIMAL]!r}): add "
                f"++data.read_options.decimal=','{also}")  # fmt: skip
    return (f"some values read only with ',' as the decimal mark (e.g. {seen[DECIMAL]!r}) and "
            f"others only with '.' as the decimal mark and ',' grouping thousands (e.g. "
            f"{seen[THOUSANDS]!r}), so no read option reads them all: correct those rows or "
            "export plain numbers ('.' as the decimal mark, no separators)")


def to_number(s: pd.Series, file: str, column: str, source_column: str | None) -> pd.Series:
    """Floats, or a SchemaError naming the rows that are not numbers and the likely cause
    (thousands separators or decimal commas judged on the whole column, currency, true/false):
    the one reading of every numeric column."""
    named = source_named(source_column)
    if pd.api.types.is_complex_dtype(s):
        raise SchemaError(file, column, f"complex numbers{named}", "export real numbers")
    s = single_values(s, file, column, source_column)
    refuse_booleans(s, file, column, source_column, "numbers",
                    f"check that data.columns.{column} maps the right column (true/false is a "
                    "flag, not a quantity or a price)")  # fmt: skip
    if pd.api.types.is_numeric_dtype(s):
        return s.astype("float64")
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    try:
        out = pd.to_numeric(s, errors="coerce")
    except (TypeError, ValueError):  # odd objects: judge their text instead
        out = pd.to_numeric(s.astype("str"), errors="coerce")
    if pd.api.types.is_complex_dtype(out):
        raise SchemaError(file, column, f"complex numbers{named}", "export real numbers")
    bad = out.isna() & s.notna()
    if not bad.any():
        return out.astype("float64")
    problem = f"non-numeric values in {rows_where(bad, s)}{named}"
    text = s[bad].astype("str").str.strip()
    grouped = [_matches(text, p) for p in (_THOUSANDS_ONLY, _DECIMAL_ONLY, _EITHER, _DOT_GROUPS)]
    if pd.concat(grouped, axis=1).any(axis=1).all():  # every bad value is a number with ','
        style, seen = separators(s)
        if style is not None:
            raise SchemaError(file, column, problem, _fix(style, seen, s))
    fix = (f"the column must hold plain numbers: correct those rows, or check that "
           f"data.columns.{column} maps the right column")  # fmt: skip
    if text.str.fullmatch(_SPACE_GROUPS).all():
        fix = "they use a space as a thousands separator: add ++data.read_options.thousands=' '"
    elif text.str.fullmatch(_CURRENCY).all():
        fix = "they carry a currency: export plain numbers (the currency in its own column)"
    raise SchemaError(file, column, problem, fix)


def conflicting(first: SchemaError, values: pd.Series, others: Mapping[str, pd.Series]
                ) -> SchemaError:  # fmt: skip
    """`first` (the error of the column holding `values`) again, or an error naming two
    columns whose separators no one read option reads: ',' groups thousands in one and marks
    decimals in the other."""
    style, _ = separators(values)
    if style not in (THOUSANDS, DECIMAL):
        return first
    mine = {THOUSANDS: "thousands separator", DECIMAL: "decimal comma"}
    for col, s in others.items():
        other, seen = separators(s) if not pd.api.types.is_numeric_dtype(s) else (None, {})
        if other in (THOUSANDS, DECIMAL) and other != style:
            return SchemaError(
                first.file,
                first.column,
                f"{first.problem}; its ',' is a {mine[style]} but column '{col}' uses a "
                f"{mine[other]} (e.g. {seen.get(other, seen.get('either'))!r})",
                "no one read option reads both columns: export plain numbers ('.' as the "
                "decimal mark, no separators)",
            )
    return first


def check_options(text: Mapping[str, pd.Series], options: Mapping[str, Any], file: str,
                  sources: Mapping[str, str], quiet: bool = False) -> None:  # fmt: skip
    """The read options' separators against the columns' own text: pandas with thousands=','
    reads '2,5' as 25, with thousands='.' reads '2.5' as 25, with decimal=',' reads '1,000' as
    1, all without a word. `text` holds each mapped numeric column as read with dtype=str and
    without those options; a contradiction is an error, an ambiguity a warning."""
    decimal, thousands = options.get("decimal"), options.get("thousands")
    for canon, values in text.items():
        style, seen = separators(values)
        named = source_named(sources.get(canon))
        wrong = ""
        if thousands == "," and DECIMAL in seen:
            wrong = f"data.read_options.thousands=',' reads {seen[DECIMAL]!r} as " \
                    f"{seen[DECIMAL].replace(',', '')}"
        elif decimal == "," and THOUSANDS in seen:
            wrong = f"data.read_options.decimal=',' misreads {seen[THOUSANDS]!r} (its ',' " \
                    "groups thousands or its '.' is the decimal mark)"
        elif thousands == ".":
            plain = values.dropna().astype("str").str.strip()
            dot = plain[_matches(plain, _DOT_DECIMAL)]
            if len(dot):
                wrong = f"data.read_options.thousands='.' reads {dot.iloc[0]!r} as " \
                        f"{dot.iloc[0].replace('.', '')}"
        if wrong:
            key = wrong.split("=")[0]
            fix = f"drop {key}" + (f"; {_fix(style, seen, values)}" if style else "")
            raise SchemaError(file, canon, f"{wrong}{named}", fix)
        if decimal == "," and style == THOUSANDS and "either" in seen and not quiet:
            warn(f"data.{canon}_decimal_comma",
                 f"{file}: data.read_options.decimal=',' reads {seen['either']!r} in "
                 f"{canon}{named} as {seen['either'].replace(',', '.')}; every ',' there has "
                 "three digits after it, which also reads as a thousands separator (then use "
                 "++data.read_options.thousands=',' instead)")  # fmt: skip


def dot_thousands(text: Mapping[str, pd.Series], file: str, sources: Mapping[str, str]) -> None:
    """Warn about number columns whose every '.' has three digits after it ('1.000', '2.500'):
    read as decimals (1.0, 2.5) by default, as European thousands (1000, 2500) they mean a
    thousand times more; no value says which (no other decimals, no whole number of 1,000 or
    more written without a separator). `text` holds each column as the file writes it."""
    for canon, values in text.items():
        plain = values.dropna().astype("str").str.strip()
        dotted = plain[plain.str.contains(".", regex=False)]
        if dotted.nunique() < 2 or not _matches(dotted, _DOT_THREE).all():
            continue
        whole = plain[_matches(plain, _INTEGER)]
        if len(whole) and (whole.astype("float64").abs() >= 1000).any():
            continue
        example = dotted.iloc[0]
        warn(f"data.{canon}_dot_thousands",
             f"{file}: every '.' in {canon}{source_named(sources.get(canon))} has three digits "
             f"after it (e.g. {example!r}), read as {float(example):g}; if '.' groups thousands "
             f"there (European style, {example!r} = {example.replace('.', '')}), add "
             "++data.read_options.thousands='.'")  # fmt: skip
