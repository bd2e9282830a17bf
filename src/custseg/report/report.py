"""One readable report per run: what ran, the figures, one section per segment, how to rerun.

The content is built once as a list of blocks (blocks.py) and rendered twice (render.py):
Markdown with the figures linked from figures/ next to it, and a self-contained HTML page with
the figures embedded, which can be mailed or attached to an MLflow run and still open anywhere.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from custseg.atomic import atomic_dir
from custseg.report.blocks import build_blocks
from custseg.report.render import render_html, render_markdown

log = logging.getLogger(__name__)


@dataclass
class ReportInput:
    """Everything the report shows; the run's tables as custseg.profiling and the rules and
    recommendation stages return them."""

    title: str
    run: dict[str, Any]  # data, rows_after_cleaning, customers, features, algorithm, params,
    # metrics, command, run_id, run_name
    summary: pd.DataFrame  # Profiles.summary: segment label rows + "all"
    personas: pd.DataFrame  # segment, key, name, description, rfm_label, actions
    figures: dict[str, Path]  # name -> PNG, in report order (figures.draw_figures' result)
    top_pairs: pd.DataFrame | None  # rules: segment, antecedent, consequent, confidence, lift
    evaluation: pd.DataFrame | None  # recommenders x metrics
    top_products: pd.DataFrame | None
    product_names: dict[str, str] | None = None
    currency: str = ""  # symbol before money (data.currency)
    warnings: dict[str, str] | None = None  # custseg.notices: key -> sentence
    value_profile: pd.DataFrame | None = None  # custseg.profiling.value: segment rows + "all"
    value_check: dict[str, float] | None = None  # Holdout.metrics: the held-out days' check
    value_horizon_days: int | None = None  # what "expected purchases" counts
    offers: pd.DataFrame | None = None  # recommend.expected.top_offers: rank_by=expected_value
    offer_basis: str = "amount"  # what an offer's worth counts: "amount" (revenue) or "margin"
    offers_p_alive: bool = True  # the worth holds P(alive) (False: no value stage ran)


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
        blocks = build_blocks(inp, figures)
        rel = {p: p.relative_to(tmp).as_posix() for p in figures.values()}
        (tmp / "report.md").write_text(render_markdown(blocks, rel), encoding="utf-8")
        (tmp / "report.html").write_text(render_html(inp.title, blocks), encoding="utf-8")
    return out_dir / "report.md", out_dir / "report.html"
