"""The recommendations frame every recommender returns, and the top-k selection behind it.

Keeping the contract in one place (columns RECS_COLUMNS, at most k rows per customer, never an
item the customer already bought, ties broken by item id) is what makes recommenders
comparable and blendable. Rows are selected on integer codes and labels (and reasons) are
turned into strings once, for the rows that survive top-k: at a million customers that is the
difference between seconds and many minutes of per-row Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from custseg.recommend.codes import STR, labels_of
from custseg.recommend.history import History, as_history
from custseg.recommend.kernels import in_recs_order, rank_within

RECS_COLUMNS: tuple[str, ...] = ("customer_id", "item", "score", "source", "reason")
CHUNK = 4_000_000  # candidate rows handled at once by top_unseen: bounds its memory


def empty_recs() -> pd.DataFrame:
    """A recs frame with no rows but the contract's columns and dtypes, so "nothing to
    recommend" concatenates, blends and evaluates like any other answer."""
    return pd.DataFrame(
        {
            "customer_id": pd.Series(dtype="str"),
            "item": pd.Series(dtype="str"),
            "score": pd.Series(dtype="float64"),
            "source": pd.Series(dtype="str"),
            "reason": pd.Series(dtype="str"),
        }
    )


def head(recs: pd.DataFrame, k: int) -> pd.DataFrame:
    """Lists (rows by customer, best first) cut to their first k: a source's top k is the
    head of its top K, so one long answer serves every shorter length."""
    if recs.empty:
        return recs
    keep = rank_within(pd.Categorical(recs["customer_id"]).codes) < k
    return recs if keep.all() else recs[keep].reset_index(drop=True)


TEXT = ("customer_id", "item", "source", "reason")  # a recs frame's text columns


def as_categorical(s: pd.Series) -> pd.Categorical:
    """A text column as a categorical of str (recommenders' columns already are)."""
    if isinstance(s.dtype, pd.CategoricalDtype) and pd.api.types.is_string_dtype(s.cat.categories):
        return s.array  # type: ignore[return-value]
    return pd.Categorical(s.astype("str"))


