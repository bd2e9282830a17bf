"""The tables the dashboard's pages show, built from a run's logged tables.

Kept apart from Streamlit so each can be tested on a real run's tables and reused by any
front end: the pages only lay these out.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

from custseg.tracking.run import csv_safe

ALL = "all"


def persona_names(personas: pd.DataFrame) -> dict[str, str]:
    """Segment label (text) -> persona name; a segment without one is "segment N"."""
    p = personas.reset_index() if "segment" not in personas.columns else personas
    return {str(s): (str(n) if isinstance(n, str) and n else f"segment {s}")
            for s, n in zip(p["segment"], p["name"], strict=True)}  # fmt: skip


def actions_of(value: object) -> list[str]:
    """A persona's actions as a list, whether logged as a list or as one "; "-joined text."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        return [a.strip() for a in value.split("; ") if a.strip()]
    return [str(a) for a in value]  # type: ignore[attr-defined]


def items_of(value: object) -> list[str]:
    """A rule side's items: logged as a list (Parquet) or as "a, b" text."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]  # type: ignore[attr-defined]


def named(item: object, products: Mapping[str, str]) -> str:
    """"HEART T-LIGHT HOLDER (85123A)": the name people know, the id a system needs."""
    i = str(item)
    return f"{products[i]} ({i})" if i in products else i


def readable_rules(rules: pd.DataFrame, products: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Rule sides as "a, b" text, the way a table shows them; with `products` (the run's id ->
    name table) each item is "NAME (id)"."""
    known = products or {}
    return rules.assign(**{c: rules[c].map(lambda v: ", ".join(named(i, known)
                                                               for i in items_of(v)))
                           for c in ("antecedent", "consequent")})  # fmt: skip


def segment_label(segment: object, names: Mapping[str, str]) -> str:
    """"3 · Bulk buyers": the number keeps colours and tables matchable, the name leads."""
    s = str(segment)
    return f"{s} · {names[s]}" if s in names and not names[s].startswith("segment ") else s


