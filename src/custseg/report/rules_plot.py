"""The cross-sell rules figure: do segments buy differently from everyone? Writes one PNG."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from custseg.report.plotting import MIN_FONT, grid_shape, readable, save_figure, segment_name


@readable
def top_rules_plot(
    rules: pd.DataFrame, path: Path, title: str, per_scope: int = 5,
    names: Mapping[str, str] | None = None, personas: Mapping[str, str] | None = None,
) -> Path:  # fmt: skip
    """Strongest rules (by lift) of each scope ("all" first, then each segment) side by side.
    `names` turns item codes into product names a person recognises; `personas` (segment
    label -> persona name) titles each segment's panel."""
    names = names or {}

    def show(items: tuple[str, ...]) -> str:
        return " + ".join(str(names.get(i, i))[:26] for i in items)

    scopes = sorted(rules["segment"].unique(), key=lambda s: (s != "all", s))
    n = max(len(scopes), 1)
    rows, cols = grid_shape(n, 2)
    # constrained: tight_layout let the title run into the top panels' titles
    fig = Figure(figsize=(8 * cols, 0.75 * per_scope * rows + 1.2 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, scope in zip(axes.flat, scopes, strict=False):
        top = rules[rules["segment"] == scope].nlargest(per_scope, ["lift", "confidence"])
        labels = [f"{show(a)}\n-> {show(c)}"
                  for a, c in zip(top["antecedent"], top["consequent"], strict=True)]  # fmt: skip
        ax.barh(
            range(len(top))[::-1], top["lift"], color="tab:green" if scope == "all" else "tab:blue"
        )
        ax.set_yticks(range(len(top))[::-1], labels, fontsize=MIN_FONT)
        ax.set_xlabel("lift")
        ax.set_title("all customers" if scope == "all" else segment_name(scope, personas),
                     fontsize=11)  # fmt: skip
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle(title)
    return save_figure(fig, path)
