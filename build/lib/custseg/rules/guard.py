"""The size guard: refuse a support whose itemsets would not fit, before any engine runs.

Every engine's memory grows with the candidate itemsets, and a support a little too low turns
seconds into an out-of-memory kill an hour later. Frequent pairs are the cheapest level that
shows such an explosion coming, so the guard counts them exactly (a sparse X^T X over the
frequent items) and fails fast with the smallest support that fits. The integer threshold all
engines share (`min_count`) lives here too: the guard and the engines must agree on it.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from custseg.rules.baskets import Baskets

# Above this many multiply-adds (sum over baskets of frequent items squared) the exact pair count
# is itself too costly, and the guard falls back to a bound from the item counts alone.
PAIR_WORK_LIMIT = 200_000_000


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


def check_support(min_support: float) -> None:
    """Refuse a support outside (0, 1] with the config key's name, before any counting."""
    if not 0.0 < float(min_support) <= 1.0:
        raise ValueError(f"rules.min_support: {min_support} must lie in (0, 1]")


def item_counts(b: Baskets) -> np.ndarray:
    """Baskets per item column: what decides which items can be in a frequent itemset."""
    return np.bincount(b.matrix.indices, minlength=len(b.items))


def format_support(s: float) -> str:
    """A support as messages show it: enough digits that pasting it back gives the same value."""
    return f"{s:.12g}"


def suggest_support(threshold: int, n: int) -> float:
    """The shortest decimal support whose integer threshold is exactly `threshold`.

    Supports in ((threshold - 1) / n, threshold / n] all give that threshold; the smallest
    readable one is the lower end rounded up to as few significant digits as still land inside.
    """
    if threshold > n:
        return 1.0
    if threshold <= 1:
        return float(format_support(1 / n))
    lo = (threshold - 1) / n
    for digits in range(1, 17):
        scale = 10.0 ** (digits - 1 - math.floor(math.log10(lo)))
        s = math.ceil(lo * scale) / scale
        if min_count(s, n) < threshold:
            s = (math.ceil(lo * scale) + 1) / scale
        if min_count(s, n) == threshold:
            return min(float(f"{s:.{digits}g}"), 1.0)
    return threshold / n


def _pair_limit(max_itemsets: int) -> int:
    """rules.max_itemsets as a bound on frequent pairs: a tenth leaves room for larger sets."""
    return max(int(max_itemsets) // 10, 1)


def _pair_counts(b: Baskets, count: int) -> np.ndarray | None:
    """Counts of every co-occurring pair of frequent items (None: too costly to count).

    X^T X over the frequent columns only; its cost is the sum of squared basket sizes.
    """
    freq = np.flatnonzero(item_counts(b) >= count)
    xf = b.matrix[:, freq]
    per_basket = np.diff(xf.indptr).astype(np.float64)
    if float((per_basket**2).sum()) > PAIR_WORK_LIMIT:
        return None
    xf = xf.astype(np.int32)
    co = sp.triu(xf.T @ xf, k=1).tocoo()
    return np.asarray(co.data, dtype=np.int64)


def _too_many_items(b: Baskets, min_support: float, limit: int) -> MiningTooLarge:
    """Suggest the support at which the frequent items alone bound the pairs by `limit`."""
    desc = np.sort(item_counts(b))[::-1]
    n_items = int((desc >= min_count(min_support, b.n_baskets)).sum())
    fit = (1 + math.isqrt(1 + 8 * limit)) // 2  # the most items f with f (f - 1) / 2 <= limit
    threshold = int(desc[fit]) + 1 if fit < len(desc) else 1
    s = suggest_support(threshold, b.n_baskets)
    return MiningTooLarge(
        f"rules.min_support={format_support(min_support)} is too low for {b.n_baskets:,} "
        f"baskets: {n_items:,} frequent items, too many to count their pairs cheaply; "
        f"try rules.min_support={format_support(s)} or higher (at most {fit:,} frequent items, "
        f"so at most {limit:,} pairs), or raise rules.max_itemsets",
        n_items,
        None,
        s,
    )


def estimate_itemsets(b: Baskets, min_support: float, max_itemsets: int) -> tuple[int, int]:
    """(frequent items, frequent pairs) at this support, counted exactly.

    Raises MiningTooLarge when the frequent items are so many that even counting their pairs is
    too costly (see PAIR_WORK_LIMIT); the suggestion then keeps the pairs within what `guard`
    allows for `max_itemsets`.
    """
    check_support(min_support)
    count = min_count(min_support, b.n_baskets)
    pairs = _pair_counts(b, count)
    if pairs is None:
        raise _too_many_items(b, min_support, _pair_limit(max_itemsets))
    return int((item_counts(b) >= count).sum()), int((pairs >= count).sum())


def guard(b: Baskets, min_support: float, max_itemsets: int) -> None:
    """Raise MiningTooLarge when the frequent pairs alone exceed max_itemsets // 10.

    Pairs are the cheapest level that shows an explosion coming, and they bound the work of
    every engine's first join; larger itemsets are not estimated.
    """
    limit = _pair_limit(max_itemsets)
    n = b.n_baskets
    count = min_count(min_support, n)
    f = int((item_counts(b) >= count).sum())
    if f * (f - 1) // 2 <= limit:
        return  # not even every pair of frequent items could exceed the limit
    pairs = _pair_counts(b, count)
    if pairs is None:
        raise _too_many_items(b, min_support, limit)
    frequent = np.sort(pairs[pairs >= count])[::-1]
    if len(frequent) <= limit:
        return
    # at most `limit` pairs lie strictly above the (limit + 1)-th largest pair count
    s = suggest_support(int(frequent[limit]) + 1, n)
    raise MiningTooLarge(
        f"rules.min_support={format_support(min_support)} is too low for {n:,} baskets: {f:,} "
        f"frequent items and {len(frequent):,} frequent pairs, over the limit of {limit:,} pairs "
        f"(rules.max_itemsets // 10); try rules.min_support={format_support(s)} or higher "
        f"(the smallest support with at most {limit:,} frequent pairs), "
        f"or raise rules.max_itemsets",
        f,
        len(frequent),
        s,
    )
