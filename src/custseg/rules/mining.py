"""Frequent itemsets and association rules, overall and per segment.

Three engines find the frequent itemsets (mlxtend's FP-growth and Apriori on a pandas sparse
frame, Borgelt's C FP-growth through pyfim); all of them get the same integer threshold, so they
return the same itemsets with the same counts and can be swapped by config alone. Before any
engine runs, a guard counts the frequent pairs exactly (a sparse X^T X over the frequent items)
and refuses a support so low that the itemsets would not fit in memory, suggesting one that fits.
Rules and their measures are computed here from the itemset counts, so every engine yields the
same rules.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from custseg.rules.baskets import Baskets

log = logging.getLogger(__name__)

# Above this many multiply-adds (sum over baskets of frequent items squared) the exact pair count
# is itself too costly, and the guard falls back to a bound from the item counts alone.
PAIR_WORK_LIMIT = 200_000_000

ITEMSET_COLUMNS = ("itemsets", "support", "count")
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
DEFAULTS: dict[str, Any] = {
    "engine": "fpgrowth",
    "min_support": 0.02,
    "min_confidence": 0.0,
    "min_lift": 0.0,
    "max_len": None,
    "prune_redundant": False,
    "max_itemsets": 2_000_000,
    "min_baskets": 30,
}


class MiningTooLarge(ValueError):
    """The support asked for would produce more itemsets than fit; the message says what would.

    `suggested_support` is the smallest support at which the guard passes, as the shortest
    decimal that gives the same basket threshold (the message shows it in full). `pairs` is None
    when there were too many frequent items to count pairs at all.
    """

    def __init__(
        self, message: str, items: int, pairs: int | None, suggested_support: float
    ) -> None:
        super().__init__(message)
        self.items = items
        self.pairs = pairs
        self.suggested_support = suggested_support


def min_count(min_support: float, n_baskets: int) -> int:
    """The one integer threshold every engine uses: count >= ceil(min_support * n - 1e-9).

    The 1e-9 absorbs float noise (0.07 * 100 is 7.000000000000001, which must mean 7).
    """
    return max(1, math.ceil(min_support * n_baskets - 1e-9))


def _check_support(min_support: float) -> None:
    if not 0.0 < float(min_support) <= 1.0:
        raise ValueError(f"rules.min_support: {min_support} must lie in (0, 1]")


def _mlxtend_support(count: int, n: int) -> float:
    """A float support that mlxtend turns into exactly `count`.

    mlxtend compares `c / n >= s` (apriori) and also uses `ceil(s * n)` (fpgrowth); halfway
    between count - 1 and count both agree on the integer threshold with no float edge cases.
    """
    return (count - 0.5) / n


def _as_sparse_frame(m: sp.csr_matrix) -> pd.DataFrame:
    return pd.DataFrame.sparse.from_spmatrix(m)


def _counts_from_mlxtend(res: pd.DataFrame, n: int) -> tuple[list[tuple[int, ...]], np.ndarray]:
    sets = [tuple(sorted(int(i) for i in s)) for s in res["itemsets"]]
    counts = np.rint(res["support"].to_numpy(dtype="float64") * n).astype(np.int64)
    return sets, counts


def _engine_fpgrowth(
    m: sp.csr_matrix, count: int, max_len: int | None
) -> tuple[list[tuple[int, ...]], np.ndarray]:
    from mlxtend.frequent_patterns import fpgrowth

    n = m.shape[0]
    res = fpgrowth(_as_sparse_frame(m), min_support=_mlxtend_support(count, n), max_len=max_len)
    return _counts_from_mlxtend(res, n)


def _engine_apriori(
    m: sp.csr_matrix, count: int, max_len: int | None
) -> tuple[list[tuple[int, ...]], np.ndarray]:
    from mlxtend.frequent_patterns import apriori

    # low_memory: the default path materialises a dense baskets x candidates matrix (gigabytes
    # on Online Retail at 1%); this one stays within baskets x frequent items.
    n = m.shape[0]
    res = apriori(
        _as_sparse_frame(m),
        min_support=_mlxtend_support(count, n),
        max_len=max_len,
        low_memory=True,
    )
    return _counts_from_mlxtend(res, n)


def _engine_fim(
    m: sp.csr_matrix, count: int, max_len: int | None
) -> tuple[list[tuple[int, ...]], np.ndarray]:
    import fim

    flat, ptr = m.indices.tolist(), m.indptr.tolist()  # list slices: ~10x faster than np.split
    tracts = [flat[a:b] for a, b in zip(ptr[:-1], ptr[1:], strict=True)]
    # pyfim 6.28 never reports an item that is in every transaction (nor, so, any set of such
    # items): it treats them as perfect extensions of the empty set. One empty transaction
    # makes no item universal and changes no absolute count.
    tracts.append([])
    # negative supp = absolute minimum count: no percentage rounding inside pyfim
    limit = {} if max_len is None else {"zmax": int(max_len)}
    found = fim.fpgrowth(tracts, target="s", supp=-count, zmin=1, report="a", **limit)
    sets = [tuple(sorted(int(i) for i in s)) for s, _ in found]
    counts = np.array([c for _, c in found], dtype=np.int64)
    return sets, counts


# config name (rules.engine) -> (baskets x frequent items, min count, max_len) -> (sets, counts)
ENGINES: dict[
    str, Callable[[sp.csr_matrix, int, int | None], tuple[list[tuple[int, ...]], np.ndarray]]
] = {
    "fpgrowth": _engine_fpgrowth,
    "apriori": _engine_apriori,
    "fim": _engine_fim,
}


def _item_counts(b: Baskets) -> np.ndarray:
    return np.bincount(b.matrix.indices, minlength=len(b.items))


def _fmt(s: float) -> str:
    return f"{s:.12g}"


def _suggest(threshold: int, n: int) -> float:
    """The shortest decimal support whose integer threshold is exactly `threshold`.

    Supports in ((threshold - 1) / n, threshold / n] all give that threshold; the smallest
    readable one is the lower end rounded up to as few significant digits as still land inside.
    """
    if threshold > n:
        return 1.0
    if threshold <= 1:
        return float(_fmt(1 / n))
    lo = (threshold - 1) / n
    for digits in range(1, 17):
        scale = 10.0 ** (digits - 1 - math.floor(math.log10(lo)))
        s = math.ceil(lo * scale) / scale
        if min_count(s, n) < threshold:
            s = (math.ceil(lo * scale) + 1) / scale
        if min_count(s, n) == threshold:
            return min(float(f"{s:.{digits}g}"), 1.0)
    return threshold / n


def _pair_counts(b: Baskets, count: int) -> np.ndarray | None:
    """Counts of every co-occurring pair of frequent items (None: too costly to count).

    X^T X over the frequent columns only; its cost is the sum of squared basket sizes.
    """
    freq = np.flatnonzero(_item_counts(b) >= count)
    xf = b.matrix[:, freq]
    per_basket = np.diff(xf.indptr).astype(np.float64)
    if float((per_basket**2).sum()) > PAIR_WORK_LIMIT:
        return None
    xf = xf.astype(np.int32)
    co = sp.triu(xf.T @ xf, k=1).tocoo()
    return np.asarray(co.data, dtype=np.int64)


def _too_many_items(b: Baskets, min_support: float, limit: int) -> MiningTooLarge:
    """Suggest the support at which the frequent items alone bound the pairs by `limit`."""
    desc = np.sort(_item_counts(b))[::-1]
    n_items = int((desc >= min_count(min_support, b.n_baskets)).sum())
    fit = (1 + math.isqrt(1 + 8 * limit)) // 2  # the most items f with f (f - 1) / 2 <= limit
    threshold = int(desc[fit]) + 1 if fit < len(desc) else 1
    s = _suggest(threshold, b.n_baskets)
    return MiningTooLarge(
        f"rules.min_support={_fmt(min_support)} is too low for {b.n_baskets:,} baskets: "
        f"{n_items:,} frequent items, too many to count their pairs cheaply; "
        f"try rules.min_support={_fmt(s)} or higher (at most {fit:,} frequent items, so at most "
        f"{limit:,} pairs), or raise rules.max_itemsets",
        n_items,
        None,
        s,
    )


def estimate_itemsets(b: Baskets, min_support: float) -> tuple[int, int]:
    """(frequent items, frequent pairs) at this support, counted exactly.

    Raises MiningTooLarge when the frequent items are so many that even counting their pairs is
    too costly (see PAIR_WORK_LIMIT); the suggestion then assumes the default rules.max_itemsets.
    """
    _check_support(min_support)
    count = min_count(min_support, b.n_baskets)
    pairs = _pair_counts(b, count)
    if pairs is None:
        raise _too_many_items(b, min_support, int(DEFAULTS["max_itemsets"]) // 10)
    return int((_item_counts(b) >= count).sum()), int((pairs >= count).sum())


def _guard(b: Baskets, min_support: float, max_itemsets: int) -> None:
    """Raise MiningTooLarge when the frequent pairs alone exceed max_itemsets // 10.

    Pairs are the cheapest level that shows an explosion coming, and they bound the work of
    every engine's first join; larger itemsets are not estimated.
    """
    limit = max(int(max_itemsets) // 10, 1)
    n = b.n_baskets
    count = min_count(min_support, n)
    f = int((_item_counts(b) >= count).sum())
    if f * (f - 1) // 2 <= limit:
        return  # not even every pair of frequent items could exceed the limit
    pairs = _pair_counts(b, count)
    if pairs is None:
        raise _too_many_items(b, min_support, limit)
    frequent = np.sort(pairs[pairs >= count])[::-1]
    if len(frequent) <= limit:
        return
    # at most `limit` pairs lie strictly above the (limit + 1)-th largest pair count
    s = _suggest(int(frequent[limit]) + 1, n)
    raise MiningTooLarge(
        f"rules.min_support={_fmt(min_support)} is too low for {n:,} baskets: {f:,} frequent "
        f"items and {len(frequent):,} frequent pairs, over the limit of {limit:,} pairs "
        f"(rules.max_itemsets // 10); try rules.min_support={_fmt(s)} or higher "
        f"(the smallest support with at most {limit:,} frequent pairs), "
        f"or raise rules.max_itemsets",
        f,
        len(frequent),
        s,
    )


def _empty_itemsets() -> pd.DataFrame:
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
    max_len: int | None = None,
    engine: str = "fpgrowth",
    max_itemsets: int = 2_000_000,
) -> pd.DataFrame:
    """Itemsets in at least ceil(min_support * baskets) baskets: itemsets, support, count.

    Only the frequent items' columns reach the engine (nothing else can be in a frequent
    itemset), which keeps mlxtend's internal dense copies to baskets x frequent items.
    Sorted by support (descending), then by the sorted item labels, whatever the engine.
    """
    if engine not in ENGINES:
        raise ValueError(f"rules.engine: unknown engine {engine!r}; one of {list(ENGINES)}")
    _check_support(min_support)
    if max_len is not None and int(max_len) < 1:
        raise ValueError(f"rules.max_len: {max_len} must be at least 1 (or null for no limit)")
    n = b.n_baskets
    if n == 0:
        return _empty_itemsets()
    count = min_count(min_support, n)
    if max_len is None or max_len >= 2:
        _guard(b, min_support, max_itemsets)
    freq = np.flatnonzero(_item_counts(b) >= count)
    if len(freq) == 0:
        return _empty_itemsets()
    t0 = time.perf_counter()
    sets, counts = ENGINES[engine](
        b.matrix[:, freq], count, None if max_len is None else int(max_len)
    )
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

    Measures come from the itemset counts (every subset of a frequent itemset is frequent, so
    no recount): confidence = s(AC)/s(A), lift = confidence/s(C), leverage = s(AC) - s(A)s(C),
    conviction = (1 - s(C))/(1 - confidence) (inf at confidence 1), Zhang's metric =
    leverage / max(s(AC)(1 - s(A)), s(A)(s(C) - s(AC))) (0 when that is 0, as mlxtend),
    jaccard = s(AC)/(s(A) + s(C) - s(AC)). Sorted by lift, confidence, support (descending),
    then antecedent and consequent.
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
    scope: str, n_baskets: int, cfg: Mapping[str, Any], itemsets: Callable[[], pd.DataFrame]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One scope's rules (and its itemsets) from the itemsets `itemsets()` finds, with any
    engine, local or Spark: an explosion names its scope, and rules carry it (`segment`)."""
    try:
        sets = itemsets()
    except MiningTooLarge as exc:
        raise MiningTooLarge(
            f"scope {scope!r}: {exc}", exc.items, exc.pairs, exc.suggested_support
        ) from exc
    rules = association_rules(
        sets,
        n_baskets,
        min_confidence=float(cfg["min_confidence"]),
        min_lift=float(cfg["min_lift"]),
        prune_redundant=bool(cfg["prune_redundant"]),
    )
    rules.insert(0, "segment", scope)
    rules["n_baskets"] = n_baskets
    return rules, sets


