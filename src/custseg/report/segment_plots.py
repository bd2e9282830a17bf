"""Figures of the customers themselves, from the scaled feature matrix: where the segments sit
(scatter, biplot), what they are made of (boxplots) and how well each customer fits its segment
(silhouette). Each function writes one PNG and returns its path.

Every figure colours a segment the same way (`palette.segment_colors`), so a reader can follow
one segment from the scatter to the boxplots to the heatmaps without re-reading legends.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from sklearn.decomposition import PCA

from custseg.report.palette import label_key, segment_colors
from custseg.report.plotting import (
    HALO,
    MIN_FONT,
    grid_shape,
    legend_outside,
    readable,
    sample_note,
    save_figure,
    segment_name,
    subsample,
)
from custseg.segment.metrics import silhouette_values


def _project(X: np.ndarray, feature_names: list[str]) -> tuple[np.ndarray, list[str]]:
    """Two plotting axes: the features themselves if there are two, else PC1/PC2 of all rows."""
    X = np.asarray(X, dtype=float)
    if X.shape[1] == 2:
        return X, list(feature_names)
    if X.shape[1] < 2:
        raise ValueError("need at least two features to draw a scatter")
    pca = PCA(n_components=2, random_state=0).fit(X)
    ratios = pca.explained_variance_ratio_
    axes = [f"PC{i + 1} ({ratios[i]:.0%} of variance)" for i in range(2)]
    return pca.transform(X), axes


def _scatter_segments(
    ax: Axes, P: np.ndarray, labels: np.ndarray, idx: np.ndarray, colors: dict[str, str],
    personas: Mapping[str, str] | None,
) -> None:  # fmt: skip
    """Sampled points per segment (unassigned underneath), legend counts from the full data,
    each segment named by its persona when known."""
    order = sorted(colors, key=lambda s: (label_key(s)[0] != 1, label_key(s)))
    for label in order:
        mask = labels[idx] == label
        total = int((labels == label).sum())
        ax.scatter(P[idx[mask], 0], P[idx[mask], 1], s=7, alpha=0.55, c=colors[label],
                   linewidths=0, label=f"{segment_name(label, personas)} (n={total:,})",
                   zorder=1 if label.startswith("-") else 2)  # fmt: skip


def _finish(fig: Figure, ax: Axes, axes: tuple[str, str], title: str, path: Path) -> Path:
    """Axis names, title, the segment legend beside the plot, a light grid; then save."""
    ax.set_xlabel(axes[0])
    ax.set_ylabel(axes[1])
    ax.set_title(title)
    legend_outside(ax, markerscale=2.5, title="segment")
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


@readable
def segment_scatter(
    X: np.ndarray, labels: np.ndarray, feature_names: list[str], path: Path, title: str,
    max_points: int = 5000, seed: int = 0, unit: str = "standardized units",
    personas: Mapping[str, str] | None = None,
) -> Path:  # fmt: skip
    """Where the segments sit: two features directly, else the first two principal components;
    big X = centroid of all of a segment's customers (not only the drawn ones), marked with the
    segment's number, which the legend names by persona."""
    labels = np.asarray(labels).astype(str)
    P, axis_names = _project(X, feature_names)
    idx = subsample(labels, max_points, seed)
    colors = segment_colors(labels)
    fig = Figure(figsize=(9, 6.5))
    ax = fig.subplots()
    _scatter_segments(ax, P, labels, idx, colors, personas)
    for label, color in colors.items():
        if label.startswith("-"):
            continue
        cx, cy = P[labels == label].mean(axis=0)
        ax.scatter(cx, cy, marker="X", s=260, c=color, edgecolors="black", linewidths=1.3,
                   zorder=4)  # fmt: skip
        ax.annotate(label, (cx, cy), xytext=(7, 7), textcoords="offset points", fontsize=11,
                    fontweight="bold", zorder=5, path_effects=HALO)  # fmt: skip
    axes = (f"{axis_names[0]} [{unit}]", f"{axis_names[1]} [{unit}]")
    note = f"{title}{sample_note(len(idx), len(labels))}\nX = segment centroid"
    return _finish(fig, ax, axes, note, path)


@readable
def pca_biplot(
    X: np.ndarray, labels: np.ndarray, feature_names: list[str], path: Path, title: str,
    max_points: int = 5000, seed: int = 0, unit: str = "standardized units",
    personas: Mapping[str, str] | None = None,
) -> Path:  # fmt: skip
    """Which features pull segments apart: PC scatter plus each feature's loading arrow
    (scaled to the cloud; length = how much the feature drives the two components)."""
    X = np.asarray(X, dtype=float)
    labels = np.asarray(labels).astype(str)
    if X.shape[1] < 2:
        raise ValueError("a biplot needs at least two features")
    pca = PCA(n_components=2, random_state=0).fit(X)
    P = pca.transform(X)
    ratios = pca.explained_variance_ratio_
    idx = subsample(labels, max_points, seed)
    colors = segment_colors(labels)
    fig = Figure(figsize=(9.5, 7))
    ax = fig.subplots()
    _scatter_segments(ax, P, labels, idx, colors, personas)
    loadings = pca.components_.T  # features x 2
    reach = np.percentile(np.abs(P[idx]), 95, axis=0)
    scale = 0.9 * float(np.min(reach / np.maximum(np.abs(loadings).max(axis=0), 1e-12)))
    for name, (lx, ly) in zip(feature_names, loadings, strict=True):
        ax.annotate("", xy=(lx * scale, ly * scale), xytext=(0, 0), zorder=6,
                    arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.4})  # fmt: skip
        ax.text(lx * scale * 1.1, ly * scale * 1.1, name, fontsize=MIN_FONT + 1, zorder=7,
                ha="left" if lx >= 0 else "right", va="bottom" if ly >= 0 else "top",
                path_effects=HALO)  # fmt: skip
    ax.axhline(0, color="grey", lw=0.6)
    ax.axvline(0, color="grey", lw=0.6)
    axes = (f"PC1 ({ratios[0]:.0%} of variance) [{unit}]",
            f"PC2 ({ratios[1]:.0%} of variance) [{unit}]")  # fmt: skip
    note = f"{title}{sample_note(len(idx), len(labels))}\narrows: feature loadings"
    return _finish(fig, ax, axes, note, path)