def joined(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Recs frames one after another in one frame (columns of the first, in its dtypes): text
    columns joined as categoricals with sorted categories, codes rather than strings."""
    first = frames[0]
    out = {}
    for c in first.columns:
        if c in TEXT:
            out[c] = union_categoricals([as_categorical(f[c]) for f in frames],
                                        sort_categories=True, ignore_order=True)  # fmt: skip
        else:
            out[c] = np.concatenate([f[c].to_numpy(dtype=first[c].dtype) for f in frames])
    return pd.DataFrame(out, columns=first.columns)


def str_take(labels: pd.Index | list[str], codes: np.ndarray) -> pd.Categorical:
    """labels[codes] (-1: missing) as a categorical of str: each distinct string is stored once
    and rows hold small integer codes. At a million customers x 10 recommendations a string
    column costs 0.2-1 GB (the reasons most), a categorical 10-40 MB, and Parquet stores it
    dictionary-encoded. The categories are the used labels, sorted, so equal values always
    make equal columns whichever way they were computed."""
    cats = pd.Index(list(labels) if isinstance(labels, list) else labels, dtype=STR)
    codes = np.asarray(codes, dtype=np.int64)
    known = codes >= 0
    used = np.bincount(codes[known], minlength=len(cats)) > 0
    if not used.all():
        codes = np.where(known, np.cumsum(used)[np.maximum(codes, 0)] - 1, -1)
        cats = cats[used]
    if not (cats.is_monotonic_increasing and cats.is_unique):
        remap, cats = pd.factorize(cats, sort=True)
        codes = np.where(known, remap[np.maximum(codes, 0)], -1)
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(pd.Index(cats, dtype=STR)))


def recs_from_codes(
    cust: np.ndarray,
    customers: pd.Index,
    item: np.ndarray,
    items: pd.Index,
    score: np.ndarray,
    source: str,
    reason: np.ndarray,
    reasons: pd.Index | list[str],
    k: int,
) -> pd.DataFrame:
    """The recs frame from codes: top-k per customer in contract order, strings taken last.

    `customers` and `items` must be sorted labels (codes in label order), so ordering by codes
    is ordering by labels.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if len(cust) == 0:
        return empty_recs()
    score = np.asarray(score, dtype=np.float64)
    order = in_recs_order(cust, score, item)
    cust, item, score, reason = cust[order], item[order], score[order], reason[order]
    keep = rank_within(cust) < k
    cust, item, score, reason = cust[keep], item[keep], score[keep], reason[keep]
    return pd.DataFrame(
        {
            "customer_id": str_take(customers, cust),
            "item": str_take(items, item),
            "score": score,
            "source": str_take([source], np.zeros(len(cust), dtype=np.int64)),
            "reason": str_take(reasons, reason),
        }
    )


def top_k(recs: pd.DataFrame, k: int) -> pd.DataFrame:
    """Order by customer, score desc, item id (the deterministic tie-break) and keep k each."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    cust, _ = pd.factorize(recs["customer_id"].astype("str"), sort=True)
    item, _ = pd.factorize(recs["item"].astype("str"), sort=True)
    score = recs["score"].to_numpy(dtype=np.float64, na_value=np.nan)
    order = in_recs_order(cust, score, item)
    keep = order[rank_within(cust[order]) < k]
    return recs.iloc[keep].reset_index(drop=True)


def finish(recs: pd.DataFrame, k: int) -> pd.DataFrame:
    """Cast to the recs contract and apply top-k; the last step of every recommender."""
    if recs.empty:
        return empty_recs()
    out = recs[list(RECS_COLUMNS)].astype(
        {"customer_id": "str", "item": "str", "score": "float64", "source": "str", "reason": "str"}
    )
    return top_k(out, k)


def unseen_positions(
    group: np.ndarray,
    ranking_cols: np.ndarray,
    customer_group: np.ndarray,
    customer_rows: np.ndarray,
    history: History,
    k: int,
) -> tuple[np.ndarray, np.ndarray]:
    """For each customer, the first k rows of its group's ranking it has not bought.

    `group` (per ranking row, a code) and `ranking_cols` (per ranking row, the item's column in
    `history`, -1 if unknown) describe the ranking, in preference order within a group;
    `customer_group` and `customer_rows` (row in `history`, -1 if absent) the customers.
    Customer c needs at most the first k + |history of c| rows of its group, so those candidate
    positions are laid out at once (repeat/cumsum, a chunk of customers at a time), bought ones
    dropped by key lookup, and the first k kept: no loop over customers.
    Returns (customer index, ranking row) pairs, by customer then preference.
    """
    n_groups = int(group.max(initial=-1)) + 1
    if n_groups == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = np.argsort(group, kind="stable")
    size = np.bincount(group, minlength=n_groups)
    start = np.cumsum(size) - size
    valid = customer_group >= 0
    known = customer_rows >= 0
    seen = np.zeros(len(customer_rows), dtype=np.int64)
    seen[known] = history.sizes()[customer_rows[known]]
    need = np.where(valid, np.minimum(k + seen, size[np.maximum(customer_group, 0)]), 0)
    ends = np.cumsum(need)
    out_c, out_r = [], []
    lo = 0
    while lo < len(need):
        base = ends[lo] - need[lo]  # candidates before this chunk
        hi = max(int(np.searchsorted(ends, base + CHUNK, side="right")), lo + 1)
        cust = np.repeat(np.arange(lo, hi), need[lo:hi])
        first = np.repeat(ends[lo:hi] - need[lo:hi] - base, need[lo:hi])  # customer's 1st row
        pos = order[start[customer_group[cust]] + np.arange(len(cust)) - first]
        fresh = ~history.contains(customer_rows[cust], ranking_cols[pos])
        taken = np.cumsum(fresh)  # fresh rows so far, minus those of earlier customers:
        rank = taken - np.where(first > 0, taken[np.maximum(first - 1, 0)], 0)
        keep = fresh & (rank <= k)
        out_c.append(cust[keep])
        out_r.append(pos[keep])
        lo = hi
    if not out_c:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(out_c), np.concatenate(out_r)


def top_unseen(
    ranking: pd.DataFrame,
    group_of: pd.Series,
    history: Mapping[str, Iterable[str]],
    k: int,
) -> pd.DataFrame:
    """The first k items of each customer's group ranking that the customer has not bought.

    `ranking` has columns group, item and any payload, already in preference order within a
    group; `group_of` maps customers to groups. Rows come back by customer (in `group_of`
    order) then preference, with the customer in a leading customer_id column.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    hist = as_history(history)
    ranking = ranking.reset_index(drop=True)
    group, groups = labels_of(ranking["group"])
    cols = hist.item_labels.get_indexer(ranking["item"].astype("str"))
    cust_group = groups.get_indexer(group_of.astype("str").to_numpy())
    customers = pd.Index(group_of.index).astype("str")
    cust_rows = hist.customers.get_indexer(customers)
    which, rows = unseen_positions(group, cols, cust_group, cust_rows, hist, k)
    out = ranking.iloc[rows].reset_index(drop=True)
    out.insert(0, "customer_id", pd.array(customers.take(which), dtype=STR))
    return out
