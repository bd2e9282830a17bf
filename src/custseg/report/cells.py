"""What every part of the report shares: the block type, how a value reads in a table cell, and
how a segment, a persona and an item are named.

Texts here are plain, data included: the renderers (render.py) escape them for their format.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pandas as pd

from custseg.report.palette import label_key
from custseg.report.plotting import segment_name

Block = tuple[Any, ...]

# summary columns that are money: shown with the data's currency symbol (data.currency)
MONEY = ("revenue", "avg_basket_value", "median_monetary", "median_mean_unit_price")


def is_missing(value: Any) -> bool:
    """None or a pandas/numpy missing value; False for lists and other non-scalars."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def fmt(value: Any, column: str = "", currency: str = "") -> str:
    """Numbers the way a reader wants them: shares as %, counts with separators, money with
    the data's currency symbol."""
    if currency and column in MONEY and not is_missing(value):
        return currency + fmt(value, column)
    if is_missing(value):
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float) or hasattr(value, "dtype"):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return str(value)
        if "share" in column:
            return f"{number:.1%}"
        if math.isfinite(number) and number == int(number) and abs(number) < 1e15:
            return f"{int(number):,}"
        return f"{number:,.2f}" if abs(number) >= 100 else f"{number:.3g}"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def kv_table(pairs: Iterable[tuple[str, Any]], key: str, value: str) -> pd.DataFrame:
    """A two-column table of names and formatted values."""
    return pd.DataFrame([(k, fmt(v, k)) for k, v in pairs], columns=[key, value])


def item_name(item: str, names: dict[str, str]) -> str:
    """An item as "name (code)" when its name is known, else its code."""
    return f"{names[item]} ({item})" if item in names else str(item)


def persona_of(personas: pd.DataFrame, label: str) -> dict[str, Any]:
    """A segment's persona row (name, description, rfm_label, actions); a stand-in named
    "Segment N" (or "Unassigned") when the run has none for it."""
    rows = personas[personas["segment"].astype(str) == label] if len(personas) else personas
    if len(rows) == 0:
        unassigned = label_key(label)[0] == 1
        return {"name": "Unassigned" if unassigned else f"Segment {label}", "description": "",
                "rfm_label": None, "actions": []}  # fmt: skip
    return rows.iloc[0].to_dict()


def persona_names(personas: pd.DataFrame) -> dict[str, str]:
    """Segment label -> persona name, for the segments that have one."""
    if not len(personas):
        return {}
    return {str(s): str(n) for s, n in zip(personas["segment"], personas["name"], strict=True)
            if isinstance(n, str) and n.strip()}  # fmt: skip


def segment_column(personas: pd.DataFrame, label: str) -> str:
    """The header of a segment's column beside "all customers": its persona when known, as
    the figures name it ("3 · Bulk buyers"), else "segment 3"."""
    return segment_name(label, persona_names(personas))


def actions_of(persona: dict[str, Any]) -> list[str]:
    """A persona's suggested actions as a list of texts (none when it has none)."""
    actions = persona.get("actions")
    if isinstance(actions, Iterable) and not isinstance(actions, str | bytes):
        return [str(a) for a in actions if not is_missing(a) and str(a).strip()]
    return []
