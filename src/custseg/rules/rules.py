"""Association rules and their interest measures, from frequent itemsets and their counts.

Rules are derived here rather than by an engine's library so that every engine (local or Spark)
yields the same rules with the same numbers: all measures come from the itemset counts alone
(every subset of a frequent itemset is frequent, so nothing is recounted). `scope_rules` then
applies the item constraints (`constraints`) and the significance test (`significance`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from custseg.rules.constraints import constrain
from custseg.rules.guard import MiningTooLarge
from custseg.rules.significance import significant

if TYPE_CHECKING:
    from custseg.config.schema import Constraints, Significance

log = logging.getLogger(__name__)

RULE_COLUMNS = (
    "antecedent",
    "consequent",
    "antecedent_support",
    "consequent_support",
    "support",
    "confidence",
    "lift",
    "leverage",
    "conviction",
    "zhang",
    "jaccard",
    "count",
)


def _rule_rows(
    itemsets: pd.DataFrame, n_baskets: int
) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]], np.ndarray]:
    """Every split of every frequent itemset of size >= 2, with counts of A, C and A u C."""
    if "count" in itemsets:
        counts = itemsets["count"].to_numpy(dtype=np.int64)
    else:
        counts = np.rint(itemsets["support"].to_numpy(dtype="float64") * n_baskets)
        counts = counts.astype(np.int64)
    lookup = {tuple(sorted(s)): int(c) for s, c in zip(itemsets["itemsets"], counts, strict=True)}
    ante: list[tuple[str, ...]] = []
    cons: list[tuple[str, ...]] = []
    cnt: list[tuple[int, int, int]] = []
    for full, c_full in lookup.items():
        k = len(full)
        if k < 2:
            continue
        for r in range(1, k):
            for a in combinations(full, r):
                rest = tuple(x for x in full if x not in a)
                ca, cc = lookup.get(a), lookup.get(rest)
                if ca is None or cc is None:
                    raise ValueError(
                        f"itemsets are not closed under subsets: {a} or {rest} missing "
                        f"(needed for the rule {a} -> {rest})"
                    )
                ante.append(a)
                cons.append(rest)
                cnt.append((ca, cc, c_full))
    return ante, cons, np.array(cnt, dtype=np.int64).reshape(-1, 3)


def _redundant(
    ante: list[tuple[str, ...]], cons: list[tuple[str, ...]], conf: np.ndarray
) -> np.ndarray:
    """Mask of rules with a strictly smaller antecedent, same consequent, confidence >= theirs.

    best[A, C] is the highest confidence over all proper non-empty subsets of A, built up from
    the immediate subsets in order of antecedent size.
    """
    conf_of = {(a, c): float(x) for a, c, x in zip(ante, cons, conf, strict=True)}
    best: dict[tuple[tuple[str, ...], tuple[str, ...]], float] = {}
    out = np.zeros(len(ante), dtype=bool)
    for j in sorted(range(len(ante)), key=lambda j: len(ante[j])):
        a, c = ante[j], cons[j]
        if len(a) < 2:
            best[(a, c)] = -np.inf
            continue
        top = -np.inf
        for i in range(len(a)):
            sub = a[:i] + a[i + 1 :]
            top = max(top, conf_of.get((sub, c), -np.inf), best.get((sub, c), -np.inf))
        best[(a, c)] = top
        out[j] = top >= conf[j]
    return out


def association_rules(
    itemsets: pd.DataFrame,
    n_baskets: int,
    min_confidence: float = 0.0,
    min_lift: float = 0.0,
    prune_redundant: bool = False,
) -> pd.DataFrame:
    """All rules A -> C from the frequent itemsets, with the standard interest measures.

    The filters default to keeping every rule (the measures' own range), not to the config's
    thresholds: `mine` passes those. Measures come from the itemset counts (every subset of a
    frequent itemset is frequent, so no recount): confidence = s(AC)/s(A), lift =
    confidence/s(C), leverage = s(AC) - s(A)s(C), conviction = (1 - s(C))/(1 - confidence) (inf
    at confidence 1), Zhang's metric = leverage / max(s(AC)(1 - s(A)), s(A)(s(C) - s(AC))) (0
    when that is 0, as mlxtend), jaccard = s(AC)/(s(A) + s(C) - s(AC)). Sorted by lift,
    confidence, support (descending), then antecedent and consequent.
    """
    ante, cons, cnt = _rule_rows(itemsets, n_baskets)
    n = float(n_baskets)
    sa, sc, s = cnt[:, 0] / n, cnt[:, 1] / n, cnt[:, 2] / n
    with np.errstate(divide="ignore", invalid="ignore"):
        conf = cnt[:, 2] / cnt[:, 0]
        lift = conf / sc
        leverage = s - sa * sc
        conviction = np.where(cnt[:, 2] == cnt[:, 0], np.inf, (1.0 - sc) / (1.0 - conf))
        denom = np.maximum(s * (1.0 - sa), sa * (sc - s))
        zhang = np.where(denom == 0, 0.0, leverage / denom)
        jaccard = s / (sa + sc - s)
    keep = (conf >= min_confidence) & (lift >= min_lift)
    if prune_redundant and len(ante):
        keep &= ~_redundant(ante, cons, conf)
    order = sorted(
        np.flatnonzero(keep).tolist(),
        key=lambda j: (-lift[j], -conf[j], -cnt[j, 2], ante[j], cons[j]),
    )
    rules = pd.DataFrame(
        {
            "antecedent": pd.Series([ante[j] for j in order], dtype=object),
            "consequent": pd.Series([cons[j] for j in order], dtype=object),
            "antecedent_support": sa[order],
            "consequent_support": sc[order],
            "support": s[order],
            "confidence": conf[order],
            "lift": lift[order],
            "leverage": leverage[order],
            "conviction": conviction[order],
            "zhang": zhang[order],
            "jaccard": jaccard[order],
            "count": cnt[order, 2],
        },
        columns=list(RULE_COLUMNS),
    )
    return rules


def scope_rules(
    scope: str,
    n_baskets: int,
    itemsets: Callable[[], pd.DataFrame],
    *,
    min_confidence: float,
    min_lift: float,
    prune_redundant: bool,
    constraints: Constraints | None = None,
    significance: Significance | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One scope's rules (and its itemsets) from the itemsets `itemsets()` finds, with any
    engine, local or Spark: an explosion names its scope, and rules carry it (`segment`).

    The item constraints drop rules first, then the significance test runs on the rules left
    (the scope's family of tests, counted on its `n_baskets`); None skips either step."""
    try:
        sets = itemsets()
    except MiningTooLarge as exc:
        raise MiningTooLarge(
            f"scope {scope!r}: {exc}", exc.items, exc.pairs, exc.suggested_support
        ) from exc
    rules = association_rules(
        sets,
        n_baskets,
        min_confidence=float(min_confidence),
        min_lift=float(min_lift),
        prune_redundant=bool(prune_redundant),
    )
    if constraints is not None:
        before = len(rules)
        rules = constrain(rules, constraints)
        if len(rules) < before:
            log.info("rules[%s]: rules.constraints dropped %s of %s rules", scope,
                     f"{before - len(rules):,}", f"{before:,}")  # fmt: skip
    if significance is not None and significance.test != "none":
        before = len(rules)
        rules = significant(rules, n_baskets, significance)
        log.info(
            "rules[%s]: %s of %s rules significant (%s test, %s correction, alpha %s)",
            scope, f"{len(rules):,}", f"{before:,}", significance.test, significance.correction,
            significance.alpha,
        )  # fmt: skip
    rules.insert(0, "segment", scope)
    rules["n_baskets"] = n_baskets
    return rules, sets
