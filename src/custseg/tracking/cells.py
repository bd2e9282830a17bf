"""What one column of a served payload may hold, cell by cell (the served model's input contract,
`custseg.tracking.payload`, holds the columns; this holds their values).

JSON gives a column whatever each client wrote: text, whole or decimal numbers, booleans,
nulls, nested lists and objects, strings of any length. Each cell is classified by its Python
type, then the column's rule says which classes it takes and how they become the value the
model reads (ids and names as text, amounts as floats, dates left as sent for the model's own
date reading), so a list in an id column or "abc" as a quantity is refused by name instead of
reaching pandas as something else. The cells are walked in plain Python: a served request holds
one customer's few dozen lines, where a pandas operation per check would cost more than the
scoring.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

MAX_TEXT = 1_000  # characters in one cell: an id, a name, a category, a date
SHOWN_ROWS = 5  # offending rows listed per problem


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a payload: the field (a column, or `payload` for the whole table),
    what is wrong, what would fix it, and the first rows where it is (counted from 0)."""

    field: str
    problem: str
    fix: str
    rows: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "problem": self.problem, "fix": self.fix}
        if self.rows:
            out["rows"] = list(self.rows)
        return out


@dataclass(frozen=True)
class Rule:
    """What one column takes: `type` text | number | date, whether some lines may leave it
    empty, the smallest number it allows, and how the model derives it when the payload leaves
    the column out (None: it cannot)."""

    type: str
    nulls: bool
    minimum: float | None = None
    derived: str | None = None


_CLASSES: dict[type, str] = {}  # Python type -> class, filled as types are met


def _class_of(t: type) -> str:
    """The JSON-level class of a cell's Python type."""
    if t is type(None) or t is type(pd.NA) or t is type(pd.NaT):
        return "null"
    if issubclass(t, bool | np.bool_):
        return "bool"
    if issubclass(t, str):
        return "text"
    if issubclass(t, int | np.integer):
        return "int"
    if issubclass(t, float | np.floating):
        return "float"
    if issubclass(t, datetime | date | np.datetime64):
        return "date"
    return "other"  # list, dict, bytes, ...: never a cell of a table


def cell_class(v: Any) -> str:
    """null, bool, text, int, float, date or other; NaN is null."""
    t = type(v)
    c = _CLASSES.get(t)
    if c is None:
        c = _CLASSES[t] = _class_of(t)
    return "null" if c == "float" and v != v else c


def show(value: Any, bare: bool = False, limit: int = 40) -> str:
    """A value for a message, cut short: a client may send a megabyte in one cell."""
    text = str(value) if bare else repr(value)
    if len(text) <= limit:
        return text
    size = f"{len(value):,} characters" if isinstance(value, str) else type(value).__name__
    return f"{text[:limit]}... ({size})"


def _text(v: Any, c: str) -> tuple[Any, bool]:
    """Text as sent; whole numbers as their digits (JSON ids are often numbers)."""
    if c == "text":
        return v, True
    if c == "int" or (c == "float" and math.isfinite(v) and float(v).is_integer()):
        return str(int(v)), True
    return None, c == "null"


def _number(v: Any, c: str) -> tuple[float, bool]:
    """Numbers, or numeric text ('2.5'); infinities are not numbers a line can hold."""
    if c in ("int", "float", "text"):
        try:
            f = float(v)
        except (ValueError, OverflowError):
            return math.nan, False
        return f, math.isfinite(f)
    return math.nan, c == "null"


def _date(v: Any, c: str) -> tuple[Any, bool]:
    """Dates as sent (text, or timestamps from an in-process caller): the model reads them."""
    return (v if c in ("text", "date") else None), c in ("null", "text", "date")


CONVERT = {"text": _text, "number": _number, "date": _date}
EXPECTED = {
    "text": "text (or whole numbers)",
    "number": "numbers",
    "date": "dates as text, e.g. '2011-02-01 10:30:00'",
}
WRONG = {  # what cells of a class are, where the column's type does not take them
    "other": "nested values (lists or objects) where one value per cell belongs",
    "bool": "true/false values",
    "float": "numbers with decimals",
    "int": "numbers",
    "text": "text",
    "date": "timestamps",
    ("number", "text"): "text that is not a number",
    ("number", "int"): "infinite values",
    ("number", "float"): "infinite values",
    ("date", "int"): "numbers, not dates (Unix time or spreadsheet day numbers?)",
    ("date", "float"): "numbers, not dates (Unix time or spreadsheet day numbers?)",
}


def check_column(name: str, s: pd.Series, rule: Rule) -> tuple[pd.Series, list[Problem]]:
    """The column's values as the model reads them, and what is wrong with them: cells of the
    wrong kind (per kind found), over-long text, empty cells where every line needs one,
    numbers below the rule's minimum."""
    raw = s.tolist()
    cls = np.array([cell_class(v) for v in raw], dtype=object)
    convert = CONVERT[rule.type]
    pairs = [convert(v, c) for v, c in zip(raw, cls, strict=True)]
    values = pd.Series([v for v, _ in pairs], index=s.index,
                       dtype="float64" if rule.type == "number" else object)  # fmt: skip
    bad = ~np.array([ok for _, ok in pairs], dtype=bool)
    problems = []
    for what in dict.fromkeys(cls[bad]):
        wrong = WRONG.get((rule.type, what), WRONG[what])
        fix = "send finite numbers" if wrong == "infinite values" else (
            f"send {EXPECTED[rule.type]}, one per cell")  # fmt: skip
        problems += found(name, bad & (cls == what), raw, wrong, fix)
    long = np.array([isinstance(v, str) and len(v) > MAX_TEXT for v in raw], dtype=bool)
    problems += found(name, long, raw, f"text longer than {MAX_TEXT:,} characters",
                      f"send at most {MAX_TEXT:,} characters per cell")  # fmt: skip
    empty = cls == "null"
    if not rule.nulls and empty.any():
        every = " on every line" if empty.all() else ""
        out = f", or leave the column out ({rule.derived})" if rule.derived else ""
        fix = f"fill it in on every line{out}"
        problems += found(name, empty, raw, f"empty{every}", fix, examples=False)
    if rule.minimum is not None and rule.type == "number":
        below = (values < rule.minimum).to_numpy()
        problems += found(name, below, raw, f"values below {rule.minimum:g}",
                          f"send values of at least {rule.minimum:g}")  # fmt: skip
    return values, problems


def found(
    name: str, mask: Any, values: Any, problem: str, fix: str, examples: bool = True
) -> list[Problem]:
    """[the problem at the rows `mask` marks (counted from 0), with their count and a few of
    their `values`] or []."""
    at = np.flatnonzero(np.asarray(mask, dtype=bool))
    if not len(at):
        return []
    listed = list(values)
    shown = ", e.g. " + ", ".join(show(listed[i]) for i in at[:3]) if examples else ""
    rows = tuple(int(i) for i in at[:SHOWN_ROWS])
    return [Problem(name, f"{problem}: {len(at)} row(s){shown}", fix, rows)]