@readable
def feature_boxplots(
    Xstd: np.ndarray, labels: np.ndarray, feature_names: list[str], path: Path, title: str,
    personas: Mapping[str, str] | None = None,
) -> Path:  # fmt: skip
    """Per feature, how each segment's customers spread (z-scores): what a segment is made of.
    Outliers are hidden so the boxes stay readable with thousands of customers. Boxes carry the
    segment's number; the legend names it by persona."""
    Xstd = np.asarray(Xstd, dtype=float)
    labels = np.asarray(labels).astype(str)
    colors = segment_colors(labels)
    order = list(colors)
    n = len(feature_names)
    rows, cols = grid_shape(n, 3)
    fig = Figure(figsize=(4.6 * cols, 3.2 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    ticks = ["un." if s.startswith("-") else s for s in order]
    for j, (ax, name) in enumerate(zip(axes.flat, feature_names, strict=False)):
        data = [Xstd[labels == s, j] for s in order]
        box = ax.boxplot(data, patch_artist=True, showfliers=False, widths=0.65,
                         medianprops={"color": "black"})  # fmt: skip
        for patch, s in zip(box["boxes"], order, strict=True):
            patch.set_facecolor(colors[s])
        ax.set_xticks(range(1, len(order) + 1), ticks, fontsize=MIN_FONT)
        ax.axhline(0, color="grey", lw=0.6, ls="--")
        ax.set_title(name, fontsize=11)
        ax.set_xlabel("segment", fontsize=MIN_FONT)
        ax.set_ylabel("z-score (std. dev.)", fontsize=MIN_FONT)
        ax.grid(axis="y", alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    handles = [Patch(facecolor=colors[s], label=segment_name(s, personas)) for s in order]
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 0.95), frameon=False,
               title="segment")  # fmt: skip
    note = "boxes: quartiles, whiskers: 1.5 IQR, outliers hidden; un. = unassigned"
    fig.suptitle(f"{title}\n({note})")
    fig.tight_layout()
    return save_figure(fig, path)


@readable
def silhouette_plot(
    X: np.ndarray, labels: np.ndarray, path: Path, title: str, max_points: int = 5000,
    seed: int = 0, personas: Mapping[str, str] | None = None,
) -> Path:  # fmt: skip
    """How well each customer fits its segment (classic per-sample silhouette): thin or negative
    blades are segments that blur into others. Unassigned customers are left out. Blades carry
    the segment's number; the legend names it by persona."""
    X = np.asarray(X, dtype=float)
    labels = np.asarray(labels).astype(str)
    keep = np.flatnonzero(~np.char.startswith(labels, "-"))
    Xk, lk = X[keep], labels[keep]
    idx = subsample(lk, max_points, seed, stratified=True)
    Xs, ls = Xk[idx], lk[idx]
    colors = segment_colors(ls)
    segments = list(colors)
    fig = Figure(figsize=(8, max(4.5, 0.6 * len(segments) + 2.5)))
    ax = fig.subplots()
    note = sample_note(len(idx), len(lk))
    if len(keep) < len(labels):
        note += f" ({len(labels) - len(keep):,} unassigned excluded)"
    note = "\n" + note.strip() if note else ""
    if len(segments) < 2 or len(ls) <= len(segments):
        ax.text(0.5, 0.5, "silhouette needs at least two segments", ha="center",
                transform=ax.transAxes)  # fmt: skip
        ax.set_title(f"{title}{note}")
        return save_figure(fig, path)
    values = silhouette_values(Xs, ls)
    avg = float(values.mean())
    gap = max(10, len(ls) // 100)
    y0 = gap
    for seg in segments:
        v = np.sort(values[ls == seg])
        ax.fill_betweenx(np.arange(y0, y0 + len(v)), 0, v, facecolor=colors[seg],
                         edgecolor=colors[seg], alpha=0.85)  # fmt: skip
        ax.text(-0.02, y0 + len(v) / 2, seg, ha="right", va="center", fontsize=MIN_FONT + 1,
                fontweight="bold", transform=ax.get_yaxis_transform())  # fmt: skip
        y0 += len(v) + gap
    ax.axvline(avg, color="red", ls="--", lw=1.2, label=f"average = {avg:.3f}")
    ax.axvline(0, color="black", lw=0.6)
    ax.set_yticks([])
    ax.set_ylim(0, y0)
    ax.set_xlim(min(-0.1, float(values.min()) - 0.05), 1.0)
    ax.set_xlabel("silhouette coefficient (-1 to 1, higher = fits its segment better)")
    ax.set_ylabel("customers, grouped by segment", labelpad=18)
    lines, _ = ax.get_legend_handles_labels()
    blades = [Patch(facecolor=colors[s], label=segment_name(s, personas)) for s in segments]
    legend_outside(ax, handles=[*lines, *blades])
    ax.set_title(f"{title}{note}")
    return save_figure(fig, path)
