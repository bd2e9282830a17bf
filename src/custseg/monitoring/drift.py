"""Segment drift between two periods: fit on the earlier one, apply to the later one, compare.

Segments are only useful while they describe today's customers. Splitting the transactions at a
date and fitting the segmentation on the earlier period ("model A") answers three questions:
where did each segment's customers go (migration of customers active in both periods), did the
segment sizes shift, and would a model refitted on the later period find the same segments
(ARI between model A's labels and the refit's, over the later period's customers).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score
from sklearn.pipeline import Pipeline

from custseg.clustering.fit import evaluate
from custseg.features import build_features
from custseg.features.registry import align_columns
from custseg.features.scaling import make_transformer


@dataclass
class DriftResult:
    split: pd.Timestamp
    # rows: segment in period A (model A on A); columns: segment in period B (model A on B);
    # counts of customers active in both periods
    migration: pd.DataFrame
    sizes: pd.DataFrame  # index segment; share_a, share_b (both by model A), shift = b - a
    ari_refit: float  # model A vs a model refitted on B, over period B's customers
    moved_share: float  # share of customers active in both periods whose segment changed
    customers_a: int
    customers_b: int
    customers_both: int
    labels_b_by_a: pd.Series  # customer -> segment (model A applied to B)
    labels_b_by_b: pd.Series  # customer -> segment (refit on B)


def _label_order(labels: pd.Index | np.ndarray) -> list[int]:
    """Segments in numeric order, unassigned (-1) last, as every figure shows them."""
    return sorted({int(x) for x in labels}, key=lambda v: (v < 0, v))


def split_date(tx: pd.DataFrame, split: str | None) -> pd.Timestamp:
    """The configured split date, or the midpoint of the data's date range (at midnight) when
    none is given; a date that would leave one period empty is a config error, said so early."""
    dates = pd.to_datetime(tx["invoice_date"])
    first, last = dates.min(), dates.max()
    if pd.isna(first):
        raise ValueError("drift.split: the transactions have no dates to split")
    at = (first + (last - first) / 2).normalize() if split is None else pd.Timestamp(split)
    if not first < at <= last:
        raise ValueError(
            f"drift.split: {at.date()} leaves a period empty; choose a date after "
            f"{first.date()} and up to {last.date()}"
        )
    return at


def migration_table(labels_a: pd.Series, labels_b: pd.Series) -> tuple[pd.DataFrame, float]:
    """Counts of customers in both series by (segment in A, segment in B), square over every
    segment seen in either, plus the share of those customers whose segment changed."""
    both = labels_a.index.intersection(labels_b.index)
    a = labels_a.loc[both].astype("int64")
    b = labels_b.loc[both].astype("int64")
    order = _label_order(np.concatenate([labels_a.to_numpy(), labels_b.to_numpy()]))
    table = pd.crosstab(a, b).reindex(index=order, columns=order, fill_value=0)
    table.index.name, table.columns.name = "segment_a", "segment_b"
    moved = float((a.to_numpy() != b.to_numpy()).mean()) if len(both) else 0.0
    return table.astype("int64"), moved


def size_shares(labels_a: pd.Series, labels_b: pd.Series) -> pd.DataFrame:
    """Each segment's share of all customers of period A and of period B, and the shift."""
    order = _label_order(np.concatenate([labels_a.to_numpy(), labels_b.to_numpy()]))
    share_a = labels_a.astype("int64").value_counts(normalize=True).reindex(order, fill_value=0.0)
    share_b = labels_b.astype("int64").value_counts(normalize=True).reindex(order, fill_value=0.0)
    sizes = pd.DataFrame({"share_a": share_a, "share_b": share_b}, index=order)
    sizes["shift"] = sizes["share_b"] - sizes["share_a"]
    sizes.index.name = "segment"
    return sizes


def _fit(
    feats: pd.DataFrame,
    features_cfg: Mapping[str, Any],
    algorithm_cfg: Mapping[str, Any],
    seed: int,
    metrics_cfg: Mapping[str, Any],
) -> tuple[Pipeline, pd.Series]:
    """Scaler + clusterer fitted on these features only, as the pipeline fits them."""
    transformer = make_transformer(
        list(feats.columns), list(features_cfg.get("log1p") or []),
        str(features_cfg.get("scaler", "standard")), seed,
    )  # fmt: skip
    X = transformer.fit_transform(feats)
    _, labels, est = evaluate(X, algorithm_cfg, seed, metrics_cfg)
    model = Pipeline([("transform", transformer), ("cluster", est)])
    return model, pd.Series(labels, index=feats.index, name="segment", dtype="int64")


def _check_period(feats: pd.DataFrame, name: str, at: pd.Timestamp, need: int) -> None:
    if len(feats) < need:
        raise ValueError(
            f"drift.split: period {name} ({'before' if name == 'A' else 'from'} {at.date()}) has "
            f"{len(feats)} customers, fewer than 2 x n_clusters = {need}; move the split date"
        )


