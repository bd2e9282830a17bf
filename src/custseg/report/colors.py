"""One colour per segment, the same in every figure and in the report's tables.

Plain hex values, no matplotlib: the report (written in the main process) needs the palette,
and importing matplotlib there would cost every run 0.4 s; figures are drawn in a worker.
The values are matplotlib's tab10 and tab20b (a test keeps them equal).
"""

from __future__ import annotations

import numpy as np

TAB10 = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
         "#7f7f7f", "#bcbd22", "#17becf")  # fmt: skip
TAB20B = ("#393b79", "#5254a3", "#6b6ecf", "#9c9ede", "#637939", "#8ca252", "#b5cf6b",
          "#cedb9c", "#8c6d31", "#bd9e39", "#e7ba52", "#e7cb94", "#843c39", "#ad494a",
          "#d6616b", "#e7969c", "#7b4173", "#a55194", "#ce6dbd", "#de9ed6")  # fmt: skip
UNASSIGNED_COLOR = "#c8c8c8"
OTHER_COLOR = "#4d4d4d"
SEVENTH = "#393b79"  # replaces tab10's grey, which reads as "unassigned"


def label_key(label: object) -> tuple[int, int | str]:
    """Sort segments numerically ("10" after "9"), unassigned "-1" last, non-numbers after."""
    try:
        value = int(str(label))
    except ValueError:
        return (2, str(label))
    return (1, value) if value < 0 else (0, value)


def sorted_labels(labels: object) -> list[str]:
    return sorted({str(x) for x in np.asarray(labels).ravel()}, key=label_key)


def segment_colors(labels: object) -> dict[str, str]:
    """One colour per segment label, fixed by the label's value (not its position), so the same
    segment has the same colour in every figure: tab10 for 0-9 (its grey swapped for navy, so
    segment 7 never looks unassigned), tab20b beyond, light grey for -1."""
    tab10 = list(TAB10)
    tab10[7] = SEVENTH
    out: dict[str, str] = {}
    for label in sorted_labels(labels):
        try:
            value = int(label)
        except ValueError:
            out[label] = OTHER_COLOR
            continue
        if value < 0:
            out[label] = UNASSIGNED_COLOR
        elif value < 10:
            out[label] = tab10[value]
        else:
            out[label] = TAB20B[(value - 10) % 20]
    return out
