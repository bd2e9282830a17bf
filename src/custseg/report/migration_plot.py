"""The segment-drift figure (`custseg.monitoring.drift`): where each segment's customers went
between two periods, and how the segment sizes moved. Writes one PNG.

It takes any object with the fields of `custseg.monitoring.drift.DriftResult` (the `Drift`
protocol below) rather than importing that class: the report package then never imports the
monitoring package, which imports this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.text import Text

from custseg.report.palette import OTHER_COLOR, segment_colors
from custseg.report.plotting import MIN_FONT, readable, save_figure, segment_name, shorten

LABEL_INCH = 0.09  # width of a character of a bold 10 pt tick label, in inches


class Drift(Protocol):
    """What the figure reads of a drift result (`custseg.monitoring.drift.DriftResult`)."""

    split: pd.Timestamp
    migration: pd.DataFrame  # counts: rows segment in period A, columns segment in period B
    sizes: pd.DataFrame  # index segment; share_a, share_b
    ari_refit: float
    moved_share: float
    customers_a: int
    customers_b: int
    customers_both: int


def _bold_colored(ticks: list[Text], labels: Iterable[object], colors: dict[str, str]) -> None:
    """Tick labels in their segment's colour, bold: the figure's only legend for segments."""
    for tick, s in zip(ticks, labels, strict=True):
        tick.set_color(colors.get(str(s), OTHER_COLOR))
        tick.set_fontweight("bold")


@readable
def migration_plot(
    result: Drift, path: Path, title: str, personas: Mapping[str, str] | None = None
) -> Path:
    """Left: where each period-A segment's customers went (row shares, with counts); the
    diagonal is who stayed. Right: segment sizes in A and B side by side (all customers).
    `personas` (segment label -> persona name of model A) names the segments."""

    def name(label: object) -> str:
        return shorten(segment_name(label, personas), 30)

    counts = result.migration
    rows = counts.to_numpy().astype(float)
    totals = rows.sum(axis=1, keepdims=True)
    shares = np.divide(rows, totals, out=np.zeros_like(rows), where=totals > 0)
    colors = segment_colors([str(x) for x in counts.index.union(counts.columns)])
    day = result.split.date()

    n = max(len(counts.index), len(counts.columns))
    row_labels = [f"{name(s)} (n={int(t):,})"
                  for s, t in zip(counts.index, totals[:, 0], strict=True)]  # fmt: skip
    # the two panels' segment names take room from the cells: widen the figure for names
    # longer than "segment 10 (n=10,000)" and "segment 10" (the widths it was drawn for)
    extra = max(len(t) for t in row_labels) + max(len(name(s)) for s in result.sizes.index) - 31
    fig = Figure(figsize=(6 + 1.1 * n + LABEL_INCH * max(extra, 0), 1.6 + 0.75 * n))
    ax, bx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.35, 1]})
    im = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for i in range(shares.shape[0]):
        for j in range(shares.shape[1]):
            dark = shares[i, j] > 0.55
            ax.text(j, i, f"{shares[i, j]:.0%}\n(n={int(rows[i, j]):,})", ha="center",
                    va="center", fontsize=MIN_FONT, color="white" if dark else "black")  # fmt: skip
    ax.set_yticks(range(len(counts.index)), row_labels)
    ax.set_xticks(range(len(counts.columns)), [name(s) for s in counts.columns],
                  rotation=30, ha="right")  # fmt: skip
    _bold_colored(ax.get_yticklabels(), counts.index, colors)
    _bold_colored(ax.get_xticklabels(), counts.columns, colors)
    ax.set_ylabel(f"segment in period A (before {day})")
    ax.set_xlabel(f"segment in period B (from {day}), by model A")
    ax.set_title(
        f"Where each segment's customers went\n{result.customers_both:,} customers active in "
        f"both periods, {result.moved_share:.0%} changed segment",
        fontsize=10,
    )
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, format=lambda v, _: f"{v:.0%}",
                 label="share of the period-A segment")  # fmt: skip

    sizes = result.sizes
    y = np.arange(len(sizes))
    bar_colors = [colors.get(str(s), OTHER_COLOR) for s in sizes.index]
    bx.barh(y - 0.2, sizes["share_a"], height=0.38, color=bar_colors, edgecolor="black",
            label=f"period A, before {day} ({result.customers_a:,} customers)")  # fmt: skip
    bx.barh(y + 0.2, sizes["share_b"], height=0.38, color=bar_colors, alpha=0.45, hatch="//",
            edgecolor="black",
            label=f"period B, from {day} ({result.customers_b:,} customers)")  # fmt: skip
    for yi, (a, b) in enumerate(zip(sizes["share_a"], sizes["share_b"], strict=True)):
        bx.text(a, yi - 0.2, f" {a:.0%}", va="center", fontsize=MIN_FONT)
        bx.text(b, yi + 0.2, f" {b:.0%} ({b - a:+.0%})", va="center", fontsize=MIN_FONT)
    bx.set_yticks(y, [name(s) for s in sizes.index])
    _bold_colored(bx.get_yticklabels(), sizes.index, colors)
    bx.invert_yaxis()
    bx.set_xlim(0, max(float(sizes[["share_a", "share_b"]].to_numpy().max()) * 1.35, 0.05))
    bx.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    bx.set_xlabel("share of the period's customers (model A)")
    bx.set_title(f"Segment sizes, A vs B\nrefit on B agrees with model A: ARI "
                 f"{result.ari_refit:.2f}", fontsize=10)  # fmt: skip
    bx.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), frameon=False, fontsize=MIN_FONT)
    bx.grid(axis="x", alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)
