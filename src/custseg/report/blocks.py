"""What the report says, as a list of blocks, built once and rendered twice (render.py).

A block is a tuple: ("h", level, text) ("p", text) ("ul", items) ("table", frame)
("img", caption, path) ("code", text) ("open", segment label, colour) ("close",). Keeping the
content apart from its rendering means Markdown and HTML can never say different things. Texts
here are plain, data included (product names, personas, labels): each renderer escapes them
for its own format and masks secrets, so nothing here may carry markup of its own.

The report is read by a marketing team first: after the warnings (they qualify everything) it
says what the segments are (segment_blocks: at a glance, then one section each), shows the
figures they read, and only then the method and metrics (method_blocks).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from custseg.report.cells import Block, fmt, is_missing
from custseg.report.figures import CAPTIONS, MARKETING, METHOD, PARTS, VALUE_CHECK
from custseg.report.method_blocks import method_blocks
from custseg.report.palette import label_key, segment_colors
from custseg.report.segment_blocks import glance_blocks, segment_section

if TYPE_CHECKING:
    from custseg.report.report import ReportInput

log = logging.getLogger(__name__)

__all__ = ["Block", "build_blocks", "caption", "fmt", "is_missing"]

FIGURES_TITLE = "The segments in figures"


def caption(name: str) -> str:
    """A figure's caption from the one list of figures (figures.FIGURES); a name not on it
    (a figure drawn outside draw_figures) is shown by its name, with a warning."""
    if name in CAPTIONS:
        return CAPTIONS[name]
    log.warning("report: figure %r has no caption in custseg.report.figures.FIGURES", name)
    return name.replace("_", " ")


def _figure_blocks(figures: dict[str, Path], part: str) -> list[Block]:
    """The figures of one part of the report, in the order given; a figure that is not on
    figures.FIGURES goes with the method."""
    return [("img", caption(name), path) for name, path in figures.items()
            if PARTS.get(name, METHOD) == part]  # fmt: skip


def _item_names(inp: ReportInput) -> dict[str, str]:
    """Item -> product name: the run's names, completed from the top-products table."""
    names = dict(inp.product_names or {})
    if inp.top_products is not None and "product_name" in inp.top_products.columns:
        for pid, nm in zip(inp.top_products["product_id"], inp.top_products["product_name"],
                           strict=True):  # fmt: skip
            if not is_missing(nm):
                names.setdefault(str(pid), str(nm))
    return names


def build_blocks(inp: ReportInput, figures: dict[str, Path]) -> list[Block]:
    """The whole report: title and warnings; the segments at a glance (persona, size, value,
    actions, top offers); one section per segment; the figures a marketer reads; then the
    method and metrics (what ran, how the segments were chosen, the value check, the
    recommendation evaluation, how to rerun). `figures`: name -> PNG, in report order."""
    names = _item_names(inp)
    summary = inp.summary.copy()
    summary.index = summary.index.astype(str)
    labels = sorted((s for s in summary.index if s != "all"), key=label_key)
    colors = segment_colors(labels)
    out: list[Block] = [("h", 1, inp.title)]
    if inp.warnings:  # before anything they may qualify
        items = [f"{v} (MLflow tag warning.{k})" for k, v in inp.warnings.items()]
        out += [("h", 2, "Warnings"), ("ul", items)]
    out += glance_blocks(inp, summary, labels, names)
    for label in labels:
        out += segment_section(inp, summary, label, colors[label], names)
    shown = _figure_blocks(figures, MARKETING)
    if shown:
        out += [("h", 2, FIGURES_TITLE), *shown]
    out += method_blocks(inp, _figure_blocks(figures, METHOD),
                         _figure_blocks(figures, VALUE_CHECK))  # fmt: skip
    return out