def overview(
    personas: pd.DataFrame,
    summary: pd.DataFrame,
    metrics: Mapping[str, float],
    value_profile: pd.DataFrame | None = None,
    offers: pd.DataFrame | None = None,
    products: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """One row per segment: persona, customers, shares of customers, revenue and (with the value
    stage) future value, stability under resampling, top offer and suggested actions."""
    p = personas.reset_index() if "segment" not in personas.columns else personas
    p = p.assign(segment=p["segment"].astype("str")).set_index("segment")
    s = summary.copy()
    s.index = s.index.astype("str")
    rows = []
    for seg in [i for i in s.index if i != ALL]:
        actions = p["actions"].get(seg) if "actions" in p else None
        row = {"segment": seg, "persona": p["name"].get(seg, ""),
               "customers": int(s.loc[seg, "customers"]),
               "customer share": float(s.loc[seg, "customer_share"])}  # fmt: skip
        if "revenue_share" in s.columns:
            row["revenue share"] = float(s.loc[seg, "revenue_share"])
        if value_profile is not None and "clv_share" in value_profile.columns:
            vp = value_profile.set_axis(value_profile.index.astype("str"))
            row["future value share"] = float(vp["clv_share"].get(seg, np.nan))
            row["likely lapsed"] = float(vp["lapsed_share"].get(seg, np.nan))
        jaccard = metrics.get(f"stability.jaccard.{seg}")
        row["stability"] = np.nan if jaccard is None else float(jaccard)
        if offers is not None and len(offers):
            mine = offers[offers["segment"].astype("str") == seg]
            row["top offer"] = named(mine["item"].iloc[0], products or {}) if len(mine) else ""
        row["actions"] = "; ".join(actions_of(actions)[:2])
        rows.append(row)
    return pd.DataFrame(rows)


def projection(segments: pd.DataFrame, max_points: int = 5000, seed: int = 0) -> pd.DataFrame:
    """Customers on the first two principal components of their standardised features (a
    seeded sample of at most `max_points`): customer_id, x, y, segment. Features are log1p of
    their non-negative part, as the spend and count features they are spread over decades."""
    features = segments.drop(columns=["segment"]).select_dtypes("number")
    if features.shape[1] == 0:  # nothing to project: every customer at the origin
        features = pd.DataFrame({"none": np.zeros(len(segments))}, index=segments.index)
    if len(segments) > max_points:
        segments = segments.sample(max_points, random_state=seed).sort_index()
        features = features.loc[segments.index]
    x = StandardScaler().fit_transform(np.log1p(features.clip(lower=0).to_numpy(dtype=float)))
    n = min(2, x.shape[1])
    xy = PCA(n_components=n, random_state=seed).fit_transform(x) if n else np.zeros((len(x), 0))
    if n < 2:
        xy = np.column_stack([xy, np.zeros((len(x), 2 - n))])
    labels = segments["segment"].astype("str").to_numpy()
    return pd.DataFrame({"customer_id": segments.index.astype("str"), "x": xy[:, 0],
                         "y": xy[:, 1], "segment": labels})  # fmt: skip


def filter_rules(
    rules: pd.DataFrame,
    item: str = "",
    min_lift: float = 0.0,
    min_confidence: float = 0.0,
    min_support: float = 0.0,
    products: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Rules whose antecedent or consequent mentions `item` (case-insensitive, in an id or,
    with `products`, a product name; empty: all) and that reach every threshold, strongest
    lift first."""
    keep = ((rules["lift"] >= min_lift) & (rules["confidence"] >= min_confidence)
            & (rules["support"] >= min_support))  # fmt: skip
    if item:
        text = readable_rules(rules, products)
        text = text["antecedent"] + " " + text["consequent"]
        keep &= text.str.contains(item, case=False, regex=False)
    return rules[keep].sort_values(["lift", "confidence"], ascending=False).reset_index(drop=True)


def partners(
    rules: pd.DataFrame, item: str, names: Mapping[str, str], top: int = 5,
    products: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """"Segments buy differently": for rules with `item` (the whole id or, with `products`, the
    whole product name; any case) in the antecedent, each scope's top `top` consequents by
    lift, side by side (one column per scope, `all` first)."""
    known = products or {}
    wanted = item.strip().casefold()

    def is_wanted(i: str) -> bool:
        return bool(wanted) and wanted in (i.casefold(), known.get(i, "").strip().casefold())

    def starts_from(side: object) -> bool:
        return any(is_wanted(i) for i in items_of(side))

    has = rules["antecedent"].map(starts_from)
    mine = readable_rules(rules[has.to_numpy(dtype=bool)], products)
    mine = mine.sort_values("lift", ascending=False)
    columns = {}
    for scope, part in mine.groupby(mine["segment"].astype("str"), sort=False):
        picks = part.drop_duplicates("consequent").head(top)
        pairs = zip(picks["consequent"], picks["lift"], strict=True)
        columns[scope] = [f"{c} (lift {v:.1f})" for c, v in pairs]
    order = sorted(columns, key=lambda s: (s != ALL, int(s) if s.lstrip("-").isdigit() else 0))
    width = max((len(v) for v in columns.values()), default=0)
    return pd.DataFrame({("all customers" if s == ALL else segment_label(s, names)):
                         columns[s] + [""] * (width - len(columns[s])) for s in order})  # fmt: skip


def alignment(a: pd.Series, b: pd.Series, names_a: Mapping[str, str],
              names_b: Mapping[str, str]) -> tuple[pd.DataFrame, float, pd.DataFrame]:  # fmt: skip
    """How run A's segments became run B's on the customers both segmented: the crosstab of
    customers, the adjusted Rand index, and for each A segment the B segment most of its
    customers went to (with that share)."""
    common = a.index.astype("str").intersection(b.index.astype("str"))
    sa = a.set_axis(a.index.astype("str")).loc[common].astype("str")
    sb = b.set_axis(b.index.astype("str")).loc[common].astype("str")
    cross = pd.crosstab(sa.map(lambda s: segment_label(s, names_a)),
                        sb.map(lambda s: segment_label(s, names_b)))  # fmt: skip
    ari = float(adjusted_rand_score(sa, sb)) if len(common) else float("nan")
    share = cross.div(cross.sum(axis=1), axis=0)
    best = pd.DataFrame({"became": share.idxmax(axis=1),
                         "share of its customers": share.max(axis=1),
                         "customers": cross.sum(axis=1)})  # fmt: skip
    return cross, ari, best.rename_axis("segment in run A").reset_index()


def campaign(
    segments: pd.Series, recommendations: pd.DataFrame | None, segment: str, offers: int = 3
) -> pd.DataFrame:
    """The customers of one segment with their top `offers` recommendations (one column each,
    empty where a list is shorter), for a campaign tool. Vectorised: a million customers'
    lists are cut to the first `offers` and pivoted, never walked customer by customer."""
    seg = segments.set_axis(segments.index.astype("str")).astype("str")
    ids = seg.index[seg == str(segment)]
    out = pd.DataFrame({"customer_id": ids, "segment": str(segment)})
    if recommendations is None or not len(recommendations):
        return out
    recs = recommendations
    if "rank" not in recs.columns:  # a source's list: rows in order within each customer
        recs = recs.assign(rank=recs.groupby("customer_id", observed=True).cumcount() + 1)
    recs = recs.loc[recs["rank"] <= offers, ["customer_id", "item", "rank"]]
    recs = recs[recs["customer_id"].astype("str").isin(ids)]
    wide = recs.assign(customer_id=recs["customer_id"].astype("str"),
                       item=recs["item"].astype("str")).pivot(
        index="customer_id", columns="rank", values="item")  # fmt: skip
    for i in range(1, offers + 1):
        column = wide[i] if i in wide.columns else pd.Series(dtype="str")
        out[f"offer_{i}"] = column.reindex(ids).fillna("").to_numpy()
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV a spreadsheet opens without running anything: cells that would be formulas get a
    leading quote (the run's own CSV rule)."""
    buffer = io.StringIO()
    csv_safe(frame).to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")
