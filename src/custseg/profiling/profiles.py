"""Per-segment summaries from the transactions: size, revenue, behaviour, mixes, top products.

Descriptors are always recomputed from the lines so that two runs clustering different feature
sets are profiled on the same yardstick, and personas never depend on the feature choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from custseg.data.schema import has_column

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


def _segment_order(labels: pd.Series) -> list[str]:
    """Numeric order of labels as strings, unassigned (-1) last, so tables read 0, 1, ..., -1."""
    codes = sorted(int(v) for v in pd.unique(labels))
    return [str(c) for c in codes if c >= 0] + (["-1"] if -1 in codes else [])


def _with_all(per_seg: pd.DataFrame, overall: pd.Series, order: list[str]) -> pd.DataFrame:
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
    lines: pd.DataFrame, seg: pd.Series, top_n: int, order: list[str]
) -> pd.DataFrame:
    named = has_column(lines, "product_name")
    cols = ["customer_id", "product_id"] + (["product_name"] if named else [])
    pairs = lines[cols].drop_duplicates(["customer_id", "product_id"])
    pairs = pairs.assign(segment=pairs["customer_id"].map(seg))
    n_seg = seg.value_counts()
    n_all = len(seg)
    buyers = pairs.groupby(["segment", "product_id"], observed=True).size().rename("customers")
    overall = pairs.groupby("product_id", observed=True).size().rename("customers")
    scoped = pd.concat(
        [buyers.reset_index(), overall.reset_index().assign(segment=ALL)], ignore_index=True
    )
    scoped["share"] = scoped["customers"] / scoped["segment"].map(n_seg).fillna(n_all)
    scoped["overall_share"] = scoped["product_id"].map(overall) / n_all
    scoped["_order"] = scoped["segment"].map({s: i for i, s in enumerate([*order, ALL])})
    scoped = scoped.sort_values(
        ["_order", "customers", "product_id"], ascending=[True, False, True], kind="stable"
    )
    scoped["rank"] = scoped.groupby("_order").cumcount() + 1
    top = scoped[scoped["rank"] <= top_n]
    if named:  # first name seen per product: names can drift across lines
        names = pairs.drop_duplicates("product_id").set_index("product_id")["product_name"]
        top = top.assign(product_name=top["product_id"].map(names))
    keep = ["segment", "rank", "product_id"] + (["product_name"] if named else [])
    keep += ["customers", "share", "overall_share"]
    return top[keep].reset_index(drop=True)


def profile(
    tx: pd.DataFrame, segment_of: pd.Series, features: pd.DataFrame, top_n: int = 10
) -> Profiles:
    """Summaries of each segment (segment_of: customer_id -> int label, -1 = unassigned).

    Customers in `tx` without a label are ignored so profiles describe exactly the clustered
    population; `features` are the clustering features, summarised beside the descriptors so a
    reader can see what the algorithm actually separated on.
    """
    seg = pd.Series(segment_of.to_numpy(), index=segment_of.index.astype("str"))
    seg = seg.astype("int64").astype("str")
    lines = tx.assign(customer_id=tx["customer_id"].astype("str"))
    lines = lines[lines["customer_id"].isin(seg.index)]
    seg = seg[seg.index.isin(lines["customer_id"])]
    order = _segment_order(seg)
    money = has_column(lines, "amount")

    # from all lines, so recency counts to the data's last sale even if its buyer is unlabelled
    desc = customer_descriptors(tx).reindex(seg.index)
    feats = features.copy()
    feats.index = feats.index.astype("str")
    feats = feats.reindex(seg.index).add_prefix("feature_")
    per_cust = pd.concat([desc, feats], axis=1)
    units = lines.groupby("customer_id", observed=True)["quantity"].sum().reindex(seg.index)
    per_cust["_units"] = units
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
    summary = _with_all(per_seg, overall, order)

    region_mix = None
    if has_column(lines, "region"):
        main = (
            lines.groupby(["customer_id", "region"], observed=True)
            .size()
            .rename("n")
            .reset_index()
            .sort_values(["customer_id", "n", "region"], ascending=[True, False, True])
            .drop_duplicates("customer_id")
        )
        main = main.assign(segment=main["customer_id"].map(seg), one=1.0)
        region_mix = _share_table(main, "one", "region", order)

    category_mix = None
    if money and has_column(lines, "category"):
        spend = lines[["customer_id", "category", "amount"]].assign(
            segment=lines["customer_id"].map(seg)
        )
        category_mix = _share_table(spend, "amount", "category", order)

    top = None
    if has_column(lines, "product_id"):
        top = _top_products(lines, seg, top_n, order)
    return Profiles(summary, region_mix, category_mix, top)
