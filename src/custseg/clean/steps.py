"""Cleaning rules, applied in a fixed order, each switchable and each counted.

The order matters for the counts: a row is charged to the first rule that removes it. Every
count lands in the `CleaningReport`, which the pipeline logs, so an analyst can see exactly what
was thrown away and why.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from custseg.clean.report import CleaningError, CleaningReport, nothing_left
from custseg.clean.window import far_dates, report_far
from custseg.config.schema import Clean, Outliers
from custseg.data.schema import has_column

log = logging.getLogger(__name__)

# values no real sale line has: a barcode or an id read as a quantity, cents read as units
CAPS = {"quantity": "max_quantity", "unit_price": "max_unit_price"}


def _by_text(values: pd.Series, test: Callable[[pd.Series], pd.Series]) -> np.ndarray:
    """`test` of each value as text; a categorical's categories are tested once each, not its
    millions of rows (a missing value reads as the text 'nan', as `astype("str")` has it)."""
    if not isinstance(values.dtype, pd.CategoricalDtype):
        return test(values.astype("str")).to_numpy(dtype=bool)
    per_category = test(pd.Series(values.cat.categories).astype("str")).to_numpy(dtype=bool)
    codes = values.cat.codes.to_numpy()
    return np.where(codes >= 0, per_category[codes], bool(test(pd.Series(["nan"])).iloc[0]))


def _non_product_mask(codes: pd.Series, exact: list[str], patterns: list[str]) -> np.ndarray:
    def test(text: pd.Series) -> pd.Series:
        upper = text.str.upper()
        mask = upper.isin([c.upper() for c in exact])
        for pat in patterns:
            mask |= upper.str.contains(re.compile(pat, re.IGNORECASE), na=False)
        return mask.fillna(False).astype(bool)

    return _by_text(codes, test)


def _duplicated(tx: pd.DataFrame) -> np.ndarray:
    """tx.duplicated(keep="first"), judged only among rows that share an invoice and product
    with another row: an exact copy always does, and those are few of millions."""
    if not {"invoice_id", "product_id"} <= set(tx.columns):
        return tx.duplicated(keep="first").to_numpy()
    shared = tx.duplicated(subset=["invoice_id", "product_id"], keep=False).to_numpy()
    out = np.zeros(len(tx), dtype=bool)
    if shared.any():
        out[shared] = tx.loc[shared].duplicated(keep="first").to_numpy()
    return out


def clean(tx: pd.DataFrame, cfg: Clean) -> tuple[pd.DataFrame, CleaningReport]:
    """Apply the configured rules to a canonical table; return the kept rows and the counts."""
    report = CleaningReport(rows_in=len(tx))
    file = str(tx.attrs.get("source", "input"))
    # rules are judged on every input row and counted on the rows earlier rules kept; the table
    # is filtered once at the end (one copy of ten million rows instead of one per rule)
    alive = np.ones(len(tx), dtype=bool)

    def note(rule: str, n: int) -> None:
        report.dropped[rule] = n
        log.info("clean: %-20s dropped %s rows", rule, f"{n:,}")

    def drop(rule: str, mask: pd.Series | np.ndarray) -> None:
        hit = np.asarray(mask, dtype=bool) & alive
        alive[hit] = False
        note(rule, int(np.count_nonzero(hit)))

    if cfg.drop_duplicates:
        drop("duplicates", _duplicated(tx))
    if cfg.drop_missing_customer:
        drop("missing_customer", tx["customer_id"].isna())
    prefix = cfg.cancellation_prefix
    if prefix:
        drop("cancellations", _by_text(tx["invoice_id"], lambda t: t.str.startswith(str(prefix))))
    if cfg.drop_nonpositive_quantity:
        drop("nonpositive_quantity", tx["quantity"] <= 0)
    if cfg.drop_nonpositive_price:
        if has_column(tx, "unit_price"):  # NaN: price of quantity 0
            drop("nonpositive_price", ~(tx["unit_price"] > 0))
        else:
            report.skipped["nonpositive_price"] = "source has no prices"
    exact = list(cfg.non_product_codes)
    patterns = list(cfg.non_product_patterns)
    if exact or patterns:
        if has_column(tx, "product_id"):  # no code: no product either
            mask = _non_product_mask(tx["product_id"], exact, patterns) | tx["product_id"].isna()
            drop("non_product_codes", mask)
        else:
            report.skipped["non_product_codes"] = "source has no product ids"
    far = far_dates(tx["invoice_date"], alive) if cfg.drop_date_outliers else np.zeros(0, bool)
    if far.any():
        drop("date_outliers", far)
        kept = tx["invoice_date"].to_numpy()[alive]
        report_far(tx["invoice_date"], far, pd.Timestamp(kept.min()), pd.Timestamp(kept.max()),
                   file)  # fmt: skip
    df = tx if alive.all() else tx.loc[alive]
    for col, key in CAPS.items():
        _check_cap(df, col, key, getattr(cfg, key), file)
    df = _outliers(df, cfg.outliers, report, note)

    df = df.reset_index(drop=True)
    report.rows_out = len(df)
    report.customers = int(df["customer_id"].nunique())
    report.invoices = int(df["invoice_id"].nunique())
    if has_column(df, "amount"):
        report.revenue = round(float(df["amount"].sum()), 2)
    if report.rows_out == 0:
        raise nothing_left(report, file)
    log.info(
        "clean: kept %s of %s rows, %s customers, %s invoices",
        f"{report.rows_out:,}", f"{report.rows_in:,}", f"{report.customers:,}",
        f"{report.invoices:,}",
    )  # fmt: skip
    return df, report


def _outliers(
    df: pd.DataFrame, cfg: Outliers, report: CleaningReport, note: Callable[[str, int], None]
) -> pd.DataFrame:
    """Clip or drop values above a per-column quantile of the rows kept so far (the caps are
    computed after the other rules, so returns and postage do not move them)."""
    method = cfg.method
    if method not in {"none", "clip", "drop"}:
        raise ValueError(f"clean.outliers.method: {method!r} is not one of none|clip|drop")
    if method == "none":
        return df
    q = float(cfg.quantile)
    if not 0.5 < q < 1.0:
        raise ValueError(f"clean.outliers.quantile: {q} must lie in (0.5, 1)")
    cols = [c for c in cfg.columns if has_column(df, c)]
    caps = {c: float(df[c].quantile(q)) for c in cols}
    if method == "drop":
        over = np.zeros(len(df), dtype=bool)
        for c, cap in caps.items():
            over |= (df[c] > cap).to_numpy()
        note("outliers", int(np.count_nonzero(over)))
        return df.loc[~over]
    df = df.copy()
    for c, cap in caps.items():
        over = df[c] > cap
        report.clipped[c] = int(over.sum())
        df.loc[over, c] = cap
    log.info("clean: clipped %s at the %s quantile", report.clipped, q)
    return df


def _check_cap(df: pd.DataFrame, col: str, key: str, cap: float | None, file: str) -> None:
    """Stop at a value no sale line has: silently dropping it would hide a broken export (a
    13-digit barcode in the quantity column is about 1e12)."""
    if cap is None or not has_column(df, col):
        return
    over = df[col] > float(cap)
    if not over.any():
        return
    rows = list(map(int, df.index[over.to_numpy()][:3]))
    values = ", ".join(f"{v:g}" for v in df.loc[over, col].head(3))
    raise CleaningError(
        file,
        col,
        f"{int(over.sum())} line(s) above clean.{key}={float(cap):g}, e.g. {values} at row(s) "
        f"{rows}: an id or barcode read as a {col.replace('_', ' ')}, or another unit?",
        f"correct the export or the column map (data.columns.{col}); if such values are real, "
        f"raise clean.{key} (null turns the check off)",
    )
