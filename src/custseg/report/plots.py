"""Figures for segmentations and their tuning. Each function writes one PNG and returns its path."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import patheffects  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402

from custseg.atomic import atomic_path  # noqa: E402
from custseg.clustering.metrics import silhouette_values  # noqa: E402
from custseg.report.colors import (  # noqa: E402
    label_key,
    segment_colors,
    sorted_labels,
)


def _save(fig: plt.Figure, path: Path) -> Path:
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    finally:
        plt.close(fig)
    return path


def pareto_plot(trials: pd.DataFrame, path: Path, title: str) -> Path:
    """Every trial's silhouette vs Davies-Bouldin; the front, the ineligible and the chosen one."""
    fig, ax = plt.subplots(figsize=(7, 5))
    scored = trials.dropna(subset=["silhouette", "davies_bouldin"])
    groups = (
        (~scored["eligible"], "ineligible (size/noise rule)", "lightgray", "x"),
        (scored["eligible"] & ~scored["on_front"], "eligible", "tab:blue", "o"),
        (scored["eligible"] & scored["on_front"], "eligible, Pareto front", "tab:orange", "o"),
    )
    for mask, label, color, marker in groups:
        part = scored[mask]
        ax.scatter(part["davies_bouldin"], part["silhouette"], c=color, marker=marker,
                   label=f"{label} ({len(part)})", alpha=0.85)  # fmt: skip
    front = scored[scored["on_front"]].sort_values("davies_bouldin")
    ax.plot(front["davies_bouldin"], front["silhouette"], color="tab:orange", lw=1, alpha=0.6)
    chosen = scored[scored["chosen"]]
    ax.scatter(chosen["davies_bouldin"], chosen["silhouette"], s=220, facecolors="none",
               edgecolors="red", linewidths=2, label="chosen")  # fmt: skip
    for trial, row in chosen.iterrows():
        ax.annotate(f"trial {trial}: {int(row['n_segments'])} segments",
                    (row["davies_bouldin"], row["silhouette"]), xytext=(8, -14),
                    textcoords="offset points", color="red")  # fmt: skip
    ax.set_xlabel("Davies-Bouldin index (lower is better)")
    ax.set_ylabel("silhouette (higher is better)")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def elbow_plot(elbow: pd.DataFrame, path: Path, title: str, chosen_k: int | None) -> Path:
    """Inertia (or BIC) per k beside silhouette and Davies-Bouldin per k."""
    size_metric = "inertia" if "inertia" in elbow else "bic"
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    axes[0].plot(elbow.index, elbow[size_metric], marker="o")
    axes[0].set_ylabel("inertia (within-segment sum of squares)" if size_metric == "inertia"
                       else "BIC (lower is better)")  # fmt: skip
    axes[1].plot(elbow.index, elbow["silhouette"], marker="o", label="silhouette (higher better)")
    axes[1].plot(elbow.index, elbow["davies_bouldin"], marker="s",
                 label="Davies-Bouldin (lower better)")  # fmt: skip
    axes[1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    for ax in axes:
        ax.set_xlabel("number of segments k")
        ax.set_xticks(list(elbow.index))
        ax.grid(alpha=0.3)
        if chosen_k is not None:
            ax.axvline(chosen_k, color="red", ls="--", lw=1)
    fig.suptitle(title + (f" (chosen k = {chosen_k}, dashed)" if chosen_k else ""))
    return _save(fig, path)


def compare_plot(table: pd.DataFrame, path: Path, title: str) -> Path:
    """Runs of an experiment on silhouette vs Davies-Bouldin; numbers are ranks in the table,
    hollow markers break the selection constraints."""
    fig, ax = plt.subplots(figsize=(9, 6))
    for algo, part in table.groupby("algorithm"):
        ok = part["eligible"].astype(bool)
        sc = ax.scatter(part.loc[ok, "davies_bouldin"], part.loc[ok, "silhouette"], s=70,
                        label=algo)  # fmt: skip
        ax.scatter(part.loc[~ok, "davies_bouldin"], part.loc[~ok, "silhouette"], s=70,
                   facecolors="none", edgecolors=sc.get_facecolor())  # fmt: skip
        for _, row in part.iterrows():
            ax.annotate(str(row["rank"]), (row["davies_bouldin"], row["silhouette"]),
                        xytext=(5, 4), textcoords="offset points", fontsize=8)  # fmt: skip
    ax.set_xlabel("Davies-Bouldin index (lower is better)")
    ax.set_ylabel("silhouette (higher is better)")
    ax.set_title(f"{title}\n(numbers: rank in compare.csv; hollow: breaks size/noise rules)")
    ax.legend(title="algorithm", loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def top_rules_plot(
    rules: pd.DataFrame, path: Path, title: str, per_scope: int = 5,
    names: Mapping[str, str] | None = None,
) -> Path:  # fmt: skip
    """Strongest rules (by lift) of each scope side by side: do segments buy differently?
    `names` turns item codes into product names a person recognises."""
    names = names or {}

    def show(items: tuple[str, ...]) -> str:
        return " + ".join(str(names.get(i, i))[:26] for i in items)

    scopes = sorted(rules["segment"].unique(), key=lambda s: (s != "all", s))
    n = max(len(scopes), 1)
    cols = min(n, 2)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(8 * cols, 0.75 * per_scope * rows + 1.2 * rows),
                             squeeze=False)  # fmt: skip
    for ax, scope in zip(axes.flat, scopes, strict=False):
        top = rules[rules["segment"] == scope].nlargest(per_scope, ["lift", "confidence"])
        labels = [f"{show(a)}\n-> {show(c)}"
                  for a, c in zip(top["antecedent"], top["consequent"], strict=True)]  # fmt: skip
        ax.barh(
            range(len(top))[::-1], top["lift"], color="tab:green" if scope == "all" else "tab:blue"
        )
        ax.set_yticks(range(len(top))[::-1], labels, fontsize=7)
        ax.set_xlabel("lift")
        ax.set_title("all customers" if scope == "all" else f"segment {scope}", fontsize=10)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


# --- segment figures ---------------------------------------------------------------------------
# Every figure below colours a segment the same way (segment_colors), so a reader can follow one
# segment from the scatter to the boxplots to the heatmaps without re-reading legends.

_HALO = [patheffects.withStroke(linewidth=3, foreground="white")]  # text readable over points


def _segment_name(label: str) -> str:
    return "unassigned" if label.lstrip("-").isdigit() and int(label) < 0 else f"segment {label}"


def _subsample(
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


def _sample_note(shown: int, total: int) -> str:
    return f" ({shown:,} of {total:,} customers shown)" if shown < total else ""


def _project(X: np.ndarray, feature_names: list[str]) -> tuple[np.ndarray, list[str], PCA | None]:
    """Two plotting axes: the features themselves if there are two, else PC1/PC2 of all rows."""
    X = np.asarray(X, dtype=float)
    if X.shape[1] == 2:
        return X, list(feature_names), None
    if X.shape[1] < 2:
        raise ValueError("need at least two features to draw a scatter")
    pca = PCA(n_components=2, random_state=0).fit(X)
    ratios = pca.explained_variance_ratio_
    axes = [f"PC{i + 1} ({ratios[i]:.0%} of variance)" for i in range(2)]
    return pca.transform(X), axes, pca


def _legend_outside(ax: plt.Axes, **kwargs: Any) -> None:
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, **kwargs)


def _scatter_segments(
    ax: plt.Axes, P: np.ndarray, labels: np.ndarray, idx: np.ndarray, colors: dict[str, str]
) -> None:
    """Sampled points per segment (unassigned underneath), legend counts from the full data."""
    order = sorted(colors, key=lambda s: (label_key(s)[0] != 1, label_key(s)))
    for label in order:
        mask = labels[idx] == label
        total = int((labels == label).sum())
        ax.scatter(P[idx[mask], 0], P[idx[mask], 1], s=7, alpha=0.55, c=colors[label],
                   linewidths=0, label=f"{_segment_name(label)} (n={total:,})",
                   zorder=1 if label.startswith("-") else 2)  # fmt: skip


def segment_scatter(
    X: np.ndarray, labels: np.ndarray, feature_names: list[str], path: Path, title: str,
    max_points: int = 5000, seed: int = 0, unit: str = "standardized units",
) -> Path:  # fmt: skip
    """Where the segments sit: two features directly, else the first two principal components;
    big X = centroid of all of a segment's customers (not only the drawn ones)."""
    labels = np.asarray(labels).astype(str)
    P, axis_names, _ = _project(X, feature_names)
    idx = _subsample(labels, max_points, seed)
    colors = segment_colors(labels)
    fig, ax = plt.subplots(figsize=(9, 6.5))
    _scatter_segments(ax, P, labels, idx, colors)
    for label, color in colors.items():
        if label.startswith("-"):
            continue
        cx, cy = P[labels == label].mean(axis=0)
        ax.scatter(cx, cy, marker="X", s=260, c=color, edgecolors="black", linewidths=1.3,
                   zorder=4)  # fmt: skip
        ax.annotate(label, (cx, cy), xytext=(7, 7), textcoords="offset points", fontsize=11,
                    fontweight="bold", zorder=5,
                    path_effects=_HALO)  # fmt: skip
    ax.set_xlabel(f"{axis_names[0]} [{unit}]")
    ax.set_ylabel(f"{axis_names[1]} [{unit}]")
    ax.set_title(f"{title}{_sample_note(len(idx), len(labels))}\nX = segment centroid")
    _legend_outside(ax, markerscale=2.5, title="segment")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def pca_biplot(
    X: np.ndarray, labels: np.ndarray, feature_names: list[str], path: Path, title: str,
    max_points: int = 5000, seed: int = 0, unit: str = "standardized units",
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
    idx = _subsample(labels, max_points, seed)
    colors = segment_colors(labels)
    fig, ax = plt.subplots(figsize=(9.5, 7))
    _scatter_segments(ax, P, labels, idx, colors)
    loadings = pca.components_.T  # features x 2
    reach = np.percentile(np.abs(P[idx]), 95, axis=0)
    scale = 0.9 * float(np.min(reach / np.maximum(np.abs(loadings).max(axis=0), 1e-12)))
    for name, (lx, ly) in zip(feature_names, loadings, strict=True):
        ax.annotate("", xy=(lx * scale, ly * scale), xytext=(0, 0), zorder=6,
                    arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.4})  # fmt: skip
        ax.text(lx * scale * 1.1, ly * scale * 1.1, name, fontsize=9, zorder=7,
                ha="left" if lx >= 0 else "right", va="bottom" if ly >= 0 else "top",
                path_effects=_HALO)  # fmt: skip
    ax.axhline(0, color="grey", lw=0.6)
    ax.axvline(0, color="grey", lw=0.6)
    ax.set_xlabel(f"PC1 ({ratios[0]:.0%} of variance) [{unit}]")
    ax.set_ylabel(f"PC2 ({ratios[1]:.0%} of variance) [{unit}]")
    ax.set_title(f"{title}{_sample_note(len(idx), len(labels))}\narrows: feature loadings")
    _legend_outside(ax, markerscale=2.5, title="segment")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def feature_boxplots(
    Xstd: np.ndarray, labels: np.ndarray, feature_names: list[str], path: Path, title: str,
) -> Path:  # fmt: skip
    """Per feature, how each segment's customers spread (z-scores): what a segment is made of.
    Outliers are hidden so the boxes stay readable with thousands of customers."""
    Xstd = np.asarray(Xstd, dtype=float)
    labels = np.asarray(labels).astype(str)
    colors = segment_colors(labels)
    order = list(colors)
    n = len(feature_names)
    cols = min(n, 3)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.2 * rows), squeeze=False)
    ticks = ["un." if s.startswith("-") else s for s in order]
    for j, (ax, name) in enumerate(zip(axes.flat, feature_names, strict=False)):
        data = [Xstd[labels == s, j] for s in order]
        box = ax.boxplot(data, patch_artist=True, showfliers=False, widths=0.65,
                         medianprops={"color": "black"})  # fmt: skip
        for patch, s in zip(box["boxes"], order, strict=True):
            patch.set_facecolor(colors[s])
        ax.set_xticks(range(1, len(order) + 1), ticks, fontsize=8)
        ax.axhline(0, color="grey", lw=0.6, ls="--")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("segment", fontsize=8)
        ax.set_ylabel("z-score (std. dev.)", fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    handles = [Patch(facecolor=colors[s], label=_segment_name(s)) for s in order]
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 0.95), frameon=False,
               title="segment")  # fmt: skip
    note = "boxes: quartiles, whiskers: 1.5 IQR, outliers hidden; un. = unassigned"
    fig.suptitle(f"{title}\n({note})")
    fig.tight_layout()
    return _save(fig, path)


