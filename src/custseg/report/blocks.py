"""What the report says, as a list of blocks, built once and rendered twice (render.py).

A block is a tuple: ("h", level, text) ("p", text) ("ul", items) ("table", frame)
("img", caption, path) ("code", text) ("open", segment label, colour) ("close",). Keeping the
content apart from its rendering means Markdown and HTML can never say different things. Texts
here are plain, data included (product names, personas, labels): each renderer escapes them
for its own format and masks secrets, so nothing here may carry markup of its own.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from custseg.redact import redact
from custseg.report.figures import CAPTIONS
from custseg.report.palette import label_key, segment_colors
from custseg.report.value_blocks import glance, segment_offers, segment_value, value_section
from custseg.segment.stability import verdict as stability_verdict

if TYPE_CHECKING:
    from custseg.report.report import ReportInput

log = logging.getLogger(__name__)

Block = tuple[Any, ...]

# Summary columns a segment section compares against "all", in this order, when present.
PROFILE_COLUMNS = (
    "customers", "customer_share", "revenue", "revenue_share", "avg_basket_value",
    "avg_basket_units", "median_monetary", "median_frequency", "median_recency_days",
    "median_units_per_basket", "median_mean_unit_price", "median_tenure_days",
)  # fmt: skip
# summary columns that are money: shown with the data's currency symbol (data.currency)
MONEY = ("revenue", "avg_basket_value", "median_monetary", "median_mean_unit_price")


def is_missing(value: Any) -> bool:
    """None or a pandas/numpy missing value; False for lists and other non-scalars."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def fmt(value: Any, column: str = "", currency: str = "") -> str:
    """Numbers the way a reader wants them: shares as %, counts with separators, money with
    the data's currency symbol."""
    if currency and column in MONEY and not is_missing(value):
        return currency + fmt(value, column)
    if is_missing(value):
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float) or hasattr(value, "dtype"):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return str(value)
        if "share" in column:
            return f"{number:.1%}"
        if math.isfinite(number) and number == int(number) and abs(number) < 1e15:
            return f"{int(number):,}"
        return f"{number:,.2f}" if abs(number) >= 100 else f"{number:.3g}"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def caption(name: str) -> str:
    """A figure's caption from the one list of figures (figures.FIGURES); a name not on it
    (a figure drawn outside draw_figures) is shown by its name, with a warning."""
    if name in CAPTIONS:
        return CAPTIONS[name]
    log.warning("report: figure %r has no caption in custseg.report.figures.FIGURES", name)
    return name.replace("_", " ")


def _kv_table(pairs: Iterable[tuple[str, Any]], key: str, value: str) -> pd.DataFrame:
    return pd.DataFrame([(k, fmt(v, k)) for k, v in pairs], columns=[key, value])


def _name(item: str, names: dict[str, str]) -> str:
    return f"{names[item]} ({item})" if item in names else str(item)


def _persona(personas: pd.DataFrame, label: str) -> dict[str, Any]:
    rows = personas[personas["segment"].astype(str) == label] if len(personas) else personas
    if len(rows) == 0:
        unassigned = label_key(label)[0] == 1
        return {"name": "Unassigned" if unassigned else f"Segment {label}", "description": "",
                "rfm_label": None, "actions": []}  # fmt: skip
    return rows.iloc[0].to_dict()


def _profile_table(summary: pd.DataFrame, label: str, currency: str) -> pd.DataFrame:
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
    return pd.DataFrame(rows, columns=["measure", f"segment {label}", "all customers", "vs all"])


def _products_table(top: pd.DataFrame, label: str, names: dict[str, str]) -> pd.DataFrame | None:
    part = top[top["segment"].astype(str) == label].sort_values("rank")
    if part.empty:
        return None
    has_names = "product_name" in part.columns
    rows = []
    for r in part.itertuples(index=False):
        pid = str(r.product_id)
        name = r.product_name if has_names and not is_missing(r.product_name) else None
        shown = f"{name} ({pid})" if name else _name(pid, names)
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
        return " + ".join(_name(str(i), names) for i in items)

    rows = [
        (show(r["antecedent"]), show(r["consequent"]), fmt(r.get("confidence"), "share"),
         f"{float(r['lift']):.2f}")
        for _, r in part.iterrows()
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["customers who buy", "also buy", "confidence", "lift"])


