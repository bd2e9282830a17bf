"""Figures of the value stage a marketer reads: who is still active, what each segment is
worth next, and whether the model's predictions held on days it had not seen.

Text is at least `plotting.MIN_FONT` at the saved size, so the figures stay readable printed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from custseg.report.palette import segment_colors, sorted_labels
from custseg.report.plotting import MIN_FONT, readable, save_figure, segment_name, shorten

FONT = MIN_FONT  # the smallest text on these figures, in points
MAX_FREQUENCY = 20  # repeat purchases; the matrix's last row holds everyone above


def _bins(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    return np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)


@readable
def p_alive_matrix(value: pd.DataFrame, path: Path, title: str) -> Path:
    """Mean P(alive) by repeat purchases (rows) and days from first to last purchase (columns):
    the classic BG/NBD matrix, read from the customers themselves. Many purchases long ago
    (a fast rhythm that stopped) reads as gone; few purchases spread over the period as alive."""
    freq = np.minimum(value["frequency"].to_numpy(dtype="float64"), MAX_FREQUENCY).astype(int)
    recency = value["recency"].to_numpy(dtype="float64")
    top = max(float(np.nanmax(recency)) if len(recency) else 1.0, 1.0)
    edges = np.linspace(0.0, top + 1e-9, 11)
    col = _bins(recency, edges)
    rows = MAX_FREQUENCY + 1
    total = np.bincount(freq * 10 + col, weights=value["p_alive"].to_numpy(dtype="float64"),
                        minlength=rows * 10)  # fmt: skip
    count = np.bincount(freq * 10 + col, minlength=rows * 10)
    with np.errstate(invalid="ignore", divide="ignore"):
        grid = (total / count).reshape(rows, 10)
    used = np.flatnonzero(count.reshape(rows, 10).sum(axis=1) > 0)
    last = int(used.max()) + 1 if len(used) else 1
    grid = grid[:last]
    fig = Figure(figsize=(8.5, max(3.6, 0.3 * last + 1.8)))
    ax = fig.subplots()
    image = ax.imshow(np.ma.masked_invalid(grid), origin="lower", aspect="auto", cmap="RdYlGn",
                      vmin=0.0, vmax=1.0)  # fmt: skip
    ax.set_xticks(np.arange(10), [f"{edges[i]:.0f}-{edges[i + 1]:.0f}" for i in range(10)],
                  rotation=30, ha="right", fontsize=FONT)  # fmt: skip
    labels = [str(i) for i in range(last)]
    if last == MAX_FREQUENCY + 1:
        labels[-1] = f"{MAX_FREQUENCY}+"
    step = max(1, last // 12)
    ax.set_yticks(np.arange(0, last, step), labels[::step], fontsize=FONT)
    ax.set_xlabel("days from first to last purchase (recency)", fontsize=FONT + 1)
    ax.set_ylabel("repeat purchases (frequency)", fontsize=FONT + 1)
    bar = fig.colorbar(image, ax=ax)
    bar.set_label("mean P(alive)", fontsize=FONT + 1)
    bar.ax.tick_params(labelsize=FONT)
    ax.set_title(title, fontsize=FONT + 2)
    return save_figure(fig, path)


@readable
def clv_by_segment(
    value: pd.DataFrame, segments: pd.Series, names: Mapping[str, str], path: Path, title: str,
    currency: str = "",
) -> Path:  # fmt: skip
    """Each segment's spread of customer lifetime value (box: quartiles, whiskers 5-95%), on a
    log scale because a few customers hold most of the value; the total is written beside.
    `names` (segment label -> persona name) names the rows."""
    seg = segments.astype("int64").astype("str").reindex(value.index.astype("str"))
    clv = pd.Series(value["clv"].to_numpy(dtype="float64"), index=seg.index)
    order = [s for s in sorted_labels(seg.dropna().unique()) if s != "all"]
    colors = segment_colors(order)
    data = [clv[seg == s].dropna().clip(lower=0.01).to_numpy() for s in order]
    fig = Figure(figsize=(9.0, max(3.2, 0.55 * len(order) + 1.6)))
    ax = fig.subplots()
    box = ax.boxplot(data, orientation="horizontal", whis=(5, 95), showfliers=False,
                     patch_artist=True, widths=0.6)  # fmt: skip
    for patch, s in zip(box["boxes"], order, strict=True):
        patch.set_facecolor(colors[s])
        patch.set_alpha(0.7)
    ax.set_xscale("log")
    ticks = [shorten(segment_name(s, names), 44) for s in order]
    ax.set_yticks(np.arange(1, len(order) + 1), ticks, fontsize=FONT)
    for i, values in enumerate(data, start=1):
        ax.text(1.01, i, f"total {currency}{values.sum():,.0f}", transform=ax.get_yaxis_transform(),
                va="center", fontsize=FONT)  # fmt: skip
    ax.invert_yaxis()
    ax.tick_params(axis="x", labelsize=FONT)
    ax.set_xlabel(f"customer lifetime value ({currency or 'money'}, log scale)", fontsize=FONT + 1)
    ax.set_title(title, fontsize=FONT + 2)
    ax.grid(axis="x", alpha=0.3)
    return save_figure(fig, path)


@readable
def holdout_calibration(calibration: pd.DataFrame, path: Path, title: str) -> Path:
    """Mean purchases on the held-out days, actual vs predicted, by repeat purchases before
    them (the index: "0".."6", "7+"), as in Fader, Hardie & Lee 2005; the naive "same rate as
    before" line shows what the model adds."""
    cal = calibration
    x = np.arange(len(cal))
    fig = Figure(figsize=(7.5, 4.5))
    ax = fig.subplots()
    ax.plot(x, cal["actual"], "o-", color="black", label="actual", lw=2)
    ax.plot(x, cal["predicted"], "s--", color="#1f77b4", label="BG/NBD predicted", lw=2)
    if "naive" in cal.columns:
        ax.plot(x, cal["naive"], "^:", color="#d62728", label="naive (same rate as before)")
    ax.set_xticks(x, [str(b) for b in cal.index], fontsize=FONT)
    ax.tick_params(axis="y", labelsize=FONT)
    ax.set_xlabel("repeat purchases before the held-out days", fontsize=FONT + 1)
    ax.set_ylabel("mean purchases in the held-out days", fontsize=FONT + 1)
    ax.legend(fontsize=FONT, frameon=False)
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=FONT + 2)
    return save_figure(fig, path)
