"""Which items may appear on each side of a rule (`rules.constraints`).

Some items are in many baskets and mean nothing as a recommendation: postage ("POST"), a manual
adjustment ("M"), a carrier bag. Their rules are frequent and confident, crowd the rule list and
end up as cross-sell suggestions. Dropping them from the rules (rather than from the baskets)
keeps every basket and every support as it was: an excluded item still counts in the baskets,
it only cannot be recommended (consequent) or recommend (antecedent).

Ids are matched exactly as the rules spell them (the `rules.item` labels). An id that is not
among the baskets' items is logged, not refused: a constraint list written for one data set
(Online Retail's POST) should still run on another that has no such item.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from custseg.config.schema import Constraints

log = logging.getLogger(__name__)

KEYS = ("antecedent_exclude", "consequent_exclude", "consequent_include")


def is_active(spec: Constraints) -> bool:
    """True when any list is non-empty (all empty: every rule is allowed, nothing to do)."""
    return any(getattr(spec, key) for key in KEYS)


def allowed(rules: pd.DataFrame, spec: Constraints) -> np.ndarray:
    """Mask of the rules no constraint drops: no antecedent item in `antecedent_exclude`, no
    consequent item in `consequent_exclude`, and (if `consequent_include` lists any) every
    consequent item in `consequent_include`."""
    ante_out = frozenset(spec.antecedent_exclude)
    cons_out = frozenset(spec.consequent_exclude)
    cons_in = frozenset(spec.consequent_include)
    keep = np.ones(len(rules), dtype=bool)
    if ante_out:
        keep &= np.array([ante_out.isdisjoint(a) for a in rules["antecedent"]], dtype=bool)
    if cons_out:
        keep &= np.array([cons_out.isdisjoint(c) for c in rules["consequent"]], dtype=bool)
    if cons_in:
        keep &= np.array([cons_in.issuperset(c) for c in rules["consequent"]], dtype=bool)
    return keep


def constrain(rules: pd.DataFrame, spec: Constraints) -> pd.DataFrame:
    """The rules no constraint drops, in their order (the same frame when none is set)."""
    if not is_active(spec) or rules.empty:
        return rules
    return rules[allowed(rules, spec)].reset_index(drop=True)


def unknown_items(spec: Constraints, items: Iterable[object]) -> dict[str, list[str]]:
    """Per constraint key, the ids it names that are not among `items` (sorted; keys with
    none are left out)."""
    known = {str(x) for x in items}
    out = {}
    for key in KEYS:
        missing = sorted({x for x in getattr(spec, key) if x not in known})
        if missing:
            out[key] = missing
    return out


def report_unknown(spec: Constraints, items: Iterable[object], min_item_count: int) -> None:
    """Log a warning for every constraint id the baskets lack: often a typo or another data
    set's id, so the constraint does nothing. Not an error (see the module docstring)."""
    for key, missing in unknown_items(spec, items).items():
        log.warning(
            "rules.constraints.%s: %s not among the baskets' items (absent from the data, or "
            "rarer than rules.min_item_count=%s); the constraint has no effect on them",
            key, missing, min_item_count,
        )  # fmt: skip
