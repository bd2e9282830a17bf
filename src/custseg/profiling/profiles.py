"""Per-segment summaries from the transactions: size, revenue, behaviour, mixes, top products.

Descriptors are always recomputed from the lines so that two runs clustering different feature
sets are profiled on the same yardstick, and personas never depend on the feature choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from custseg.data.schema import has_column
from custseg.profiling.codes import counted, distinct, factor

ALL = "all"
MONEY_COLUMNS = ("monetary", "mean_unit_price")


def customer_descriptors(tx: pd.DataFrame) -> pd.DataFrame:
    """One row per customer (index customer_id as str) describing how they buy.

    monetary, frequency, recency_days (to the day after the last sale), units_per_basket,
    mean_unit_price, tenure_days. Without amounts the money columns are left out rather than
    filled with zeros that would read as "spends nothing".
    """
    money = has_column(tx, "amount")
    aggs: dict[str, tuple[str, str]] = {
        "frequency": ("invoice_id", "nunique"),
        "units": ("quantity", "sum"),
        "first": ("invoice_date", "min"),
        "last": ("invoice_date", "max"),
    }
    if money:
        aggs["monetary"] = ("amount", "sum")
    g = tx.groupby("customer_id", observed=True, sort=True).agg(**aggs)
    ref = tx["invoice_date"].max().normalize() + pd.Timedelta(days=1)
    out = pd.DataFrame(index=g.index)
    if money:
        out["monetary"] = g["monetary"]
    out["frequency"] = g["frequency"].astype("float64")
    out["recency_days"] = (ref - g["last"]).dt.total_seconds() / 86_400
    out["units_per_basket"] = g["units"] / g["frequency"]
    if money:
        out["mean_unit_price"] = g["monetary"] / g["units"].where(g["units"] > 0)
    out["tenure_days"] = (g["last"] - g["first"]).dt.total_seconds() / 86_400
    out.index = out.index.astype("str")
    out.index.name = "customer_id"
    return out.astype("float64")


@dataclass
class Profiles:
    """What each segment looks like; every table has the segments plus an "all" scope."""

    summary: pd.DataFrame
    region_mix: pd.DataFrame | None
    category_mix: pd.DataFrame | None
    top_products: pd.DataFrame | None
    value: pd.DataFrame | None = None  # custseg.profiling.value, when the value stage ran


def segment_order(labels: pd.Series) -> list[str]:
    """Numeric order of labels as strings, unassigned (-1) last, so tables read 0, 1, ..., -1."""
    codes = sorted(int(v) for v in pd.unique(labels))
    return [str(c) for c in codes if c >= 0] + (["-1"] if -1 in codes else [])


def with_all(per_seg: pd.DataFrame, overall: pd.Series, order: list[str]) -> pd.DataFrame:
    """Segment rows in `order`, then the ALL row: every profile table's shape."""
    out = per_seg.reindex(order)
    out.loc[ALL] = overall
    out.index.name = "segment"
    return out


def _share_table(keys: pd.DataFrame, value: str, column: str, order: list[str]) -> pd.DataFrame:
    """Rows segment (+ all), columns `column`, values = share of the row total of `value`."""
    tab = keys.pivot_table(
        index="segment", columns=column, values=value, aggfunc="sum", fill_value=0.0,
        observed=True,
    )  # fmt: skip
    tab = tab.reindex(order).fillna(0.0)
    tab.loc[ALL] = tab.sum()
    tab = tab.div(tab.sum(axis=1).replace(0.0, np.nan), axis=0).fillna(0.0)
    tab.columns = tab.columns.astype("str")
    tab.columns.name = column
    tab.index.name = "segment"
    return tab.astype("float64")


