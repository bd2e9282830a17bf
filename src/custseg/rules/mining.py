"""Frequent itemsets with the configured engine, and rules overall and per segment.

`frequent_itemsets` is where the pieces meet: the guard (`custseg.rules.guard`) refuses a support
that would explode, the engine `rules.engine` names (`custseg.rules.engines`) finds the itemsets
on the frequent items' columns only, and the result is put in one engine-independent form, so
the engines can be swapped by config alone. `mine` runs that and `custseg.rules.rules` on every
scope (all baskets, then each segment's), each scope's support relative to its own baskets.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from custseg import notices
from custseg.config.schema import Rules
from custseg.rules.baskets import Baskets
from custseg.rules.constraints import report_unknown
from custseg.rules.empty import why_empty
from custseg.rules.engines import ENGINES, check_engine
from custseg.rules.guard import check_support, guard, item_counts, min_count
from custseg.rules.rules import scope_rules

log = logging.getLogger(__name__)

ITEMSET_COLUMNS = ("itemsets", "support", "count")


def empty_itemsets() -> pd.DataFrame:
    """The itemset table with no rows, typed as a full one (so rules and concat still work)."""
    return pd.DataFrame(
        {
            "itemsets": pd.Series([], dtype=object),
            "support": pd.Series([], dtype="float64"),
            "count": pd.Series([], dtype="int64"),
        },
        columns=list(ITEMSET_COLUMNS),
    )


def frequent_itemsets(
    b: Baskets,
    min_support: float,
    *,
    engine: str,
    max_itemsets: int,
    max_len: int | None = None,
) -> pd.DataFrame:
    """Itemsets in at least ceil(min_support * baskets) baskets: itemsets, support, count.

    `max_len` None means no limit on the itemset size; `max_itemsets` is the guard's budget
    (see `custseg.rules.guard.guard`). Only the frequent items' columns reach the engine
    (nothing else can be in a frequent itemset), which keeps mlxtend's internal dense copies to
    baskets x frequent items. Sorted by support (descending), then by the sorted item labels,
    whatever the engine.
    """
    check_engine(engine)
    check_support(min_support)
    if max_len is not None and int(max_len) < 1:
        raise ValueError(f"rules.max_len: {max_len} must be at least 1 (or null for no limit)")
    n = b.n_baskets
    if n == 0:
        return empty_itemsets()
    count = min_count(min_support, n)
    if max_len is None or max_len >= 2:
        guard(b, min_support, max_itemsets)
    freq = np.flatnonzero(item_counts(b) >= count)
    if len(freq) == 0:
        return empty_itemsets()
    t0 = time.perf_counter()
    m = b.matrix[:, freq]
    # baskets with no frequent item change no count (engines take absolute counts; the
    # supports below divide by all n baskets), so the engine need not see them
    m = m[np.diff(m.indptr) > 0]
    sets, counts = ENGINES[engine](m, count, None if max_len is None else int(max_len))
    log.debug(
        "itemsets: %s found by %s in %.2f s (%s baskets, %s frequent items, min count %s)",
        f"{len(sets):,}", engine, time.perf_counter() - t0, f"{n:,}", f"{len(freq):,}", count,
    )  # fmt: skip
    labels = [tuple(sorted(str(b.items[freq[i]]) for i in s)) for s in sets]
    order = sorted(range(len(labels)), key=lambda j: (-int(counts[j]), labels[j]))
    counts = np.asarray(counts, dtype=np.int64)[order]
    return pd.DataFrame(
        {
            "itemsets": pd.Series([frozenset(labels[j]) for j in order], dtype=object),
            "support": counts / n,
            "count": counts,
        }
    )


def _scope_rules(b: Baskets, scope: str, cfg: Rules) -> tuple[pd.DataFrame, str | None]:
    """One scope's rules, logged with what a reader needs to judge the support chosen, and
    when there are none, why (`custseg.rules.empty`)."""
    t0 = time.perf_counter()
    rules, sets = scope_rules(
        scope,
        b.n_baskets,
        lambda: frequent_itemsets(b, cfg.min_support, engine=cfg.engine,
                                  max_itemsets=cfg.max_itemsets, max_len=cfg.max_len),
        min_confidence=cfg.min_confidence,
        min_lift=cfg.min_lift,
        prune_redundant=cfg.prune_redundant,
        constraints=cfg.constraints,
        significance=cfg.significance,
    )  # fmt: skip
    sizes = sets["itemsets"].map(len).value_counts().sort_index().to_dict() if len(sets) else {}
    log.info(
        "rules[%s]: %s baskets, %s items, %s itemsets %s, %s rules, %.2f s (%s)",
        scope, f"{b.n_baskets:,}", f"{int((item_counts(b) > 0).sum()):,}", f"{len(sets):,}",
        {int(k): int(v) for k, v in sizes.items()}, f"{len(rules):,}",
        time.perf_counter() - t0, cfg.engine,
    )  # fmt: skip
    return rules, (why_empty(b, sets, cfg) if rules.empty else None)


def _scopes(b: Baskets, segments: pd.Series | None, min_baskets: int) -> list[tuple[str, Baskets]]:
    """'all', then every segment with at least `min_baskets` baskets (the others are logged)."""
    scopes: list[tuple[str, Baskets]] = [("all", b)]
    if segments is None:
        return scopes
    seg = pd.Series(segments)
    seg.index = seg.index.astype("str")
    per_basket = b.keys["customer_id"].astype("str").map(seg).to_numpy(dtype="float64")
    for label in sorted(pd.unique(seg.dropna()).astype(int)):
        mask = per_basket == label
        n = int(mask.sum())
        if n < min_baskets:
            log.info("rules[%s]: skipped, %s baskets < rules.min_baskets=%s", label, n, min_baskets)
            continue
        scopes.append((str(label), b.subset(mask)))
    return scopes


def _say_empty(empty: dict[str, str], scopes: list[tuple[str, Baskets]],
               segments: pd.Series | None, cfg: Rules) -> None:  # fmt: skip
    """A stage that found nothing says so (`custseg.notices`): no rule at all, or rules over
    all baskets but none inside any segment (every segment skipped, or all empty)."""
    if "all" in empty:
        notices.warn("rules.no_rules", f"rules: no association rule over all baskets: "
                     f"{empty['all']}")  # fmt: skip
        return
    if segments is None or not pd.Series(segments).notna().any():
        return
    mined = [(s, sub) for s, sub in scopes if s != "all"]
    if not mined:
        notices.warn(
            "rules.no_segment_rules",
            f"rules: no segment has rules.min_baskets={cfg.min_baskets} baskets, so no segment "
            "has rules of its own (only the overall ones); lower rules.min_baskets",
        )
    elif all(s in empty for s, _ in mined):
        largest = max(mined, key=lambda m: m[1].n_baskets)[0]
        notices.warn(
            "rules.no_segment_rules",
            f"rules: no segment has rules of its own (only the overall ones); in the largest, "
            f"segment {largest}: {empty[largest]} (a segment's support counts its own baskets)",
        )


def mine(
    b: Baskets, segments: pd.Series | None, cfg: Rules
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Rules overall ('all') and per segment, each scope's support relative to its own baskets.

    `segments` maps customer_id -> segment label (int; -1, unassigned, is a scope of its own);
    customers it does not list count only in 'all'. Segments with fewer than
    `rules.min_baskets` baskets are skipped: their supports would rest on a handful of baskets.
    Returns the rules with columns segment, the rule columns (then p_value and p_adjusted when
    `rules.significance.test` is on), n_baskets, and the mining seconds per scope. The item
    constraints and the significance test apply per scope (`custseg.rules.rules.scope_rules`).
    """
    parts, seconds = [], {}
    report_unknown(cfg.constraints, b.items, cfg.min_item_count)
    scopes = _scopes(b, segments, cfg.min_baskets)
    # the rare items went before the scopes existed: where an itemset needs fewer baskets than
    # rules.min_item_count, a dropped item could have been frequent (supports stay exact)
    low = [s for s, sub in scopes if min_count(cfg.min_support, max(sub.n_baskets, 1))
           < cfg.min_item_count]  # fmt: skip
    if b.dropped_items and low:
        log.warning(
            "rules: scopes %s need fewer baskets per itemset than rules.min_item_count=%s; "
            "items dropped as rare may be missing from their itemsets",
            low, cfg.min_item_count,
        )  # fmt: skip
    empty: dict[str, str] = {}
    for scope, sub in scopes:
        t0 = time.perf_counter()
        found, why = _scope_rules(sub, scope, cfg)
        parts.append(found)
        seconds[scope] = time.perf_counter() - t0
        if why is not None:
            empty[scope] = why
    _say_empty(empty, scopes, segments, cfg)
    rules = pd.concat(parts, ignore_index=True)
    rules["segment"] = rules["segment"].astype("str")
    return rules, seconds