def _scope_rules(b: Baskets, scope: str, cfg: Mapping[str, Any]) -> pd.DataFrame:
    t0 = time.perf_counter()
    rules, sets = scope_rules(scope, b.n_baskets, cfg, lambda: frequent_itemsets(
        b, float(cfg["min_support"]), max_len=cfg["max_len"], engine=str(cfg["engine"]),
        max_itemsets=int(cfg["max_itemsets"]),
    ))  # fmt: skip
    sizes = sets["itemsets"].map(len).value_counts().sort_index().to_dict() if len(sets) else {}
    log.info(
        "rules[%s]: %s baskets, %s items, %s itemsets %s, %s rules, %.2f s (%s)",
        scope, f"{b.n_baskets:,}", f"{int((_item_counts(b) > 0).sum()):,}", f"{len(sets):,}",
        {int(k): int(v) for k, v in sizes.items()}, f"{len(rules):,}",
        time.perf_counter() - t0, cfg["engine"],
    )  # fmt: skip
    return rules


def mine(
    b: Baskets, segments: pd.Series | None, cfg: Mapping[str, Any]
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Rules overall ('all') and per segment, each scope's support relative to its own baskets.

    `segments` maps customer_id -> segment label (int; -1, unassigned, is a scope of its own);
    customers it does not list count only in 'all'. Segments with fewer than `min_baskets`
    baskets are skipped: their supports would rest on a handful of baskets. Returns the rules
    with columns segment, the rule columns, n_baskets, and the mining seconds per scope.
    """
    cfg = {k: v if cfg.get(k) is None else cfg.get(k) for k, v in DEFAULTS.items()}
    cfg["max_len"] = None if cfg["max_len"] is None else int(cfg["max_len"])
    scopes: list[tuple[str, Baskets]] = [("all", b)]
    if segments is not None:
        seg = pd.Series(segments)
        seg.index = seg.index.astype("str")
        per_basket = b.keys["customer_id"].astype("str").map(seg).to_numpy(dtype="float64")
        for label in sorted(pd.unique(seg.dropna()).astype(int)):
            mask = per_basket == label
            n = int(mask.sum())
            if n < int(cfg["min_baskets"]):
                log.info(
                    "rules[%s]: skipped, %s baskets < rules.min_baskets=%s",
                    label, n, cfg["min_baskets"],
                )  # fmt: skip
                continue
            scopes.append((str(label), b.subset(mask)))
    parts, seconds = [], {}
    for scope, sub in scopes:
        t0 = time.perf_counter()
        parts.append(_scope_rules(sub, scope, cfg))
        seconds[scope] = time.perf_counter() - t0
    rules = pd.concat(parts, ignore_index=True)
    rules["segment"] = rules["segment"].astype("str")
    return rules, seconds
