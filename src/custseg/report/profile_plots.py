"""Figures of the segment profiles (`custseg.profiling.profiles.Profiles`): what each segment is
worth, where and what it buys, and its signature products. They read the small per-segment
tables, never the customers, so they cost the same for a thousand customers or a million.
Each function writes one PNG and returns its path.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from custseg.report.palette import segment_colors, sorted_labels
from custseg.report.plotting import (
    MIN_FONT,
    grid_shape,
    readable,
    save_figure,
    segment_name,
    shorten,
)

TICK_WIDTH = 30  # characters of a persona name under a bar or heatmap column


def _segment_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The per-segment rows of a summary/mix table (drop "all"), in label order."""
    frame = frame.copy()
    frame.index = frame.index.astype(str)
    keep = [s for s in sorted_labels(frame.index) if s != "all"]
    return frame.loc[keep]


@readable
def size_revenue_plot(
    summary: pd.DataFrame, path: Path, title: str, personas: Mapping[str, str] | None = None
) -> Path:
    """Size vs worth: a segment whose revenue bar towers over its customer bar is worth more
    than its headcount suggests. `personas` (label -> name) names the bars."""
    seg = _segment_rows(summary)
    colors = segment_colors(seg.index)
    x = np.arange(len(seg))
    fig = Figure(figsize=(max(7.0, 1.05 * len(seg) + 3), 4.8))
    ax = fig.subplots()
    cust = seg["customer_share"].astype(float).to_numpy() * 100
    rev = seg["revenue_share"].astype(float).to_numpy() * 100
    bar_colors = [colors[s] for s in seg.index]
    ax.bar(x - 0.2, cust, width=0.4, color=bar_colors, alpha=0.45, edgecolor="black", lw=0.6)
    ax.bar(x + 0.2, rev, width=0.4, color=bar_colors, hatch="//", edgecolor="black", lw=0.6)
    for xi, c, r in zip(x, cust, rev, strict=True):
        ax.text(xi - 0.2, c, f"{c:.0f}%", ha="center", va="bottom", fontsize=MIN_FONT)
        ax.text(xi + 0.2, r, f"{r:.0f}%", ha="center", va="bottom", fontsize=MIN_FONT)
    ax.set_xticks(x, [shorten(segment_name(s, personas), TICK_WIDTH) for s in seg.index],
                  rotation=30, ha="right")  # fmt: skip
    ax.set_ylabel("share of all (%)")
    ax.set_xlabel("segment")
    ax.set_ylim(0, max(float(np.nanmax(np.r_[cust, rev, 1.0])) * 1.15, 5))
    handles = [Patch(facecolor="#bbbbbb", edgecolor="black", label="customers (light)"),
               Patch(facecolor="#555555", edgecolor="black", hatch="//",
                     label="revenue (hatched)")]  # fmt: skip
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    return save_figure(fig, path)


@readable
def mix_heatmap(
    mix: pd.DataFrame, path: Path, title: str, what: str, top: int = 15,
    personas: Mapping[str, str] | None = None,
) -> Path:  # fmt: skip
    """Where (region) or what (category) each segment buys, against everyone: rows are the `top`
    columns by overall share, cells the share within the segment; columns named by persona."""
    mix = mix.copy()
    mix.index = mix.index.astype(str)
    overall = mix.loc["all"] if "all" in mix.index else mix.mean(axis=0)
    cols = overall.astype(float).sort_values(ascending=False).index[:top]
    order = [s for s in sorted_labels(mix.index) if s != "all"]
    order += ["all"] if "all" in mix.index else []
    grid = mix.loc[order, cols].astype(float).T * 100  # what x segment
    colors = segment_colors([s for s in order if s != "all"])
    fig = Figure(figsize=(1.0 * len(order) + 4.5, 0.42 * len(cols) + 2.2))
    ax = fig.subplots()
    im = ax.imshow(grid.to_numpy(), aspect="auto", cmap="Blues", vmin=0)
    vmax = float(np.nanmax(grid.to_numpy())) if grid.size else 1.0
    for (i, j), v in np.ndenumerate(grid.to_numpy()):
        if np.isfinite(v):
            ax.text(j, i, f"{v:.0f}%" if v >= 9.5 else f"{v:.1f}%", ha="center", va="center",
                    fontsize=MIN_FONT, color="white" if v > 0.6 * vmax else "black")  # fmt: skip
    ticks = ["all" if s == "all" else shorten(segment_name(s, personas), TICK_WIDTH) for s in order]
    ax.set_xticks(range(len(order)), ticks, rotation=30, ha="right")
    for tick, s in zip(ax.get_xticklabels(), order, strict=True):
        tick.set_color(colors.get(s, "black"))
        tick.set_fontweight("bold")
    ax.set_yticks(range(len(cols)), [shorten(c, 36) for c in cols])
    ax.set_xlabel("segment")
    ax.set_ylabel(what)
    bar = fig.colorbar(im, ax=ax, pad=0.02)
    bar.set_label("share within the segment (%)")
    ax.set_title(f"{title}\n({what}: top {len(cols)} of {mix.shape[1]} by overall share)")
    return save_figure(fig, path)


@readable
def top_items_plot(
    top_products: pd.DataFrame, path: Path, title: str, per_segment: int = 5,
    personas: Mapping[str, str] | None = None,
) -> Path:  # fmt: skip
    """Each segment's most bought products beside how common they are overall: long coloured
    bar next to a short grey one = the segment's signature product. One panel per segment,
    titled by its persona."""
    df = top_products[top_products["segment"].astype(str) != "all"].copy()
    df["segment"] = df["segment"].astype(str)
    segments = sorted_labels(df["segment"])
    colors = segment_colors(segments)
    n = max(len(segments), 1)
    rows, cols = grid_shape(n, 2)
    # constrained: tight_layout let the title run into the top panels' titles
    fig = Figure(figsize=(7.5 * cols, (0.55 * per_segment + 1.3) * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    has_names = "product_name" in df.columns
    for ax, seg in zip(axes.flat, segments, strict=False):
        top = df[df["segment"] == seg].sort_values("rank").head(per_segment)
        names = [
            shorten(nm if has_names and isinstance(nm, str) and nm else pid)
            for nm, pid in zip(
                top["product_name"] if has_names else top["product_id"], top["product_id"],
                strict=True,
            )
        ]  # fmt: skip
        y = np.arange(len(top))[::-1]
        ax.barh(y + 0.2, top["share"] * 100, height=0.4, color=colors[seg], label="this segment")
        ax.barh(y - 0.2, top["overall_share"] * 100, height=0.4, color="#9e9e9e",
                label="all customers")  # fmt: skip
        ax.set_yticks(y, names)
        ax.set_xlabel("customers who bought it (%)")
        ax.set_title(segment_name(seg, personas), color=colors[seg], fontweight="bold")
        ax.grid(axis="x", alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    handles = [Patch(facecolor="#555555", label="segment's customers (segment colour)"),
               Patch(facecolor="#9e9e9e", label="all customers")]  # fmt: skip
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 0.95), frameon=False)
    fig.suptitle(title)
    return save_figure(fig, path)
