"""The marketer's part of the report: the segments at a glance, then one section per segment
(persona, profile against everyone, value, offers, products, pairs, actions).

Plain blocks as in `blocks` (rendered and escaped there).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from custseg.report.cells import (
    Block,
    actions_of,
    fmt,
    is_missing,
    item_name,
    persona_of,
    segment_column,
)
from custseg.report.value_blocks import glance, offers_cell, segment_offers, segment_value
from custseg.segment.stability import verdict as stability_verdict

if TYPE_CHECKING:
    from custseg.report.report import ReportInput

# Summary columns a segment section compares against "all", in this order, when present.
PROFILE_COLUMNS = (
    "customers", "customer_share", "revenue", "revenue_share", "avg_basket_value",
    "avg_basket_units", "median_monetary", "median_frequency", "median_recency_days",
    "median_units_per_basket", "median_mean_unit_price", "median_tenure_days",
)  # fmt: skip
GLANCE_ACTIONS = 2  # suggested actions per segment in the glance table (all in its section)
GLANCE_OFFERS = 2  # offers per segment in the glance table (the top five in its section)


def glance_blocks(
    inp: ReportInput, summary: pd.DataFrame, labels: list[str], names: dict[str, str]
) -> list[Block]:
    """One row per segment: who they are, how many, what they bring in and are worth, what to
    do with them and what to offer them first."""
    rows = []
    for label in labels:
        row, persona = summary.loc[label], persona_of(inp.personas, label)
        cells: dict[str, Any] = {
            "segment": label, "persona": persona.get("name", ""),
            "customers": fmt(row.get("customers"), "customers"),
            "customer share": fmt(row.get("customer_share"), "customer_share"),
            "revenue share": fmt(row.get("revenue_share"), "revenue_share"),
            **glance(inp.value_profile, label, inp.currency),
            "suggested actions": "; ".join(actions_of(persona)[:GLANCE_ACTIONS]) or "–",
        }  # fmt: skip
        if inp.offers is not None:
            cells["top offers"] = offers_cell(inp, label, names, GLANCE_OFFERS)
        rows.append(cells)
    table = pd.DataFrame(rows)
    if (table["suggested actions"] == "–").all():  # personas off: no playbook to quote
        table = table.drop(columns="suggested actions")
    intro = ("One row per segment: its persona, size, what it brings in and what to do about "
             "it. Each segment's section below has the detail.")  # fmt: skip
    return [("h", 2, "Segments at a glance"), ("p", intro), ("table", table)]


def _profile_table(
    summary: pd.DataFrame, label: str, currency: str, header: str
) -> pd.DataFrame:
    cols = [c for c in PROFILE_COLUMNS if c in summary.columns]
    seg, everyone = summary.loc[label], summary.loc["all"] if "all" in summary.index else None
    rows = []
    for c in cols:
        ratio = "–"
        if everyone is not None and "share" not in c and c != "customers" and c != "revenue":
            try:
                base = float(everyone[c])
                ratio = f"{float(seg[c]) / base:.2f}×" if base else "–"
            except (TypeError, ValueError):
                ratio = "–"
        rows.append((c.replace("_", " "), fmt(seg[c], c, currency),
                     fmt(everyone[c], c, currency) if everyone is not None else "–",
                     ratio))  # fmt: skip
    return pd.DataFrame(rows, columns=["measure", header, "all customers", "vs all"])


def _products_table(top: pd.DataFrame, label: str, names: dict[str, str]) -> pd.DataFrame | None:
    part = top[top["segment"].astype(str) == label].sort_values("rank")
    if part.empty:
        return None
    has_names = "product_name" in part.columns
    rows = []
    for r in part.itertuples(index=False):
        pid = str(r.product_id)
        name = r.product_name if has_names and not is_missing(r.product_name) else None
        shown = f"{name} ({pid})" if name else item_name(pid, names)
        share, overall = float(r.share), float(r.overall_share)
        lift = f"{share / overall:.1f}×" if overall else "–"
        rows.append((int(r.rank), shown, f"{share:.1%}", f"{overall:.1%}", lift))
    cols = ["rank", "product", "share of segment", "share of all", "vs all"]
    return pd.DataFrame(rows, columns=cols)


def _pairs_table(rules: pd.DataFrame, label: str, names: dict[str, str]) -> pd.DataFrame | None:
    part = rules[rules["segment"].astype(str) == label]
    if part.empty:
        return None
    by = ["lift", "confidence"] if "confidence" in part.columns else ["lift"]
    part = part.sort_values(by, ascending=False).head(5)

    def show(items: Any) -> str:
        items = items if isinstance(items, list | tuple) else (items,)
        return " + ".join(item_name(str(i), names) for i in items)

    rows = [
        (show(r["antecedent"]), show(r["consequent"]), fmt(r.get("confidence"), "share"),
         f"{float(r['lift']):.2f}")
        for _, r in part.iterrows()
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["customers who buy", "also buy", "confidence", "lift"])


def segment_section(
    inp: ReportInput, summary: pd.DataFrame, label: str, color: str, names: dict[str, str]
) -> list[Block]:
    """One segment's section: persona, profile vs all, value, top offers, top products and
    pairs, actions."""
    p = persona_of(inp.personas, label)
    out: list[Block] = [("open", label, color),
                        ("h", 2, f"Segment {label}: {p.get('name') or 'unnamed'}")]  # fmt: skip
    if p.get("description"):
        out.append(("p", str(p["description"])))
    if not is_missing(p.get("rfm_label")) and p.get("rfm_label"):
        out.append(("p", f"RFM label: {p['rfm_label']}"))
    jaccard = (inp.run.get("metrics") or {}).get(f"stability.jaccard.{label}")
    if jaccard is not None:
        out.append(("p", f"Stability: {stability_verdict(float(jaccard))} (bootstrap Jaccard "
                         f"recovery {float(jaccard):.2f}; 0.75 stable, 0.85 highly stable)"))
    header = segment_column(inp.personas, label)
    out += [("h", 3, "Profile (this segment vs all customers)"),
            ("table", _profile_table(summary, label, inp.currency, header))]  # fmt: skip
    out += segment_value(inp, label)
    out += segment_offers(inp, label, names)
    if inp.top_products is not None:
        table = _products_table(inp.top_products, label, names)
        if table is not None:
            out += [("h", 3, "Top products"), ("table", table)]
    if inp.top_pairs is not None:
        table = _pairs_table(inp.top_pairs, label, names)
        if table is not None:
            out += [("h", 3, "Top cross-sell pairs (by lift)"), ("table", table)]
    actions = actions_of(p)
    if actions:
        out += [("h", 3, "Suggested actions"), ("ul", actions)]
    out.append(("close",))
    return out
