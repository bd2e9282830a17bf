"""What every figure module shares: saving a PNG, naming segments, subsampling points.

Figures are built on `matplotlib.figure.Figure` objects directly, never through pyplot: no
backend is chosen or started, no figure is kept in a global registry that must be closed, and a
figure is plain data owned by whoever made it (matplotlib's advice for drawing in a program that
shows no window). Saving a Figure to PNG uses the Agg renderer on its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from custseg.atomic import atomic_path
from custseg.report.palette import sorted_labels

DPI = 110
# a white outline under text drawn over points keeps it readable on any colour
HALO = [patheffects.withStroke(linewidth=3, foreground="white")]


def save_figure(fig: Figure, path: Path) -> Path:
    """Write `fig` to `path` as PNG, atomically (a reader never sees half a file); the same
    resolution and tight crop for every figure of a run."""
    with atomic_path(Path(path)) as tmp:
        fig.savefig(tmp, dpi=DPI, bbox_inches="tight", format="png")
    return Path(path)


def segment_name(label: str) -> str:
    """How a legend or axis names a segment: "segment 3", or "unassigned" for negative labels."""
    return "unassigned" if label.lstrip("-").isdigit() and int(label) < 0 else f"segment {label}"


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
