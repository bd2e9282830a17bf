"""Figures for segmentations and their tuning. Each function writes one PNG and returns its path."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def _save(fig: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
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
