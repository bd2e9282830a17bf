"""The column map checked for ambiguity: each canonical column must read exactly one column.

A header can name a column twice ('quantity', 'quantity'), or twice up to case and spaces
('Quantity', 'quantity '); pandas keeps both (renaming an exact repeat 'quantity.1') and the map
silently takes one. A map can also send two canonical columns to one source column (quantity
and amount both 'Qty'), which derives nonsense without an error. Both are refused here, by the
full load and by the preflight alike, with the fix that removes the doubt.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# columns that must each have a source column of their own; the rest describe the product
# (id, name, category, region) and may share one, as a basket file's item name does
DISTINCT = ("customer_id", "invoice_id", "invoice_date", "quantity", "unit_price", "amount",
            "weight", "margin")  # fmt: skip
_NULL_FIX = {"invoice_id": "data.columns.invoice_id=null (customer x day becomes the invoice)",
             "amount": "data.columns.amount=null (derived as quantity x unit_price)",
             "unit_price": "data.columns.unit_price=null (derived as amount / quantity)",
             "quantity": "data.columns.quantity=null (each line counts as 1 unit)"}  # fmt: skip


@dataclass(frozen=True)
class Ambiguity:
    """One canonical column whose source column is not one unambiguous column."""

    canon: str
    column: str
    problem: str
    fix: str
    header: bool = True  # the header repeats the name (else: the map shares the column)


def normal(name: object) -> str:
    """A header name without case and surrounding or repeated spaces: 'Quantity ' ~ 'quantity'."""
    return " ".join(str(name).split()).casefold()


def _usecols(used: Iterable[str]) -> str:
    quoted = ",".join("'" + c.replace("'", "\\'") + "'" for c in dict.fromkeys(used))
    return f"++data.read_options.usecols=[{quoted}]"


def ambiguities(
    columns: Mapping[str, str | None],
    constants: Mapping[str, Any],
    names: Iterable[object],
    duplicates: Mapping[str, str],
) -> list[Ambiguity]:
    """Every mapped column the header or the map leaves in doubt, in the map's order.

    `names` are the columns as read; `duplicates` maps each name the CSV reader invented for a
    repeated header name ('quantity.1') to the header's own name ('quantity')."""
    names = [str(n) for n in names]
    used = {c: str(s) for c, s in columns.items() if s is not None and c not in constants}
    counts = Counter(names) + Counter(duplicates.values())
    out: list[Ambiguity] = []
    for canon, src in used.items():
        if counts[src] > 1:
            renamed = [c for c, original in duplicates.items() if original == src]
            fix = "rename or drop the extra column(s) in the file"
            if renamed:
                fix += f", or map the one you mean: data.columns.{canon}={renamed[0]!r} is the next"
            out.append(Ambiguity(canon, src, f"the header names {counts[src]} columns {src!r}: "
                                 f"data.columns.{canon} cannot tell which one it means", fix))
            continue
        twins = [n for n in names if n != src and n not in duplicates and normal(n) == normal(src)]
        if twins and src in names:  # a name not in the header is reported as missing instead
            out.append(Ambiguity(
                canon, src,
                f"the header also has {', '.join(map(repr, twins))}, the same name up to case "
                f"and spaces: which one data.columns.{canon}={src!r} means is a guess",
                "rename or drop the other column in the file, or read only the mapped columns "
                f"with {_usecols(used.values())}",
            ))  # fmt: skip
    by_source: dict[str, list[str]] = defaultdict(list)
    for canon, src in used.items():
        by_source[src].append(canon)
    for src, canons in by_source.items():
        if len(canons) < 2 or not set(canons) & set(DISTINCT):
            continue
        keys = " and ".join(f"data.columns.{c}" for c in canons)
        nulls = [_NULL_FIX[c] for c in canons if c in _NULL_FIX]
        fix = "map each of them to its own column" + (f", or set {nulls[-1]}" if nulls else "")
        first = next(c for c in canons if c in DISTINCT)
        out.append(Ambiguity(first, src, f"{keys} all read the one column {src!r}: "
                             f"{', '.join(canons)} would be the same values", fix,
                             header=False))  # fmt: skip
    return out