def drift(
    tx: pd.DataFrame,
    features_cfg: Mapping[str, Any],
    algorithm_cfg: Mapping[str, Any],
    split: str | None,
    seed: int,
    metrics_cfg: Mapping[str, Any],
) -> DriftResult:
    """Fit on period A (before the split), apply to period B (on/after it), refit on B, compare.

    Features are built per period, so recency, frequency and spend describe each period alone;
    B's features get A's columns (align_columns) and A's scaler, as new customers would.
    """
    at = split_date(tx, split)
    dates = pd.to_datetime(tx["invoice_date"])
    tx_a, tx_b = tx[dates < at], tx[dates >= at]
    name = str(features_cfg["name"])
    feats_a = build_features(tx_a, name, features_cfg) if len(tx_a) else pd.DataFrame()
    feats_b = build_features(tx_b, name, features_cfg) if len(tx_b) else pd.DataFrame()
    k = algorithm_cfg.get("n_clusters")
    need = 2 * int(k) if k is not None else 2
    _check_period(feats_a, "A", at, need)
    _check_period(feats_b, "B", at, need)

    model_a, labels_a = _fit(feats_a, features_cfg, algorithm_cfg, seed, metrics_cfg)
    aligned_b = align_columns(feats_b, list(feats_a.columns))
    labels_b_by_a = pd.Series(
        np.asarray(model_a.predict(aligned_b), dtype="int64"), index=feats_b.index, name="segment"
    )
    _, labels_b_by_b = _fit(feats_b, features_cfg, algorithm_cfg, seed, metrics_cfg)

    migration, moved = migration_table(labels_a, labels_b_by_a)
    return DriftResult(
        split=at,
        migration=migration,
        sizes=size_shares(labels_a, labels_b_by_a),
        ari_refit=float(adjusted_rand_score(labels_b_by_a, labels_b_by_b)),
        moved_share=moved,
        customers_a=len(labels_a),
        customers_b=len(labels_b_by_a),
        customers_both=int(migration.to_numpy().sum()),
        labels_b_by_a=labels_b_by_a,
        labels_b_by_b=labels_b_by_b,
    )


def _name(label: object) -> str:
    return "unassigned" if int(str(label)) < 0 else f"segment {label}"


def migration_plot(result: DriftResult, path: Path, title: str) -> Path:
    """Left: where each period-A segment's customers went (row shares, with counts); the
    diagonal is who stayed. Right: segment sizes in A and B side by side (all customers)."""
    import matplotlib.pyplot as plt  # here, not at import: the pipeline draws in a worker

    from custseg.report.colors import segment_colors
    from custseg.report.plots import _save

    counts = result.migration
    rows = counts.to_numpy().astype(float)
    totals = rows.sum(axis=1, keepdims=True)
    shares = np.divide(rows, totals, out=np.zeros_like(rows), where=totals > 0)
    colors = segment_colors([str(x) for x in counts.index.union(counts.columns)])
    day = result.split.date()

    n = max(len(counts.index), len(counts.columns))
    fig, (ax, bx) = plt.subplots(
        1, 2, figsize=(6 + 1.1 * n, 1.6 + 0.75 * n), gridspec_kw={"width_ratios": [1.35, 1]}
    )
    im = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for i in range(shares.shape[0]):
        for j in range(shares.shape[1]):
            dark = shares[i, j] > 0.55
            ax.text(j, i, f"{shares[i, j]:.0%}\n(n={int(rows[i, j]):,})", ha="center",
                    va="center", fontsize=8, color="white" if dark else "black")  # fmt: skip
    row_labels = [f"{_name(s)} (n={int(t):,})" for s, t in zip(counts.index, totals[:, 0],
                                                                  strict=True)]  # fmt: skip
    ax.set_yticks(range(len(counts.index)), row_labels)
    ax.set_xticks(range(len(counts.columns)), [_name(s) for s in counts.columns], rotation=30,
                  ha="right")  # fmt: skip
    for tick, s in zip(ax.get_yticklabels(), counts.index, strict=True):
        tick.set_color(colors[str(s)])
        tick.set_fontweight("bold")
    for tick, s in zip(ax.get_xticklabels(), counts.columns, strict=True):
        tick.set_color(colors[str(s)])
        tick.set_fontweight("bold")
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
    bar_colors = [colors.get(str(s), "#4d4d4d") for s in sizes.index]
    bx.barh(y - 0.2, sizes["share_a"], height=0.38, color=bar_colors, edgecolor="black",
            label=f"period A, before {day} ({result.customers_a:,} customers)")  # fmt: skip
    bx.barh(y + 0.2, sizes["share_b"], height=0.38, color=bar_colors, alpha=0.45, hatch="//",
            edgecolor="black",
            label=f"period B, from {day} ({result.customers_b:,} customers)")  # fmt: skip
    for yi, (a, b) in enumerate(zip(sizes["share_a"], sizes["share_b"], strict=True)):
        bx.text(a, yi - 0.2, f" {a:.0%}", va="center", fontsize=8)
        bx.text(b, yi + 0.2, f" {b:.0%} ({b - a:+.0%})", va="center", fontsize=8)
    bx.set_yticks(y, [_name(s) for s in sizes.index])
    for tick, s in zip(bx.get_yticklabels(), sizes.index, strict=True):
        tick.set_color(colors.get(str(s), "#4d4d4d"))
        tick.set_fontweight("bold")
    bx.invert_yaxis()
    bx.set_xlim(0, max(float(sizes[["share_a", "share_b"]].to_numpy().max()) * 1.35, 0.05))
    bx.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    bx.set_xlabel("share of the period's customers (model A)")
    bx.set_title(f"Segment sizes, A vs B\nrefit on B agrees with model A: ARI "
                 f"{result.ari_refit:.2f}", fontsize=10)  # fmt: skip
    bx.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), frameon=False, fontsize=8)
    bx.grid(axis="x", alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)