def _top_products(
    lines: pd.DataFrame, cust: np.ndarray, seg_code: np.ndarray, seg: pd.Series, top_n: int,
    order: list[str],
) -> pd.DataFrame:  # fmt: skip
    """Each segment's (and everyone's) products by share of customers who bought them.

    `cust` is each line's customer position in `seg`, `seg_code` each customer's segment as a
    position in `order`."""
    named = has_column(lines, "product_name")
    prod, prod_labels = factor(lines["product_id"])
    ok = prod >= 0
    n_prod, n_cust = len(prod_labels), len(seg)
    pairs = distinct(cust[ok] * n_prod + prod[ok])  # distinct (customer, product)
    pair_prod = pairs % n_prod
    pair_seg = seg_code[pairs // n_prod]
    n_scopes = len(order)
    by_seg = np.bincount(pair_seg * n_prod + pair_prod, minlength=n_scopes * n_prod)
    overall = np.bincount(pair_prod, minlength=n_prod)
    counts = np.concatenate([by_seg, overall])
    scope = np.repeat(np.arange(n_scopes + 1), n_prod)
    product = np.tile(np.arange(n_prod), n_scopes + 1)
    has = counts > 0
    scope, product, counts = scope[has], product[has], counts[has]
    n_in_scope = np.append(np.bincount(seg_code, minlength=n_scopes), n_cust)
    labels = [*order, ALL]
    src = lines["product_id"]
    ids = (
        pd.Categorical.from_codes(product, dtype=src.dtype)
        if isinstance(src.dtype, pd.CategoricalDtype)
        else prod_labels.take(product)
    )
    scoped = pd.DataFrame(
        {
            "segment": np.asarray(labels, dtype=object)[scope],
            "product_id": ids,
            "customers": counts.astype(np.int64),
            "share": counts / n_in_scope[scope],
            "overall_share": overall[product] / n_cust,
            "_order": scope,
        }
    )
    scoped = scoped.sort_values(
        ["_order", "customers", "product_id"], ascending=[True, False, True], kind="stable"
    )
    scoped["rank"] = scoped.groupby("_order").cumcount() + 1
    top = scoped[scoped["rank"] <= top_n]
    if named:  # first name seen per product: names can drift across lines
        rows = np.flatnonzero(ok)
        first = np.full(n_prod, len(rows), dtype=np.int64)
        np.minimum.at(first, prod[ok], np.arange(len(rows)))  # each product's first line
        seen = np.flatnonzero(first < len(rows))
        names = lines["product_name"].iloc[rows[first[seen]]]
        names.index = seen
        top = top.assign(product_name=names.reindex(product[top.index]).to_numpy())
        top = top.astype({"product_name": lines["product_name"].dtype})
    keep = ["segment", "rank", "product_id"] + (["product_name"] if named else [])
    keep += ["customers", "share", "overall_share"]
    out = top[keep].reset_index(drop=True)
    return out.astype({"segment": "str"})


def _main_region(lines: pd.DataFrame, cust: np.ndarray, seg: pd.Series) -> pd.DataFrame:
    """Each customer's most frequent region (ties: the first in the column's sort order, the
    category order for categoricals), with its segment."""
    src = lines["region"]
    reg, reg_labels = factor(src)
    ok = reg >= 0
    n_reg = len(reg_labels)
    keys, n = counted(cust[ok] * n_reg + reg[ok], len(seg) * n_reg)
    c, r = keys // n_reg, keys % n_reg
    categorical = isinstance(src.dtype, pd.CategoricalDtype)
    rank = np.arange(n_reg)
    if not categorical:
        rank[np.argsort(reg_labels.astype("str"), kind="stable")] = np.arange(n_reg)
    pick = np.lexsort((rank[r], -n, c))
    c, r = c[pick], r[pick]
    first = np.r_[True, c[1:] != c[:-1]]
    c, r = c[first], r[first]
    region = pd.Categorical.from_codes(r, dtype=src.dtype) if categorical else reg_labels.take(r)
    return pd.DataFrame({"segment": seg.to_numpy()[c], "region": region, "one": 1.0})


def _category_spend(
    lines: pd.DataFrame, cust: np.ndarray, seg_code: np.ndarray, order: list[str]
) -> pd.DataFrame:
    """Spend per (segment, category), summed on codes before any table is built."""
    cat, cat_labels = factor(lines["category"])
    amount = lines["amount"].to_numpy(dtype="float64")
    ok = (cat >= 0) & ~np.isnan(amount)
    n_cat = len(cat_labels)
    key = seg_code[cust[ok]] * n_cat + cat[ok]
    total = np.bincount(key, weights=amount[ok], minlength=len(order) * n_cat)
    pos = np.flatnonzero(np.bincount(key, minlength=len(order) * n_cat))
    return pd.DataFrame(
        {
            "segment": np.asarray(order, dtype=object)[pos // n_cat],
            "category": (
                pd.Categorical.from_codes(pos % n_cat, dtype=lines["category"].dtype)
                if isinstance(lines["category"].dtype, pd.CategoricalDtype)
                else cat_labels.take(pos % n_cat)
            ),
            "amount": total[pos],
        }
    )


def profile(
    tx: pd.DataFrame,
    segment_of: pd.Series,
    features: pd.DataFrame,
    top_n: int = 10,
    descriptors: pd.DataFrame | None = None,
) -> Profiles:
    """Summaries of each segment (segment_of: customer_id -> int label, -1 = unassigned).

    Customers in `tx` without a label are ignored so profiles describe exactly the clustered
    population; `features` are the clustering features, summarised beside the descriptors so a
    reader can see what the algorithm actually separated on. `descriptors` (from
    `customer_descriptors(tx)`) can be passed when the caller already has them.
    """
    seg = pd.Series(segment_of.to_numpy(), index=segment_of.index.astype("str"))
    seg = seg.astype("int64").astype("str")
    # each line's customer as a position in `seg` (-1: not segmented), via the distinct ids only
    codes, labels = factor(tx["customer_id"])
    where = seg.index.get_indexer(labels.astype("str"))
    pos = np.where(codes >= 0, where[np.maximum(codes, 0)], -1)
    keep = pos >= 0
    present = np.flatnonzero(np.bincount(pos[keep], minlength=len(seg)))
    trimmed = np.full(len(seg), -1, dtype=np.int64)
    trimmed[present] = np.arange(len(present))
    seg = seg.iloc[present]
    lines = tx.loc[keep]
    cust = trimmed[pos[keep]]  # position in the trimmed `seg`
    order = segment_order(seg)
    seg_code = pd.Index(order).get_indexer(seg.to_numpy())
    money = has_column(lines, "amount")

    # from all lines, so recency counts to the data's last sale even if its buyer is unlabelled
    if descriptors is None:
        descriptors = customer_descriptors(tx)
    desc = descriptors.reindex(seg.index)
    feats = features.copy()
    feats.index = feats.index.astype("str")
    feats = feats.reindex(seg.index).add_prefix("feature_")
    per_cust = pd.concat([desc, feats], axis=1)
    quantity = lines["quantity"].to_numpy(dtype="float64")
    per_cust["_units"] = np.bincount(cust, weights=quantity, minlength=len(seg))
    per_cust["_invoices"] = desc["frequency"]
    per_cust["_revenue"] = desc["monetary"] if money else np.nan
    per_cust["segment"] = seg

    g = per_cust.groupby("segment", sort=False)
    n = len(per_cust)
    stats = pd.DataFrame({"customers": g.size().astype("float64")})
    stats["customer_share"] = stats["customers"] / n
    if money:
        stats["revenue"] = g["_revenue"].sum()
        total = per_cust["_revenue"].sum()
        stats["revenue_share"] = stats["revenue"] / total if total else np.nan
        stats["avg_basket_value"] = stats["revenue"] / g["_invoices"].sum()
    else:
        stats[["revenue", "revenue_share", "avg_basket_value"]] = np.nan
    stats["avg_basket_units"] = g["_units"].sum() / g["_invoices"].sum()
    value_cols = list(desc.columns) + list(feats.columns)
    means = g[value_cols].mean().add_prefix("mean_")
    medians = g[value_cols].median().add_prefix("median_")
    per_seg = pd.concat([stats, means, medians], axis=1)

    inv_total = per_cust["_invoices"].sum()
    overall = pd.Series(
        {
            "customers": float(n),
            "customer_share": 1.0,
            "revenue": per_cust["_revenue"].sum() if money else np.nan,
            "revenue_share": 1.0 if money else np.nan,
            "avg_basket_value": per_cust["_revenue"].sum() / inv_total if money else np.nan,
            "avg_basket_units": per_cust["_units"].sum() / inv_total,
        }
    )
    overall = pd.concat(
        [
            overall,
            per_cust[value_cols].mean().add_prefix("mean_"),
            per_cust[value_cols].median().add_prefix("median_"),
        ]
    )
    summary = with_all(per_seg, overall, order)

    region_mix = None
    if has_column(lines, "region"):
        region_mix = _share_table(_main_region(lines, cust, seg), "one", "region", order)

    category_mix = None
    if money and has_column(lines, "category"):
        spend = _category_spend(lines, cust, seg_code, order)
        category_mix = _share_table(spend, "amount", "category", order)

    top = None
    if has_column(lines, "product_id"):
        top = _top_products(lines, cust, seg_code, seg, top_n, order)
    return Profiles(summary, region_mix, category_mix, top)
