"""One colour per segment, the same in every figure and in the report's tables.

The colours are matplotlib's own tab10 and tab20b colormaps, read from `matplotlib.colormaps`,
so the report's section borders and the figures can never drift apart. Two rules make them
readable: light grey means "unassigned" and nothing else (tab10's own grey, its eighth colour,
index 7, is swapped for tab20b's navy), and a segment's colour follows its label's value, not
its position, so segment 3 looks the same whether or not segment 2 exists in a figure.
"""

from __future__ import annotations

from collections.abc import Iterable

import matplotlib
import numpy as np
from matplotlib.colors import to_hex

UNASSIGNED_COLOR = "#c8c8c8"  # HDBSCAN noise (-1): light grey, drawn beneath the segments
OTHER_COLOR = "#4d4d4d"  # a label that is not a number (should not happen; still drawn)
GREY_SLOT = 7  # tab10's grey, replaced by the first tab20b colour


def _hexes(name: str) -> list[str]:
    return [to_hex(c) for c in matplotlib.colormaps[name].colors]


def label_key(label: object) -> tuple[int, int | str]:
    """Sort segments numerically ("10" after "9"), unassigned "-1" last, non-numbers after."""
    try:
        value = int(str(label))
    except ValueError:
        return (2, str(label))
    return (1, value) if value < 0 else (0, value)


def sorted_labels(labels: Iterable[object] | np.ndarray) -> list[str]:
    """The distinct labels as strings, in `label_key` order: the order of every legend."""
    return sorted({str(x) for x in np.asarray(labels).ravel()}, key=label_key)


def segment_colors(labels: Iterable[object] | np.ndarray) -> dict[str, str]:
    """Label -> hex colour for each distinct label, in `label_key` order: tab10 for 0-9 (its
    grey swapped for navy, so segment 7 never looks unassigned), tab20b from 10 on, light grey
    for unassigned (negative) labels."""
    tab10, tab20b = _hexes("tab10"), _hexes("tab20b")
    tab10[GREY_SLOT] = tab20b[0]
    out: dict[str, str] = {}
    for label in sorted_labels(labels):
        try:
            value = int(label)
        except ValueError:
            out[label] = OTHER_COLOR
            continue
        if value < 0:
            out[label] = UNASSIGNED_COLOR
        elif value < len(tab10):
            out[label] = tab10[value]
        else:
            out[label] = tab20b[(value - len(tab10)) % len(tab20b)]
    return out
