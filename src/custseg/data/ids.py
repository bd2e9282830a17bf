"""Cells that hold one value, and ids with one spelling each.

Readers hand over what the source holds: Parquet and JSON can carry lists, dicts and bytes in
a cell, and a column of true/false where a number or an id belongs. Such a cell is refused
with its rows, never turned into the text "['a', 'b']".

An id column can spell one id several ways: 17850 and 17850.0 (a column read as floats because
of blanks, or two exports concatenated), ' 17850' (padding). No system gives two customers ids
that equal as numbers, so they are merged into one spelling ('17850'), and because that changes
the number of customers, products or invoices the run reports, `notices.warn` says how many
merged and shows them. Ids that differ by leading zeros ('017850' and '17850') are kept apart
(product codes often differ only so) and also warned about.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from custseg.data.errors import SchemaError, rows_where, source_named
from custseg.notices import warn

_NESTED = (list, tuple, dict, set, frozenset, np.ndarray)
_PLAIN = {"string", "integer", "floating", "mixed-integer-float", "decimal", "empty", "datetime",
          "datetime64", "date", "time", "timedelta", "timedelta64", "period"}  # fmt: skip
_INTEGRAL = r"^([+-]?\d+)\.0*$"  # 17850.0 and 17850. are the number 17850
_WHAT = {"customer_id": "customer", "product_id": "product", "invoice_id": "invoice"}


def _nested_error(s: pd.Series, mask: pd.Series, file: str, column: str,
                  source: str | None) -> SchemaError:  # fmt: skip
    shown = s.map(lambda v: v.tolist() if isinstance(v, np.ndarray) else v)
    return SchemaError(
        file,
        column,
        f"nested values (lists, dicts, arrays) in {rows_where(mask, shown)}{source_named(source)}",
        "give each cell one value: explode lists into one line per item (pandas "
        "DataFrame.explode) or map another column",
    )


def single_values(s: pd.Series, file: str, column: str, source: str | None) -> pd.Series:
    """`s` with bytes decoded as UTF-8, or a SchemaError for cells holding several values.
    Only object columns are looked at cell by cell (text, numbers and dates are typed)."""
    if s.dtype != object:
        return s
    kind = pd.api.types.infer_dtype(s, skipna=True)
    if kind in _PLAIN or kind == "boolean":
        return s
    nested = s.map(lambda v: isinstance(v, _NESTED)).astype(bool)
    if nested.any():
        raise _nested_error(s, nested, file, column, source)
    binary = s.map(lambda v: isinstance(v, (bytes, bytearray))).astype(bool)
    if binary.any():
        try:
            decoded = s[binary].map(lambda v: bytes(v).decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise SchemaError(
                file, column, f"binary values that are not UTF-8 text in "
                f"{rows_where(binary, s)}{source_named(source)}",
                "store the column as text (strings) in the source",
            ) from exc  # fmt: skip
        s = s.copy()
        s[binary] = decoded
    return s


def booleans(s: pd.Series) -> pd.Series:
    """Where `s` holds true/false values (a bool column, or bools among other objects)."""
    if pd.api.types.is_bool_dtype(s):
        return s.notna()
    if s.dtype != object or pd.api.types.infer_dtype(s, skipna=True) in _PLAIN:
        return pd.Series(False, index=s.index)
    return s.map(lambda v: isinstance(v, (bool, np.bool_))).astype(bool)


def refuse_booleans(s: pd.Series, file: str, column: str, source: str | None, wanted: str,
                    fix: str) -> None:  # fmt: skip
    """A SchemaError when `s` holds true/false where `wanted` (numbers, ids, dates) belong."""
    mask = booleans(s)
    if mask.any():
        raise SchemaError(
            file,
            column,
            f"true/false values, not {wanted}, in {rows_where(mask, s)}{source_named(source)}",
            fix,
        )


def _normal(text: pd.Series, ids: bool) -> pd.Series:
    """One spelling: stripped, blank -> missing, and for ids '17850.0' -> '17850'."""
    out = text.str.strip()
    dotted = out.str.contains(".", regex=False).fillna(False).to_numpy(dtype=bool) if ids else []
    if ids and dotted.any():  # only those can be '17850.0': the regex on millions is slow
        out = out.copy()
        out[dotted] = out[dotted].str.replace(_INTEGRAL, r"\1", regex=True)
    return out.where(out != "")


def _spellings(text: pd.Series, normal: pd.Series) -> pd.Series:
    """id -> its spellings, for the ids normalising merged from several spellings (judged on
    the rows normalising changed: a column it leaves alone costs one comparison)."""
    changed = (normal.notna() & normal.ne(text)).fillna(False).to_numpy(dtype=bool)
    if not changed.any():
        return pd.Series(dtype=object)
    sub = normal.isin(pd.unique(normal[changed])).to_numpy()
    pairs = pd.DataFrame({"id": normal[sub].to_numpy(), "raw": text[sub].to_numpy()})
    groups = pairs.drop_duplicates().groupby("id", sort=False)["raw"].agg(list)
    return groups[groups.map(len) > 1]


def _report(text: pd.Series, normal: pd.Series, file: str, column: str,
            source: str | None) -> None:  # fmt: skip
    """Warn about ids written several ways (merged) and ids apart only by leading zeros."""
    what = _WHAT.get(column, "value")
    named = source_named(source)
    merged = _spellings(text, normal)
    if len(merged):
        example = " = ".join(map(repr, merged.iloc[0][:3]))
        warn(f"data.{column}_collisions",
             f"{file}: {len(merged):,} {column} value(s) are written in more than one way and "
             f"each now counts as one {what}, e.g. {example}{named}; if they are different "
             f"{what}s, export ids that differ as text")  # fmt: skip
    zero = normal.str.startswith("0").fillna(False).to_numpy(dtype=bool)
    if not zero.any() or not normal[zero].str.match(r"0\d").fillna(False).any():
        return
    distinct = pd.Series(pd.unique(normal.dropna()), dtype="str")
    digits = distinct[distinct.str.fullmatch(r"\d+")]
    stripped = digits.str.lstrip("0").replace("", "0")
    apart = stripped[stripped.duplicated(keep=False)]
    if len(apart):
        first = digits[apart.index][apart == apart.iloc[0]].head(3)
        warn(f"data.{column}_leading_zeros",
             f"{file}: {column} has ids that differ only by leading zeros, e.g. "
             f"{', '.join(map(repr, first))}{named}: kept as different {what}s; if they are "
             "the same, export the ids with the same number of digits")  # fmt: skip


def _numbers_as_ids(s: pd.Series) -> pd.Series:
    """17850.0 (a float column, from blanks) -> '17850'; other numbers as Python writes them."""
    whole = s.dropna()
    if pd.api.types.is_float_dtype(s) and bool((whole % 1 == 0).all()) and (
            whole.abs() < 2**53).all():  # fmt: skip
        return s.astype("Int64").astype("str")
    return _normal(s.astype("str"), True)


def spelled(s: pd.Series) -> pd.Series:
    """The one spelling `to_ids` gives each id, without its checks and notices (for a value
    derived from ids, such as the invoice id customer x day, before validation)."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return _numbers_as_ids(s)
    return _normal(s.astype("str"), True)


