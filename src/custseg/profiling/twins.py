"""Distinct persona names for segments that share a persona key.

Two segments can both be "regular" or "high value" when the data says so (Online Retail at
k = 5 has two high-value groups). "(1)" and "(2)" tell an analyst nothing, so each twin is
named by the descriptor on which the twins differ most, from the low end to the high end
("..., recent" and "..., lapsing"). The descriptor and the order come from the segments'
median z-scores only, never from cluster numbers, so the same segments get the same names in
any run.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

# descriptor -> (word for the low end, word for the high end, what the middle is "mid" in)
WORDS: dict[str, tuple[str, str, str]] = {
    "recency_days": ("recent", "lapsing", "recency"),
    "frequency": ("fewer visits", "more visits", "frequency"),
    "monetary": ("lower spend", "higher spend", "spend"),
    "units_per_basket": ("smaller baskets", "bigger baskets", "basket size"),
    "mean_unit_price": ("cheaper items", "pricier items", "item price"),
    "tenure_days": ("newer", "long-standing", "tenure"),
    "p_alive": ("fading", "likely active", "P(alive)"),  # when the value stage ran
}
ORDINALS = ("", "", "2nd ", "3rd ", "4th ", "5th ", "6th ", "7th ", "8th ", "9th ")


def _ladder(n: int, low: str, high: str, middle: str) -> list[str]:
    """n words from the low end to the high end, all different."""
    if n == 2:
        return [low, high]
    inner = [f"mid {middle}"] if n == 3 else [
        f"{ORDINALS[i + 1] if i + 1 < len(ORDINALS) else f'{i + 1}th '}lowest {middle}"
        for i in range(1, n - 1)
    ]  # fmt: skip
    return [low, *inner, high]


def _qualifiers(z: pd.DataFrame) -> dict[str, str]:
    """A word per segment of one twin group: the widest-spread descriptor, low to high."""
    usable = [c for c in WORDS if c in z.columns and z[c].notna().all()]
    if not usable:  # nothing to tell them apart by: their order is all there is
        return {s: f"group {i + 1}" for i, s in enumerate(sorted(z.index, key=int))}
    spread = (z[usable].max() - z[usable].min()).sort_values(ascending=False, kind="stable")
    column = str(spread.index[0])
    order = z[column].sort_values(kind="stable").index
    words = _ladder(len(order), *WORDS[column])
    return dict(zip(order, words, strict=True))


def distinct_names(key: pd.Series, z: pd.DataFrame, names: Mapping[str, str]) -> dict[str, str]:
    """Persona name per segment; segments sharing a key get what separates them appended."""
    out = {s: names[k] for s, k in key.items()}
    counts = key.value_counts()
    for k in counts.index[counts > 1]:
        twins = key.index[key == k]
        for s, word in _qualifiers(z.loc[twins].astype(np.float64)).items():
            out[s] = f"{names[k]}, {word}"
    return out
