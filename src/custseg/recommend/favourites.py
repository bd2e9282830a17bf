"""Popularity baselines: what the customer's segment buys most, and what everyone buys most.

Segment favourites are the simplest use of a segmentation for cross-sell, and global popularity
is the baseline any smarter recommender has to beat; both rank items by how many distinct
customers bought them (not units, so one bulk buyer cannot make an item "popular").

Buyers may be given as transactions or as a ready History (the pipeline builds one per window
and passes it everywhere, instead of re-reading millions of lines per recommender).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np
import pandas as pd

from custseg.recommend.codes import labels_of
from custseg.recommend.frame import empty_recs, recs_from_codes, unseen_positions
from custseg.recommend.history import History, as_history
from custseg.recommend.segments import segment_codes

Buyers = pd.DataFrame | History


def _buyers(tx: Buyers, item: str) -> History:
    """Distinct (customer, item) purchases: a History, from transactions or as given."""
    return tx if isinstance(tx, History) else History.from_transactions(tx, item)


def _ranking(buyers: History, group: np.ndarray, groups: pd.Index) -> pd.DataFrame:
    """Share of each group's customers who bought each item, best first, ties by item id.

    `group` is each buyer row's group code (-1: none); counts are one bincount over
    group x item keys, so the work is proportional to the purchases, not the customers.
    """
    n_items = len(buyers.item_labels)
    rows, cols = buyers.pairs()
    g = group[rows]
    ok = g >= 0
    counts = np.bincount(g[ok] * n_items + cols[ok], minlength=len(groups) * n_items)
    bought = buyers.sizes() > 0
    size = np.bincount(group[bought & (group >= 0)], minlength=len(groups))
    key = np.flatnonzero(counts)
    g_code, i_code = key // n_items, key % n_items
    buyers_n = counts[key].astype(np.int64)
    score = buyers_n / size[g_code]
    order = np.lexsort((i_code, -score, g_code))  # labels sorted, so codes sort like labels
    return pd.DataFrame(
        {
            "group": groups.take(g_code[order]),
            "item": buyers.item_labels.take(i_code[order]),
            "buyers": buyers_n[order],
            "score": score[order],
        }
    ).reset_index(drop=True)


def segment_ranking(
    tx: Buyers, segment_of: pd.Series, item: str = "product_id", top: int | None = None
) -> pd.DataFrame:
    """Each segment's items by share of its customers who bought them (group, item, buyers,
    score), optionally cut to the `top` per segment: small enough to ship inside a model."""
    buyers = _buyers(tx, item)
    group, groups = segment_codes(segment_of, buyers.customers)
    ranking = _ranking(buyers, group, groups)
    if top is not None:
        ranking = ranking.groupby("group", sort=False).head(top).reset_index(drop=True)
    return ranking


def _segment_reason(group: str, share: float) -> str:
    return f"popular in segment {group} ({share:.0%} of its customers bought it)"


def _overall_reason(group: str, share: float) -> str:
    return f"popular overall ({share:.0%} of customers bought it)"


def _from_ranking(
    ranking: pd.DataFrame,
    hist: History,
    customer_group: np.ndarray,
    group_codes: np.ndarray,
    source: str,
    reason: Callable[[str, float], str],
    k: int,
) -> pd.DataFrame:
    """Top-k unseen ranking items for each history customer (of group `customer_group`, -1:
    none); one reason text per ranking row, taken by the rows that survive."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    ranking = ranking.reset_index(drop=True)
    r_items = ranking["item"].astype("str")
    cols = hist.item_labels.get_indexer(r_items)
    customers = np.arange(len(hist))
    which, pos = unseen_positions(group_codes, cols, customer_group, customers, hist, k)
    item_code, items = labels_of(r_items)
    scores = ranking["score"].to_numpy(dtype=np.float64)
    texts = [reason(g, s) for g, s in zip(ranking["group"].astype("str"), scores, strict=True)]
    return recs_from_codes(
        which, hist.customers, item_code[pos], items, scores[pos], source, pos, texts, k
    )


def from_ranking(
    ranking: pd.DataFrame,
    history: Mapping[str, Iterable[str]],
    segment_of: pd.Series,
    k: int = 10,
) -> pd.DataFrame:
    """Favourites of each customer's segment, from a ranking made earlier (e.g. at training)."""
    if ranking.empty:
        return empty_recs()
    hist = as_history(history)
    group_codes, groups = labels_of(ranking["group"])
    seg, seg_labels = segment_codes(segment_of, hist.customers)
    customer_group = np.where(seg >= 0, groups.get_indexer(seg_labels)[np.maximum(seg, 0)], -1)
    return _from_ranking(
        ranking, hist, customer_group, group_codes, "favourite", _segment_reason, k
    )


def recommend(
    tx: Buyers,
    history: Mapping[str, Iterable[str]],
    segment_of: pd.Series,
    k: int = 10,
    item: str = "product_id",
) -> pd.DataFrame:
    """Each customer's segment's most widely bought items that the customer does not have yet.

    Recommends for the customers in `history` (an empty set is a customer with no purchases);
    popularity is counted over the segment's customers that appear in `tx` (transactions or
    their History). Customers without a segment get nothing here (blend with `popular`).
    """
    return from_ranking(segment_ranking(tx, segment_of, item), history, segment_of, k)


def popular_ranking(tx: Buyers, item: str = "product_id") -> pd.DataFrame:
    """Every item by the share of all customers who bought it (group "all"), best first."""
    buyers = _buyers(tx, item)
    return _ranking(buyers, np.zeros(len(buyers), dtype=np.int64), pd.Index(["all"]))


def popular_from_ranking(
    ranking: pd.DataFrame, history: Mapping[str, Iterable[str]], k: int = 10
) -> pd.DataFrame:
    """The most widely bought items (from a ranking made earlier), for every customer in
    `history`, skipping what each already has."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if ranking.empty:
        return empty_recs()
    hist = as_history(history)
    everyone = np.zeros(len(hist), dtype=np.int64)
    one_group = np.zeros(len(ranking), dtype=np.int64)
    return _from_ranking(ranking, hist, everyone, one_group, "popular", _overall_reason, k)


def popular(
    tx: Buyers,
    history: Mapping[str, Iterable[str]],
    k: int = 10,
    item: str = "product_id",
) -> pd.DataFrame:
    """The global baseline: the most widely bought items, for every customer in `history`."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    return popular_from_ranking(popular_ranking(tx, item), history, k)
