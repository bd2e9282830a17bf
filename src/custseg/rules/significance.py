"""Which rules are more than chance: Fisher's exact test per rule, corrected within its scope.

A rule clears the support, confidence and lift thresholds by describing many baskets, not by
being unlikely under independence: on a large catalogue thousands of rules pass them, and some
only because enough items were tried (a lift of 1.3 on 40 baskets is common by chance). As R
arules' `is.significant`, each rule A -> C is tested for a positive association of A and C on
the baskets of its scope (overall, or one segment's), and the p-values are corrected for the
number of rules tested in that scope, so `alpha` bounds the family-wise error (Holm) or the false
discovery rate (Benjamini-Hochberg) of the rules a scope reports.

The family is the rules the scope would report (after the confidence, lift, redundancy and item
constraints), as arules tests the rule set it is given: it does not correct for every itemset
the miner looked at, so it is a guard against chance rules, not a proof of each one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.stats import false_discovery_control, hypergeom

if TYPE_CHECKING:
    from custseg.config.schema import Significance

CORRECTIONS = ("holm", "bh", "none")


def fisher_greater(
    n_ac: np.ndarray, n_a: np.ndarray, n_c: np.ndarray, n_baskets: int
) -> np.ndarray:
    """One-sided Fisher exact p-values, P(X >= n_AC) for X hypergeometric: n_baskets baskets,
    n_A of them with A, n_C drawn (those with C). Equal to `scipy.stats.fisher_exact` with
    alternative='greater' on [[n_AC, n_A - n_AC], [n_C - n_AC, N - n_A - n_C + n_AC]], but one
    vectorised call for all the rules."""
    n_ac = np.asarray(n_ac, dtype=np.int64)
    p = hypergeom.sf(n_ac - 1, int(n_baskets), np.asarray(n_a), np.asarray(n_c))
    return np.clip(np.asarray(p, dtype="float64"), 0.0, 1.0)


def holm(p: np.ndarray) -> np.ndarray:
    """Holm-Bonferroni step-down adjusted p-values: the i-th smallest is multiplied by m - i + 1,
    then made non-decreasing in p (so an adjusted value never undercuts a smaller p's), capped
    at 1. Controls the family-wise error rate under any dependence between the tests."""
    p = np.asarray(p, dtype="float64")
    m = len(p)
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate(p[order] * (m - np.arange(m)))
    out = np.empty(m)
    out[order] = np.minimum(stepped, 1.0)
    return out


def bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (monotone, capped at 1): controls the false discovery
    rate, the share of chance rules among those kept; less strict than Holm on many rules."""
    p = np.asarray(p, dtype="float64")
    if len(p) == 0:
        return p.copy()
    return np.asarray(false_discovery_control(p, method="bh"), dtype="float64")


def _none(p: np.ndarray) -> np.ndarray:
    return np.asarray(p, dtype="float64").copy()


ADJUST = {"holm": holm, "bh": bh, "none": _none}  # rules.significance.correction -> method


def adjust(p: np.ndarray, correction: str) -> np.ndarray:
    """`p` corrected for being tested together: holm, bh, or none (the p-values themselves)."""
    if correction not in ADJUST:
        raise ValueError(f"rules.significance.correction: {correction!r} is not one of "
                         f"{', '.join(CORRECTIONS)}")  # fmt: skip
    return ADJUST[correction](p)


def rule_counts(rules: pd.DataFrame, n_baskets: int) -> tuple[np.ndarray, ...]:
    """(n_AC, n_A, n_C) per rule, in baskets of the scope: supports are shares of the scope's
    `n_baskets` (every basket, empty ones included), so support x n_baskets is a count."""
    n = float(n_baskets)
    n_ac = rules["count"].to_numpy(dtype=np.int64)
    n_a = np.rint(rules["antecedent_support"].to_numpy(dtype="float64") * n).astype(np.int64)
    n_c = np.rint(rules["consequent_support"].to_numpy(dtype="float64") * n).astype(np.int64)
    return n_ac, n_a, n_c


def significant(rules: pd.DataFrame, n_baskets: int, spec: Significance) -> pd.DataFrame:
    """One scope's rules with p_value and p_adjusted, only those with p_adjusted <= alpha, in
    their order; unchanged (no new columns) when `spec.test` is none."""
    if spec.test == "none":
        return rules
    if spec.test != "fisher":
        raise ValueError(f"rules.significance.test: {spec.test!r} is not one of none, fisher")
    n_ac, n_a, n_c = rule_counts(rules, n_baskets)
    p = fisher_greater(n_ac, n_a, n_c, n_baskets)
    adjusted = adjust(p, spec.correction)
    out = rules.assign(p_value=p, p_adjusted=adjusted)
    return out[adjusted <= float(spec.alpha)].reset_index(drop=True)