def _short(text: object, width: int = 32) -> str:
    text = str(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def top_items_plot(
    top_products: pd.DataFrame, path: Path, title: str, per_segment: int = 5
) -> Path:
    """Each segment's most bought products beside how common they are overall: long coloured
    bar next to a short grey one = the segment's signature product."""
    df = top_products[top_products["segment"].astype(str) != "all"].copy()
    df["segment"] = df["segment"].astype(str)
    segments = sorted_labels(df["segment"])
    colors = segment_colors(segments)
    n = max(len(segments), 1)
    cols = min(n, 2)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(7.5 * cols, (0.55 * per_segment + 1.3) * rows),
                             squeeze=False)  # fmt: skip
    has_names = "product_name" in df.columns
    for ax, seg in zip(axes.flat, segments, strict=False):
        top = df[df["segment"] == seg].sort_values("rank").head(per_segment)
        names = [
            _short(nm if has_names and isinstance(nm, str) and nm else pid)
            for nm, pid in zip(
                top["product_name"] if has_names else top["product_id"], top["product_id"],
                strict=True,
            )
        ]  # fmt: skip
        y = np.arange(len(top))[::-1]
        ax.barh(y + 0.2, top["share"] * 100, height=0.4, color=colors[seg], label="this segment")
        ax.barh(y - 0.2, top["overall_share"] * 100, height=0.4, color="#9e9e9e",
                label="all customers")  # fmt: skip
        ax.set_yticks(y, names, fontsize=8)
        ax.set_xlabel("customers who bought it (%)", fontsize=8)
        ax.set_title(_segment_name(seg), fontsize=10, color=colors[seg], fontweight="bold")
        ax.grid(axis="x", alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    handles = [Patch(facecolor="#555555", label="segment's customers (segment colour)"),
               Patch(facecolor="#9e9e9e", label="all customers")]  # fmt: skip
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 0.95), frameon=False)
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