def _run_blocks(run: dict[str, Any]) -> list[Block]:
    """What ran: data, features, algorithm, chosen parameters, metrics."""
    features = run.get("features")
    if isinstance(features, list | tuple):
        features = ", ".join(str(f) for f in features)
    facts = [("data", run.get("data")), ("rows after cleaning", run.get("rows_after_cleaning")),
             ("customers", run.get("customers")), ("features", features),
             ("algorithm", run.get("algorithm")), ("run name", run.get("run_name")),
             ("MLflow run id", run.get("run_id"))]  # fmt: skip
    out: list[Block] = [("h", 2, "What ran")]
    out.append(("table", _kv_table(((k, v) for k, v in facts if not is_missing(v)), "", "value")))
    params = run.get("params") or {}
    if params:
        out += [("h", 3, "Chosen parameters"),
                ("table", _kv_table(params.items(), "parameter", "value"))]  # fmt: skip
    metrics = run.get("metrics") or {}
    if metrics:
        out += [("h", 3, "Metrics"),
                ("table", _kv_table(sorted(metrics.items()), "metric", "value"))]  # fmt: skip
    return out


def _segment_blocks(
    inp: ReportInput, summary: pd.DataFrame, label: str, color: str, names: dict[str, str]
) -> list[Block]:
    """One segment's section: persona, profile vs all, top products and pairs, actions."""
    p = _persona(inp.personas, label)
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
    out += [("h", 3, "Profile (this segment vs all customers)"),
            ("table", _profile_table(summary, label, inp.currency))]  # fmt: skip
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
    actions = p.get("actions")
    if isinstance(actions, Sequence) and not isinstance(actions, str) and len(actions):
        out += [("h", 3, "Suggested actions"), ("ul", [str(a) for a in actions])]
    out.append(("close",))
    return out


def build_blocks(inp: ReportInput, figures: dict[str, Path]) -> list[Block]:
    """The whole report: what ran, segments at a glance, the figures (name -> PNG, in the
    order given), one section per segment, the recommendation evaluation, how to rerun."""
    names = dict(inp.product_names or {})
    if inp.top_products is not None and "product_name" in inp.top_products.columns:
        for pid, nm in zip(inp.top_products["product_id"], inp.top_products["product_name"],
                           strict=True):  # fmt: skip
            if not is_missing(nm):
                names.setdefault(str(pid), str(nm))
    summary = inp.summary.copy()
    summary.index = summary.index.astype(str)
    labels = sorted((s for s in summary.index if s != "all"), key=label_key)
    colors = segment_colors(labels)
    out: list[Block] = [("h", 1, inp.title)]
    if inp.warnings:  # before anything they may qualify
        items = [f"{v} (MLflow tag warning.{k})" for k, v in inp.warnings.items()]
        out += [("h", 2, "Warnings"), ("ul", items)]
    out += _run_blocks(inp.run)

    out.append(("h", 2, "Segments at a glance"))
    rows = []
    for label in labels:
        row = summary.loc[label]
        rows.append({"segment": label, "persona": _persona(inp.personas, label).get("name", ""),
                     "customers": fmt(row.get("customers"), "customers"),
                     "customer share": fmt(row.get("customer_share"), "customer_share"),
                     "revenue share": fmt(row.get("revenue_share"), "revenue_share"),
                     **glance(inp.value_profile, label, inp.currency)})  # fmt: skip
    out.append(("table", pd.DataFrame(rows)))

    if figures:
        out.append(("h", 2, "Figures"))
        out += [("img", caption(name), path) for name, path in figures.items()]

    for label in labels:
        out += _segment_blocks(inp, summary, label, colors[label], names)

    out += value_section(inp)
    if inp.evaluation is not None and len(inp.evaluation):
        ev = inp.evaluation.copy()
        ev = ev.map(lambda v: fmt(v)).reset_index(names="recommender")
        out += [("h", 2, "Recommendation evaluation (time split)"), ("table", ev)]
        if "custseg_relevance" in inp.evaluation.index:
            out.append(("p", "custseg is the served list, ranked by expected revenue; "
                             "custseg_relevance is the same blend in relevance order. revenue@k: "
                             "what the new items each test customer bought from their top k "
                             "sell for (median line amount, or margin), per customer."))

    out.append(("h", 2, "How to reproduce"))  # a password in tracking.uri=... stays masked
    out.append(("code", redact(str(inp.run.get("command") or "(command not recorded)"))))
    return out
