"""One readable report per run: what ran, the figures, one section per segment, how to rerun.

The content is built once as a list of blocks and rendered twice: Markdown (figures linked from
figures/ next to it) and a self-contained HTML page (figures embedded as base64, inline CSS, no
external resources) that can be mailed or attached to an MLflow run and still open anywhere.
"""

from __future__ import annotations

import base64
import html
import logging
import math
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from custseg.atomic import atomic_dir
from custseg.report.colors import segment_colors

log = logging.getLogger(__name__)

# Summary columns a segment section compares against "all", in this order, when present.
PROFILE_COLUMNS = (
    "customers", "customer_share", "revenue", "revenue_share", "avg_basket_value",
    "avg_basket_units", "median_monetary", "median_frequency", "median_recency_days",
    "median_units_per_basket", "median_mean_unit_price", "median_tenure_days",
)  # fmt: skip
FIGURE_CAPTIONS = {
    "scatter": "Segments in feature space",
    "biplot": "PCA biplot: which features separate the segments",
    "sizes": "Customer share vs revenue share",
    "boxplots": "Feature distributions per segment",
    "silhouette": "Silhouette per customer",
    "elbow": "Choosing the number of segments",
    "pareto": "Tuning trials",
    "top_rules": "Strongest cross-sell rules",
    "region_mix": "Region mix per segment",
    "category_mix": "Category mix per segment",
    "top_items": "Top products per segment",
}
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:2px solid #444}h2{border-bottom:1px solid #ccc;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}
th{background:#f2f2f2}td.num,th.num{text-align:right}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:.9em}
pre{background:#f6f6f6;padding:.8em;overflow-x:auto}
section.segment{border-left:6px solid #888;padding-left:1em;margin:2em 0}
.rfm{display:inline-block;background:#eef;border-radius:3px;padding:0 .4em;font-size:.9em}
"""
LOAD_SCRIPT = """
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; });
  document.body.dataset.imagesLoaded = String(ok.length);
  document.body.dataset.imagesTotal = String(imgs.length);
});
"""


@dataclass
class ReportInput:
    title: str
    run: dict[str, Any]  # data, rows_after_cleaning, customers, features, algorithm, params,
    # metrics, command, run_id, run_name
    summary: pd.DataFrame  # Profiles.summary: segment label rows + "all"
    personas: pd.DataFrame  # segment, key, name, description, rfm_label, actions
    figures: dict[str, Path]  # name -> PNG
    top_pairs: pd.DataFrame | None  # rules: segment, antecedent, consequent, confidence, lift
    evaluation: pd.DataFrame | None  # recommenders x metrics
    top_products: pd.DataFrame | None
    product_names: dict[str, str] | None = None


# --- blocks: ("h", level, text) ("p", text) ("ul", items) ("table", frame) ("img", name, path)
#             ("code", text) ("open", label, color) ("close",)
Block = tuple[Any, ...]


def _label_key(label: str) -> tuple[int, int | str]:
    try:
        value = int(label)
    except ValueError:
        return (2, label)
    return (1, value) if value < 0 else (0, value)


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _fmt(value: Any, column: str = "") -> str:
    """Numbers the way a reader wants them: shares as %, counts with separators."""
    if _is_missing(value):
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


def _md_table(frame: pd.DataFrame) -> str:
    """A GitHub-style Markdown table without the optional `tabulate` dependency."""

    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    head = [cell(c) for c in frame.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(False)]
    return "\n".join(lines)


def _kv_table(pairs: Iterable[tuple[str, Any]], key: str, value: str) -> pd.DataFrame:
    return pd.DataFrame([(k, _fmt(v, k)) for k, v in pairs], columns=[key, value])


def _name(item: str, names: dict[str, str]) -> str:
    return f"{names[item]} ({item})" if item in names else str(item)


def _persona(personas: pd.DataFrame, label: str) -> dict[str, Any]:
    rows = personas[personas["segment"].astype(str) == label] if len(personas) else personas
    if len(rows) == 0:
        unassigned = _label_key(label)[0] == 1
        return {"name": "Unassigned" if unassigned else f"Segment {label}", "description": "",
                "rfm_label": None, "actions": []}  # fmt: skip
    return rows.iloc[0].to_dict()


def _profile_table(summary: pd.DataFrame, label: str) -> pd.DataFrame:
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
        rows.append((c.replace("_", " "), _fmt(seg[c], c),
                     _fmt(everyone[c], c) if everyone is not None else "–", ratio))  # fmt: skip
    return pd.DataFrame(rows, columns=["measure", f"segment {label}", "all customers", "vs all"])


def _products_table(top: pd.DataFrame, label: str, names: dict[str, str]) -> pd.DataFrame | None:
    part = top[top["segment"].astype(str) == label].sort_values("rank")
    if part.empty:
        return None
    has_names = "product_name" in part.columns
    rows = []
    for r in part.itertuples(index=False):
        pid = str(r.product_id)
        name = r.product_name if has_names and not _is_missing(r.product_name) else None
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
        (show(r["antecedent"]), show(r["consequent"]), _fmt(r.get("confidence"), "share"),
         f"{float(r['lift']):.2f}")
        for _, r in part.iterrows()
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["customers who buy", "also buy", "confidence", "lift"])


def _blocks(inp: ReportInput, figures: dict[str, Path]) -> list[Block]:
    run = inp.run
    names = dict(inp.product_names or {})
    if inp.top_products is not None and "product_name" in inp.top_products.columns:
        for pid, nm in zip(inp.top_products["product_id"], inp.top_products["product_name"],
                           strict=True):  # fmt: skip
            if not _is_missing(nm):
                names.setdefault(str(pid), str(nm))
    summary = inp.summary.copy()
    summary.index = summary.index.astype(str)
    labels = sorted((s for s in summary.index if s != "all"), key=_label_key)
    colors = segment_colors(labels)
    out: list[Block] = [("h", 1, inp.title)]

    out.append(("h", 2, "What ran"))
    features = run.get("features")
    if isinstance(features, list | tuple):
        features = ", ".join(str(f) for f in features)
    facts = [("data", run.get("data")), ("rows after cleaning", run.get("rows_after_cleaning")),
             ("customers", run.get("customers")), ("features", features),
             ("algorithm", run.get("algorithm")), ("run name", run.get("run_name")),
             ("MLflow run id", run.get("run_id"))]  # fmt: skip
    out.append(("table", _kv_table(((k, v) for k, v in facts if not _is_missing(v)), "", "value")))
    params = run.get("params") or {}
    if params:
        out += [("h", 3, "Chosen parameters"), ("table", _kv_table(params.items(), "parameter",
                                                                    "value"))]  # fmt: skip
    metrics = run.get("metrics") or {}
    if metrics:
        out += [("h", 3, "Metrics"), ("table", _kv_table(sorted(metrics.items()), "metric",
                                                         "value"))]  # fmt: skip

    out.append(("h", 2, "Segments at a glance"))
    glance = []
    for label in labels:
        p = _persona(inp.personas, label)
        row = summary.loc[label]
        glance.append((label, p.get("name", ""), _fmt(row.get("customers"), "customers"),
                       _fmt(row.get("customer_share"), "customer_share"),
                       _fmt(row.get("revenue_share"), "revenue_share")))  # fmt: skip
    cols = ["segment", "persona", "customers", "customer share", "revenue share"]
    out.append(("table", pd.DataFrame(glance, columns=cols)))

    if figures:
        out.append(("h", 2, "Figures"))
        for name, path in figures.items():
            out.append(("img", FIGURE_CAPTIONS.get(name, name.replace("_", " ")), path))

    for label in labels:
        p = _persona(inp.personas, label)
        out.append(("open", label, colors[label]))
        out.append(("h", 2, f"Segment {label}: {p.get('name') or 'unnamed'}"))
        if p.get("description"):
            out.append(("p", str(p["description"])))
        if not _is_missing(p.get("rfm_label")) and p.get("rfm_label"):
            out.append(("p", f"RFM label: {p['rfm_label']}"))
        out += [("h", 3, "Profile (this segment vs all customers)"),
                ("table", _profile_table(summary, label))]  # fmt: skip
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

    if inp.evaluation is not None and len(inp.evaluation):
        ev = inp.evaluation.copy()
        ev = ev.map(lambda v: _fmt(v)).reset_index(names="recommender")
        out += [("h", 2, "Recommendation evaluation (time split)"), ("table", ev)]

    out.append(("h", 2, "How to reproduce"))
    out.append(("code", str(run.get("command") or "(command not recorded)")))
    return out


def _render_md(blocks: list[Block], figure_rel: dict[Path, str]) -> str:
    parts: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "h":
            parts.append("#" * block[1] + " " + block[2])
        elif kind == "p":
            parts.append(block[1])
        elif kind == "ul":
            parts.append("\n".join(f"- {item}" for item in block[1]))
        elif kind == "table":
            parts.append(_md_table(block[1]))
        elif kind == "img":
            parts.append(f"**{block[1]}**\n\n![{block[1]}]({figure_rel[block[2]]})")
        elif kind == "code":
            parts.append(f"```bash\n{block[1]}\n```")
    return "\n\n".join(parts) + "\n"


def _html_table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, escape=True, border=0)


def _render_html(title: str, blocks: list[Block]) -> str:
    esc = html.escape
    body: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "h":
            body.append(f"<h{block[1]}>{esc(block[2])}</h{block[1]}>")
        elif kind == "p":
            body.append(f"<p>{esc(block[1])}</p>")
        elif kind == "ul":
            body.append("<ul>" + "".join(f"<li>{esc(i)}</li>" for i in block[1]) + "</ul>")
        elif kind == "table":
            body.append(_html_table(block[1]))
        elif kind == "img":
            data = base64.b64encode(Path(block[2]).read_bytes()).decode("ascii")
            body.append(f'<figure><img alt="{esc(block[1])}" src="data:image/png;base64,{data}">'
                        f"<figcaption>{esc(block[1])}</figcaption></figure>")  # fmt: skip
        elif kind == "code":
            body.append(f"<pre><code>{esc(block[1])}</code></pre>")
        elif kind == "open":
            label, color = esc(block[1]), esc(block[2])
            body.append(f'<section class="segment" data-segment="{label}" id="segment-{label}" '
                        f'style="border-left-color:{color}">')  # fmt: skip
        elif kind == "close":
            body.append("</section>")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + f"\n<script>{LOAD_SCRIPT}</script>\n</body>\n</html>\n"
    )


def _collect_figures(figures: dict[str, Path], out_dir: Path) -> dict[str, Path]:
    """Copy each existing PNG into out_dir/figures/ (unless already there) so report.md's relative
    links work; missing files are logged and left out rather than producing broken images."""
    fig_dir = out_dir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    placed: dict[str, Path] = {}
    for name, src in figures.items():
        src = Path(src)
        if not src.is_file():
            log.warning("report: figure %s (%s) does not exist; left out", name, src)
            continue
        dest = fig_dir / src.name
        if dest.exists() and dest.resolve() == src.resolve():
            placed[name] = dest
            continue
        if dest.exists() or dest in placed.values():
            dest = fig_dir / f"{name}_{src.name}"
        shutil.copyfile(src, dest)
        placed[name] = dest
    return placed


def write_report(inp: ReportInput, out_dir: Path) -> tuple[Path, Path]:
    """Write out_dir/report.md (+ figures/) and the self-contained out_dir/report.html."""
    out_dir = Path(out_dir)
    with atomic_dir(out_dir) as tmp:  # a half-written report never replaces a whole one
        figures = _collect_figures(inp.figures, tmp)
        blocks = _blocks(inp, figures)
        rel = {p: p.relative_to(tmp).as_posix() for p in figures.values()}
        (tmp / "report.md").write_text(_render_md(blocks, rel), encoding="utf-8")
        (tmp / "report.html").write_text(_render_html(inp.title, blocks), encoding="utf-8")
    return out_dir / "report.md", out_dir / "report.html"