def _segment_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The per-segment rows of a summary/mix table (drop "all"), in label order."""
    frame = frame.copy()
    frame.index = frame.index.astype(str)
    keep = [s for s in sorted_labels(frame.index) if s != "all"]
    return frame.loc[keep]


def size_revenue_plot(summary: pd.DataFrame, path: Path, title: str) -> Path:
    """Size vs worth: a segment whose revenue bar towers over its customer bar is worth more
    than its headcount suggests."""
    seg = _segment_rows(summary)
    colors = segment_colors(seg.index)
    x = np.arange(len(seg))
    fig, ax = plt.subplots(figsize=(max(7.0, 1.05 * len(seg) + 3), 4.8))
    cust = seg["customer_share"].astype(float).to_numpy() * 100
    rev = seg["revenue_share"].astype(float).to_numpy() * 100
    bar_colors = [colors[s] for s in seg.index]
    ax.bar(x - 0.2, cust, width=0.4, color=bar_colors, alpha=0.45, edgecolor="black", lw=0.6)
    ax.bar(x + 0.2, rev, width=0.4, color=bar_colors, hatch="//", edgecolor="black", lw=0.6)
    for xi, c, r in zip(x, cust, rev, strict=True):
        ax.text(xi - 0.2, c, f"{c:.0f}%", ha="center", va="bottom", fontsize=7)
        ax.text(xi + 0.2, r, f"{r:.0f}%", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(x, [_segment_name(s) for s in seg.index], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("share of all (%)")
    ax.set_xlabel("segment")
    ax.set_ylim(0, max(float(np.nanmax(np.r_[cust, rev, 1.0])) * 1.15, 5))
    handles = [Patch(facecolor="#bbbbbb", edgecolor="black", label="customers (light)"),
               Patch(facecolor="#555555", edgecolor="black", hatch="//",
                     label="revenue (hatched)")]  # fmt: skip
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def mix_heatmap(mix: pd.DataFrame, path: Path, title: str, what: str, top: int = 15) -> Path:
    """Where (region) or what (category) each segment buys, against everyone: rows are the `top`
    columns by overall share, cells the share within the segment."""
    mix = mix.copy()
    mix.index = mix.index.astype(str)
    overall = mix.loc["all"] if "all" in mix.index else mix.mean(axis=0)
    cols = overall.astype(float).sort_values(ascending=False).index[:top]
    order = [s for s in sorted_labels(mix.index) if s != "all"]
    order += ["all"] if "all" in mix.index else []
    grid = mix.loc[order, cols].astype(float).T * 100  # what x segment
    colors = segment_colors([s for s in order if s != "all"])
    fig, ax = plt.subplots(figsize=(1.0 * len(order) + 4.5, 0.42 * len(cols) + 2.2))
    im = ax.imshow(grid.to_numpy(), aspect="auto", cmap="Blues", vmin=0)
    vmax = float(np.nanmax(grid.to_numpy())) if grid.size else 1.0
    for (i, j), v in np.ndenumerate(grid.to_numpy()):
        if np.isfinite(v):
            ax.text(j, i, f"{v:.0f}%" if v >= 9.5 else f"{v:.1f}%", ha="center", va="center",
                    fontsize=7, color="white" if v > 0.6 * vmax else "black")  # fmt: skip
    ax.set_xticks(range(len(order)), ["all" if s == "all" else _segment_name(s) for s in order],
                  rotation=30, ha="right", fontsize=8)  # fmt: skip
    for tick, s in zip(ax.get_xticklabels(), order, strict=True):
        tick.set_color(colors.get(s, "black"))
        tick.set_fontweight("bold")
    ax.set_yticks(range(len(cols)), [_short(c, 36) for c in cols], fontsize=8)
    ax.set_xlabel("segment")
    ax.set_ylabel(what)
    bar = fig.colorbar(im, ax=ax, pad=0.02)
    bar.set_label("share within the segment (%)")
    ax.set_title(f"{title}\n({what}: top {len(cols)} of {mix.shape[1]} by overall share)")
    return _save(fig, path)


def silhouette_plot(
    X: np.ndarray, labels: np.ndarray, path: Path, title: str, max_points: int = 5000,
    seed: int = 0,
) -> Path:  # fmt: skip
    """How well each customer fits its segment (classic per-sample silhouette): thin or negative
    blades are segments that blur into others. Unassigned customers are left out."""
    X = np.asarray(X, dtype=float)
    labels = np.asarray(labels).astype(str)
    keep = np.flatnonzero(~np.char.startswith(labels, "-"))
    Xk, lk = X[keep], labels[keep]
    idx = _subsample(lk, max_points, seed, stratified=True)
    Xs, ls = Xk[idx], lk[idx]
    colors = segment_colors(ls)
    segments = list(colors)
    fig, ax = plt.subplots(figsize=(8, max(4.5, 0.6 * len(segments) + 2.5)))
    note = _sample_note(len(idx), len(lk))
    if len(keep) < len(labels):
        note += f" ({len(labels) - len(keep):,} unassigned excluded)"
    note = "\n" + note.strip() if note else ""
    if len(segments) < 2 or len(ls) <= len(segments):
        ax.text(0.5, 0.5, "silhouette needs at least two segments", ha="center",
                transform=ax.transAxes)  # fmt: skip
        ax.set_title(f"{title}{note}")
        return _save(fig, path)
    values = silhouette_values(Xs, ls)
    avg = float(values.mean())
    gap = max(10, len(ls) // 100)
    y0 = gap
    for seg in segments:
        v = np.sort(values[ls == seg])
        ax.fill_betweenx(np.arange(y0, y0 + len(v)), 0, v, facecolor=colors[seg],
                         edgecolor=colors[seg], alpha=0.85)  # fmt: skip
        ax.text(-0.02, y0 + len(v) / 2, seg, ha="right", va="center", fontsize=9,
                fontweight="bold", transform=ax.get_yaxis_transform())  # fmt: skip
        y0 += len(v) + gap
    ax.axvline(avg, color="red", ls="--", lw=1.2, label=f"average = {avg:.3f}")
    ax.axvline(0, color="black", lw=0.6)
    ax.set_yticks([])
    ax.set_ylim(0, y0)
    ax.set_xlim(min(-0.1, float(values.min()) - 0.05), 1.0)
    ax.set_xlabel("silhouette coefficient (-1 to 1, higher = fits its segment better)")
    ax.set_ylabel("customers, grouped by segment", labelpad=18)
    _legend_outside(ax)
    ax.set_title(f"{title}{note}")
    return _save(fig, path)