def to_ids(s: pd.Series, file: str, column: str, source: str | None) -> pd.Series:
    """Ids (or other text) as stripped text with one spelling per id; cells with several values
    and true/false ids are errors, ids merged by spelling are warned about."""
    s = single_values(s, file, column, source)
    ids = column in _WHAT
    if ids:
        refuse_booleans(s, file, column, source, "ids",
                        f"map the id column with data.columns.{column}=<your column>")
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = _normal(pd.Series(s.cat.categories.astype("str")), ids)
        if cats.notna().all() and cats.is_unique:
            return s.cat.rename_categories(pd.Index(cats))
        s = s.astype(object)
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return _numbers_as_ids(s)  # one spelling per number: nothing to merge or warn about
    text = s.astype("str")
    if not text.notna().any():
        return text
    normal = _normal(text, ids)
    if ids:
        _report(text, normal, file, column, source)
    return normal


def line_breaks(text: pd.Series, file: str, column: str, source: str | None,
                 ids: bool) -> None:  # fmt: skip
    """In a file read as text, a value spanning lines is a quote opened and closed lines later:
    the reader took the lines between as part of one value, and those rows are gone. An id
    never spans lines (an error); a name might (a warning). Tables handed over in memory may
    hold anything in a name or an id, so only file sources are checked."""
    if not pd.api.types.is_string_dtype(text) or isinstance(text.dtype, pd.CategoricalDtype):
        return
    def spans(values: pd.Series) -> pd.Series:
        hit = values.str.contains("\n", regex=False) | values.str.contains("\r", regex=False)
        return hit.fillna(False).astype(bool)

    text = text.astype("str")
    if not spans(pd.Series(pd.unique(text), dtype="str")).any():  # distinct values: fewer
        return
    broken = spans(text)
    shown = text.str.slice(0, 60)
    what = (f"values spanning several lines in {rows_where(broken, shown)}"
            f"{source_named(source)}")  # fmt: skip
    fix = ("a '\"' opened in that row and closed lines later swallowed the lines between: "
           "correct the quoting there (the file lost those rows)")  # fmt: skip
    if ids:
        raise SchemaError(file, column, what, fix)
    warn(f"data.{column}_line_breaks", f"{file}: column '{column}': {what}; if {fix}")
