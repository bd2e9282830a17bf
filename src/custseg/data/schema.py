"""The canonical transaction table every stage downstream of loading relies on.

One row per line item. Sources map their own columns onto these names; `validate` is the single
gate that turns a mapped frame into canonical dtypes, so later stages never re-check types.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from custseg.data.dates import parse_dates
from custseg.data.errors import SchemaError, names_shown, rows_where, source_named
from custseg.data.ids import single_values, to_ids
from custseg.data.numbers import conflicting, to_number
from custseg.hints import did_you_mean

REQUIRED: tuple[str, ...] = (
    "customer_id",
    "invoice_id",
    "invoice_date",
    "product_id",
    "quantity",
    "unit_price",
    "amount",
)
OPTIONAL: tuple[str, ...] = ("product_name", "category", "region", "weight", "margin")
CANONICAL: tuple[str, ...] = REQUIRED + OPTIONAL

ID_COLUMNS = ("customer_id", "invoice_id", "product_id")
TEXT_COLUMNS = ("product_name", "category", "region")
NUMERIC_COLUMNS = ("quantity", "unit_price", "amount", "weight", "margin")
SPARSE_NUMBERS = ("weight", "margin")  # numbers a line may lack (unweighed, margin unknown)

# Columns a source may legitimately lack; the stages that need them check `has_column`.
ABSENT_ALLOWED = ("product_id", "unit_price", "amount")


def has_column(df: pd.DataFrame, column: str) -> bool:
    """True when the column exists and holds at least one value (sources fill absent ones NA)."""
    return column in df.columns and bool(df[column].notna().any())


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
    dropping them is a cleaning rule with a reported count, not a load failure. Ids get one
    spelling each ('17850.0' and ' 17850' are '17850'; `custseg.data.ids` warns when that
    merges any); cells holding lists or true/false where numbers, ids or dates belong are
    errors. The file name rides along in `attrs["source"]` so later stages can name it too.
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
            f"present: {names_shown(sorted(map(str, df.columns)))}",
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
            out[col] = parse_dates(single_values(s, file, col, src), file, col, date_format, src)
        elif col in NUMERIC_COLUMNS:
            try:
                out[col] = to_number(s, file, col, src)
            except SchemaError as exc:
                others = {c: df[c] for c in NUMERIC_COLUMNS if c in df.columns and c != col}
                raise conflicting(exc, s, others) from exc.__cause__
        else:
            out[col] = to_ids(s, file, col, src)

    for col in NUMERIC_COLUMNS:
        if col not in out:
            continue
        values = out[col].to_numpy(dtype="float64", na_value=np.nan)
        own = given or col in source_columns
        checked = col == "quantity" or (col not in SPARSE_NUMBERS and own and has_column(out, col))
        if checked and out[col].isna().any():
            raise SchemaError(
                file,
                col,
                f"missing values in {rows_where(out[col].isna())}"
                f"{source_named(source_columns.get(col))}",
                "fill them in or remove those lines (a line cut short, with fewer fields "
                "than the header, also leaves them empty)",
            )
        inf = pd.Series(np.isinf(values), index=out.index)
        if inf.any():
            derived = "" if own else " (derived from quantity and unit_price: check those)"
            raise SchemaError(
                file,
                col,
                f"infinite values in {rows_where(inf, out[col])}{derived}",
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
            f"missing values in {rows_where(out['invoice_id'].isna())}",
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
