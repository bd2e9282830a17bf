"""The canonical transaction table every stage downstream of loading relies on.

One row per line item. Sources map their own columns onto these names; `validate` is the single
gate that turns a mapped frame into canonical dtypes, so later stages never re-check types.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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

    Carries the file, column and problem separately so callers (and tests) can act on them, and
    renders them in one message a person can act on without a traceback.
    """

    def __init__(self, file: str, column: str | None, problem: str) -> None:
        self.file = str(file)
        self.column = column
        self.problem = problem
        where = f"column '{column}'" if column else "table"
        super().__init__(f"{self.file}: {where}: {problem}")


def has_column(df: pd.DataFrame, column: str) -> bool:
    """True when the column exists and holds at least one value (sources fill absent ones NA)."""
    return column in df.columns and bool(df[column].notna().any())


def _examples(values: pd.Series, n: int = 3) -> str:
    return ", ".join(repr(v) for v in values.head(n).tolist())


def _to_text(s: pd.Series) -> pd.Series:
    """Strip stray whitespace: 'cream cheese ' and 'cream cheese' are one product."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = s.cat.categories.astype("str").str.strip()
        if cats.is_unique:
            return s.cat.rename_categories(cats)
        s = s.astype("str")
    return s.astype("str").str.strip()


def _to_number(s: pd.Series, file: str, column: str, source_column: str | None) -> pd.Series:
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.astype("float64")
    out = pd.to_numeric(s, errors="coerce")
    bad = out.isna() & s.notna()
    if bad.any():
        named = f" (source column '{source_column}')" if source_column else ""
        raise SchemaError(
            file,
            column,
            f"non-numeric values in {int(bad.sum())} row(s){named}, "
            f"e.g. {_examples(s[bad])} at row(s) {list(s.index[bad][:3])}",
        )
    return out.astype("float64")


def _to_datetime(
    s: pd.Series, file: str, column: str, date_format: str | None, source_column: str | None
) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s
    else:
        out = pd.to_datetime(s, format=date_format, errors="coerce")
    bad = out.isna() & s.notna()
    if bad.any():
        fmt = f" with format {date_format!r}" if date_format else ""
        named = f" (source column '{source_column}')" if source_column else ""
        raise SchemaError(
            file,
            column,
            f"unparsable dates{fmt} in {int(bad.sum())} row(s){named}, "
            f"e.g. {_examples(s[bad])} at row(s) {list(s.index[bad][:3])}",
        )
    if out.isna().any():
        raise SchemaError(file, column, f"missing dates in {int(out.isna().sum())} row(s)")
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_localize(None)
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
    column the user actually has. Missing customer ids are allowed here: dropping them is a
    cleaning rule with a reported count, not a load failure.
    """
    source_columns = source_columns or {}
    if df.shape[0] == 0:
        raise SchemaError(file, None, "empty table: no rows to segment")
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        col = missing[0]
        src = source_columns.get(col)
        hint = f" (mapped from '{src}', which the file does not have)" if src else ""
        raise SchemaError(
            file, col, f"missing required column{hint}; present: {sorted(map(str, df.columns))}"
        )

    out = pd.DataFrame(index=pd.RangeIndex(len(df)))
    df = df.reset_index(drop=True)
    for col in CANONICAL:
        if col not in df.columns:
            continue
        s = df[col]
        src = source_columns.get(col)
        if col == "invoice_date":
            out[col] = _to_datetime(s, file, col, date_format, src)
        elif col in NUMERIC_COLUMNS:
            out[col] = _to_number(s, file, col, src)
        else:
            out[col] = _to_text(s) if s.notna().any() else s.astype("str")

    for col in ("quantity",):
        if out[col].isna().any():
            raise SchemaError(file, col, f"missing values in {int(out[col].isna().sum())} row(s)")
    for col in ("quantity", "unit_price", "amount", "weight"):
        if col in out and np.isinf(out[col].to_numpy(dtype="float64", na_value=np.nan)).any():
            raise SchemaError(file, col, "infinite values")
    if out["customer_id"].isna().all():
        raise SchemaError(file, "customer_id", "no customer ids at all: nothing to segment")
    if out["invoice_id"].isna().any():
        raise SchemaError(
            file, "invoice_id", f"missing values in {int(out['invoice_id'].isna().sum())} row(s)"
        )
    return out
