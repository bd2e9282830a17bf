"""What every figure module shares: saving a PNG, naming segments, subsampling points.

Figures are built on `matplotlib.figure.Figure` objects directly, never through pyplot: no
backend is chosen or started, no figure is kept in a global registry that must be closed, and a
figure is plain data owned by whoever made it (matplotlib's advice for drawing in a program that
shows no window). Saving a Figure to PNG uses the Agg renderer on its own.

Every figure is drawn with the font sizes of `FONT_SIZES` (the `readable` decorator), whatever a
matplotlibrc or an earlier caller set, and no text is smaller than `MIN_FONT` at the saved size:
the PNGs are printed and pasted into slides, where smaller text cannot be read.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import matplotlib
import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from custseg.atomic import atomic_path
from custseg.report.palette import sorted_labels

DPI = 110
# a white outline under text drawn over points keeps it readable on any colour
HALO = [patheffects.withStroke(linewidth=3, foreground="white")]
MIN_FONT = 9  # points: the smallest text any figure may carry (printed, it is still readable)
# matplotlib's own defaults, pinned: a matplotlibrc with smaller sizes must not shrink the text
FONT_SIZES: dict[str, float] = {
    "font.size": 10.0, "axes.titlesize": 12.0, "axes.labelsize": 10.0, "xtick.labelsize": 10.0,
    "ytick.labelsize": 10.0, "legend.fontsize": 10.0, "legend.title_fontsize": 10.0,
    "figure.titlesize": 12.0, "figure.labelsize": 12.0,
}  # fmt: skip
UNASSIGNED_NAME = "unassigned"

P = ParamSpec("P")
R = TypeVar("R")


def readable(draw: Callable[P, R]) -> Callable[P, R]:
    """Draw (and save) a figure with the font sizes of FONT_SIZES, restored afterwards."""

    @functools.wraps(draw)
    def drawn(*args: P.args, **kwargs: P.kwargs) -> R:
        with matplotlib.rc_context(FONT_SIZES):
            return draw(*args, **kwargs)

    return drawn


def save_figure(fig: Figure, path: Path) -> Path:
    """Write `fig` to `path` as PNG, atomically (a reader never sees half a file); the same
    resolution and tight crop for every figure of a run."""
    with atomic_path(Path(path)) as tmp:
        fig.savefig(tmp, dpi=DPI, bbox_inches="tight", format="png")
    return Path(path)


def segment_name(label: object, personas: Mapping[str, str] | None = None) -> str:
    """How a legend, axis or table names a segment: "3 · Bulk buyers" when its persona is known
    (the persona first, for the reader; the number kept, so colours and tables still match),
    "segment 3" when it is not (personas off), "unassigned" for negative labels."""
    label = str(label)
    if label.lstrip("-").isdigit() and int(label) < 0:
        return UNASSIGNED_NAME
    name = (personas or {}).get(label)
    if isinstance(name, str) and name.strip():
        return f"{label} · {name.strip()}"
    return f"segment {label}"


def subsample(
    labels: np.ndarray, max_points: int, seed: int, stratified: bool = False
) -> np.ndarray:
    """Row indices to draw: all if few, else a seeded sample (per segment in proportion when
    stratified, so small segments keep their share). Sorted for stable drawing order."""
    n = len(labels)
    if n <= max_points:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    if not stratified:
        return np.sort(rng.choice(n, size=max_points, replace=False))
    picked = []
    for label in sorted_labels(labels):
        idx = np.flatnonzero(labels == label)
        take = min(len(idx), max(2, int(max_points * len(idx) / n)))
        picked.append(rng.choice(idx, size=take, replace=False))
    return np.sort(np.concatenate(picked))


def sample_note(shown: int, total: int) -> str:
    """The title suffix that says a figure shows a sample; empty when it shows everyone."""
    return f" ({shown:,} of {total:,} customers shown)" if shown < total else ""


def legend_outside(ax: Axes, **kwargs: Any) -> None:
    """Legend to the right of the axes, so it never hides points."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, **kwargs)


def shorten(text: object, width: int = 32) -> str:
    """Long product or category names cut to `width` characters with an ellipsis."""
    text = str(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def grid_shape(n: int, max_cols: int) -> tuple[int, int]:
    """Rows and columns of a panel grid for `n` panels (at least one), at most `max_cols` wide."""
    n = max(n, 1)
    cols = min(n, max_cols)
    return -(-n // cols), cols
