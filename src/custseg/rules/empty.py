"""Why a scope found no rule, in config terms: the first threshold or filter that left nothing,
the best value the data offered there, and the key to change.

The config check already refuses thresholds no data could meet (a confidence above 1, a lift
above 1 / min_support, itemsets of one item). What remains depends on the data: a support no
item or pair reaches, baskets of one item each, confidences or lifts all below the bar, or the
constraints and the significance test removing every rule. `mine` turns the sentence into a
`custseg.notices` warning, so a run with no rules says so instead of reporting an empty table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from custseg.config.schema import Rules
from custseg.rules.baskets import Baskets
from custseg.rules.constraints import constrain
from custseg.rules.guard import _pair_counts, format_support, item_counts, suggest_support
from custseg.rules.rules import association_rules


def _share(count: int, n: int) -> str:
    return f"{count / n:.3g} ({count:,} of {n:,} baskets)"


def _no_frequent_item(b: Baskets, cfg: Rules) -> str:
    counts = item_counts(b)
    if not len(counts) or counts.max(initial=0) == 0:
        return (f"rules.min_item_count={cfg.min_item_count} dropped every item (each is in "
                "fewer baskets); lower rules.min_item_count")  # fmt: skip
    top = int(counts.max())
    return (f"no item reaches rules.min_support={format_support(cfg.min_support)}: the most "
            f"common item is in {_share(top, b.n_baskets)}; lower rules.min_support to at "
            f"most {format_support(suggest_support(top, b.n_baskets))}")  # fmt: skip


def _no_pair(b: Baskets, cfg: Rules) -> str:
    sizes = np.diff(b.matrix.indptr)
    if sizes.max(initial=0) < 2:
        return (f"every basket holds a single item (rules.basket={cfg.basket}), so no item is "
                "ever bought with another; use rules.basket=customer_day or customer")  # fmt: skip
    pairs = _pair_counts(b, 1)
    best = ""
    if pairs is not None and len(pairs):
        top = int(pairs.max())
        best = (f": the most common pair is in {_share(top, b.n_baskets)}; lower "
                f"rules.min_support to at most "
                f"{format_support(suggest_support(top, b.n_baskets))}")  # fmt: skip
    return (
        f"no pair of items reaches rules.min_support={format_support(cfg.min_support)}"
        f"{best or '; lower rules.min_support'}"
    )


def _filtered(rules: pd.DataFrame, cfg: Rules) -> str:
    """The filter after mining that removed the last rule: confidence, lift, the item
    constraints, else the significance test (the last step)."""
    passed = rules[rules["confidence"] >= cfg.min_confidence]
    if passed.empty:
        top = float(rules["confidence"].max())
        return (f"none of the {len(rules):,} candidate rules reaches rules.min_confidence="
                f"{cfg.min_confidence} (the highest is {top:.3g}); lower rules.min_confidence "
                f"to at most {np.floor(top * 1000) / 1000:g}")  # fmt: skip
    lifted = passed[passed["lift"] >= cfg.min_lift]
    if lifted.empty:
        top = float(passed["lift"].max())
        return (f"none of the {len(passed):,} rules above rules.min_confidence reaches "
                f"rules.min_lift={cfg.min_lift} (the highest lift is {top:.3g}); lower "
                f"rules.min_lift to at most {np.floor(top * 1000) / 1000:g}")  # fmt: skip
    allowed = constrain(lifted, cfg.constraints)
    if allowed.empty:
        return (
            f"rules.constraints removed all {len(lifted):,} rules (their items are "
            "excluded, or not in consequent_include); loosen rules.constraints"
        )
    sig = cfg.significance
    return (
        f"none of the {len(allowed):,} rules is significant at "
        f"rules.significance.alpha={sig.alpha} ({sig.test} test, {sig.correction} "
        "correction); raise rules.significance.alpha or set rules.significance.test=none"
    )


def why_empty(b: Baskets, sets: pd.DataFrame, cfg: Rules) -> str:
    """One sentence: why this scope's itemsets gave no rule, and what to change."""
    if b.n_baskets == 0:
        return "there are no baskets to mine"
    if sets.empty:
        return _no_frequent_item(b, cfg)
    if int(sets["itemsets"].map(len).max()) < 2:
        return _no_pair(b, cfg)
    candidates = association_rules(sets, b.n_baskets)
    if candidates.empty:  # every itemset of two or more items splits into rules
        return "the itemsets give no rule; lower rules.min_support"
    # pruning redundant rules keeps every rule with a one-item antecedent: it never empties
    return _filtered(candidates, cfg)
