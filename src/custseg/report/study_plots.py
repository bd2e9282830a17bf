"""Figures of the search for a segmentation: a tuning study's trials (Pareto front), the quality
per number of segments (elbow), and the runs of an experiment side by side (compare). They show
why this segmentation was chosen over the others. Each function writes one PNG and returns its
path.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from custseg.report.plotting import MIN_FONT, legend_outside, readable, save_figure


@readable
def pareto_plot(trials: pd.DataFrame, path: Path, title: str) -> Path:
    """Every trial's silhouette vs Davies-Bouldin; the front, the ineligible and the chosen one.
    `trials` is `TuningResult.table()`: silhouette, davies_bouldin, eligible, on_front, chosen,
    n_segments, indexed by trial number."""
    fig = Figure(figsize=(7, 5))
    ax = fig.subplots()
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
    legend_outside(ax)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


@readable
def elbow_plot(elbow: pd.DataFrame, path: Path, title: str, chosen_k: int | None) -> Path:
    """Inertia (or BIC) per k beside silhouette and Davies-Bouldin per k: the classic elbow,
    with the two quality scores that make it honest."""
    size_metric = "inertia" if "inertia" in elbow else "bic"
    fig = Figure(figsize=(11, 4))
    axes = fig.subplots(1, 2)
    axes[0].plot(elbow.index, elbow[size_metric], marker="o")
    axes[0].set_ylabel("inertia (within-segment sum of squares)" if size_metric == "inertia"
                       else "BIC (lower is better)")  # fmt: skip
    axes[1].plot(elbow.index, elbow["silhouette"], marker="o", label="silhouette (higher better)")
    axes[1].plot(elbow.index, elbow["davies_bouldin"], marker="s",
                 label="Davies-Bouldin (lower better)")  # fmt: skip
    legend_outside(axes[1])
    for ax in axes:
        ax.set_xlabel("number of segments k")
        ax.set_xticks(list(elbow.index))
        ax.grid(alpha=0.3)
        if chosen_k is not None:
            ax.axvline(chosen_k, color="red", ls="--", lw=1)
    fig.suptitle(title + (f" (chosen k = {chosen_k}, dashed)" if chosen_k else ""))
    return save_figure(fig, path)


@readable
def compare_plot(table: pd.DataFrame, path: Path, title: str) -> Path:
    """Runs of an experiment on silhouette vs Davies-Bouldin; numbers are ranks in the table,
    hollow markers break the selection constraints."""
    fig = Figure(figsize=(9, 6))
    ax = fig.subplots()
    for algo, part in table.groupby("algorithm"):
        ok = part["eligible"].astype(bool)
        sc = ax.scatter(part.loc[ok, "davies_bouldin"], part.loc[ok, "silhouette"], s=70,
                        label=algo)  # fmt: skip
        ax.scatter(part.loc[~ok, "davies_bouldin"], part.loc[~ok, "silhouette"], s=70,
                   facecolors="none", edgecolors=sc.get_facecolor())  # fmt: skip
        for _, row in part.iterrows():
            ax.annotate(str(row["rank"]), (row["davies_bouldin"], row["silhouette"]),
                        xytext=(5, 4), textcoords="offset points", fontsize=MIN_FONT)  # fmt: skip
    ax.set_xlabel("Davies-Bouldin index (lower is better)")
    ax.set_ylabel("silhouette (higher is better)")
    ax.set_title(f"{title}\n(numbers: rank in compare.csv; hollow: breaks size/noise rules)")
    legend_outside(ax, title="algorithm")
    ax.grid(alpha=0.3)
    return save_figure(fig, path)
