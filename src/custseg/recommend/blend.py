"""Blend several recommenders' lists into one per customer.

"order" trusts sources in a fixed priority (rules first, then favourites, then popularity to
fill the gaps); "weights" lets an item that several sources agree on rise above any single
source's pick. Sources are named by their key in `frames`, which is the name the config uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from custseg.recommend.codes import labels_of
from custseg.recommend.frame import as_categorical, empty_recs, joined, str_take
from custseg.recommend.kernels import (
    first_in_runs,
    fits_int64,
    group_starts,
    in_recs_order,
    order_in_runs,
    rank_within,
)

CHUNK_ROWS = 5_000_000  # stacked rows blended at a time: bounds the temporaries at any scale


@dataclass
class _Stacked:
    """All sources' rows as codes, source after source: customers and items numbered once, in
    sorted label order, so grouping and ordering are integer work (no sort of 30M strings)."""

    cust: np.ndarray
    item: np.ndarray
    score: np.ndarray
    prio: np.ndarray  # position of the row's source in `names`
    bounds: np.ndarray  # rows of source p: bounds[p] to bounds[p + 1]
    customers: pd.Index
    items: pd.Index
    reason: np.ndarray  # each row's code into `reasons`
    reasons: pd.Index  # the distinct reasons of each source, source after source

    @classmethod
    def of(cls, frames: list[pd.DataFrame]) -> _Stacked:
        def col(name: str) -> pd.Categorical:
            # categoricals (what recommenders return) are joined on their codes: no strings
            parts = [as_categorical(f[name]) for f in frames]
            return union_categoricals(parts, sort_categories=True, ignore_order=True)

        cust, customers = labels_of(col("customer_id"))
        item, items = labels_of(col("item"))
        score = np.concatenate([f["score"].to_numpy(dtype=np.float64) for f in frames])
        sizes = [len(f) for f in frames]
        prio = np.repeat(np.arange(len(frames), dtype=np.int64), sizes)
        # reasons repeat a lot: number them per source (no copy of millions of strings)
        codes, texts, offset = [], [], 0
        for f in frames:
            c, u = pd.factorize(as_categorical(f["reason"]), use_na_sentinel=False)
            codes.append(c + offset)
            texts.append(np.asarray(u, dtype=object))
            offset += len(u)
        reasons = pd.Index(np.concatenate(texts), dtype="str")
        bounds = np.r_[0, np.cumsum(sizes)]
        return cls(cust, item, score, prio, bounds, customers, items, np.concatenate(codes),
                   reasons)  # fmt: skip

    def take(self, rows: np.ndarray) -> _Stacked:
        """These rows (ascending, so each source's rows stay together), same labels."""
        return _Stacked(self.cust[rows], self.item[rows], self.score[rows], self.prio[rows],
                        np.searchsorted(rows, self.bounds), self.customers, self.items,
                        self.reason[rows], self.reasons)  # fmt: skip

    def chunks(self, rows_per_chunk: int) -> Iterator[_Stacked]:
        """The rows in runs of whole customers, about `rows_per_chunk` rows each: every blend
        mode works customer by customer, so blending the runs one at a time gives the same
        lists with a fraction of the temporary memory."""
        n_chunks = -(-len(self.cust) // max(rows_per_chunk, 1))
        if n_chunks <= 1:
            yield self
            return
        edges = np.linspace(0, len(self.customers), n_chunks + 1).astype(np.int64)
        for lo, hi in zip(edges[:-1], edges[1:], strict=True):
            yield self.take(np.flatnonzero((self.cust >= lo) & (self.cust < hi)))

    def source(self, p: int) -> slice:
        return slice(int(self.bounds[p]), int(self.bounds[p + 1]))

    def key(self, rows: np.ndarray | slice) -> np.ndarray:
        """customer x item as one int64 per row."""
        return self.cust[rows] * max(len(self.items), 1) + self.item[rows]


BlendMode = Callable[[_Stacked, list[str], list[float], int], pd.DataFrame]


def _frame(
    st: _Stacked, rows: np.ndarray, score: np.ndarray, source: np.ndarray, sources: list[str]
) -> pd.DataFrame:
    """Blended rows, already by customer, score desc, item (`rows` index the stacked rows), as
    a ranked recs frame; strings taken last."""
    return pd.DataFrame(
        {
            "customer_id": str_take(st.customers, st.cust[rows]),
            "item": str_take(st.items, st.item[rows]),
            "score": score,
            "source": str_take(sources, source),
            "reason": str_take(st.reasons, st.reason[rows]),
            "rank": rank_within(st.cust[rows]) + 1,
        }
    )


def _positions(st: _Stacked) -> np.ndarray:
    """Each row's position in its source's own list (by customer, score desc, item)."""
    pos = np.empty(len(st.prio), dtype=np.int64)
    for p in range(len(st.bounds) - 1):
        sl = st.source(p)
        order = sl.start + in_recs_order(st.cust[sl], st.score[sl], st.item[sl])
        pos[order] = rank_within(st.cust[order])
    return pos


def _by_order(st: _Stacked, names: list[str], weights: list[float], k: int) -> pd.DataFrame:
    """Fill each list from the first source, then the next, skipping items already taken.

    Scores of different sources are not comparable, so the blended score is the list position
    mapped onto (0, 1]: 1 for rank 1 down to 1/k for rank k.
    """
    pos = _positions(st)
    n_pos, n_src = int(pos.max(initial=0)) + 1, len(names)
    if fits_int64(len(st.customers), n_src, n_pos):
        order = np.argsort((st.cust * n_src + st.prio) * n_pos + pos, kind="stable")
    else:
        order = np.lexsort((pos, st.prio, st.cust))
    rows = order[first_in_runs(st.cust[order], st.item[order])]
    rank = rank_within(st.cust[rows]) + 1
    rows, rank = rows[rank <= k], rank[rank <= k]
    return _frame(st, rows, 1.0 - (rank - 1) / k, st.prio[rows], names)


def _normalised(scores: np.ndarray, customers: np.ndarray) -> np.ndarray:
    """Scale to [0, 1] per customer by the customer's top score (min-max if any are negative),
    so a source's best item counts 1 and its last item still counts more than an absent one."""
    if len(customers) > 1 and np.all(np.diff(customers) >= 0):  # the usual: rows by customer
        starts = group_starts(customers)
        size = np.diff(np.r_[starts, len(customers)])
        hi = np.repeat(np.fmax.reduceat(scores, starts), size)
        lo = np.repeat(np.fmin.reduceat(scores, starts), size)
    else:
        g = pd.Series(scores).groupby(customers, sort=False)
        hi, lo = g.transform("max").to_numpy(), g.transform("min").to_numpy()
    lo = np.minimum(lo, 0.0)
    span = hi - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (scores - lo) / np.where(span > 0, span, np.nan)
    return np.where(np.isnan(out), 1.0, out)


def _by_customer_item(st: _Stacked, rows: np.ndarray, contribution: np.ndarray) -> np.ndarray:
    """Order of `rows` by customer, item, contribution desc, source priority.

    One integer sort on (customer, item, priority) does nearly all of it; items several sources
    agree on (a few per customer) then have their handful of rows ordered by contribution,
    row-wise in a small matrix, the priority order kept for ties.
    """
    key = st.key(rows)
    n_src = int(st.prio.max(initial=0)) + 1
    if not fits_int64(len(st.customers), len(st.items), n_src):
        return np.lexsort((st.prio[rows], -contribution, key))
    packed = key * n_src + st.prio[rows]
    order = np.argsort(packed)  # unique unless a source repeats an item: then keep row order
    if np.any(np.diff(packed[order]) == 0):
        order = np.argsort(packed, kind="stable")
    starts = group_starts(key[order])
    size = np.diff(np.r_[starts, len(order)])
    shared = size > 1
    if shared.any():
        at = np.flatnonzero(np.repeat(shared, size))  # positions (in `order`) of shared rows
        run = np.repeat(np.arange(int(shared.sum())), size[shared])
        order[at] = order[at][order_in_runs(run, contribution[order[at]])]
    return order


def _by_weights(st: _Stacked, names: list[str], weights: list[float], k: int) -> pd.DataFrame:
    """Sum weight x normalised score over the sources that recommend the same item."""
    used = [p for p, w in enumerate(weights) if w != 0 and st.bounds[p + 1] > st.bounds[p]]
    if not used:
        return empty_recs().assign(rank=pd.Series(dtype="int64"))
    parts = {p: st.source(p) for p in used}
    rows = np.concatenate([np.arange(sl.start, sl.stop) for sl in parts.values()])
    contribution = np.concatenate(
        [weights[p] * _normalised(st.score[sl], st.cust[sl]) for p, sl in parts.items()]
    )
    order = _by_customer_item(st, rows, contribution)
    rows, contribution = rows[order], contribution[order]
    starts = group_starts(st.key(rows))
    # a sum per (customer, item) in this row order: np.add.reduceat is what pandas' group sum
    # runs on sorted groups, so the floats are the ones the frame-based blend produced
    score = np.add.reduceat(contribution, starts)
    masks = np.add.reduceat(np.left_shift(1, st.prio[rows]), starts)
    mask_values = np.flatnonzero(np.bincount(masks))
    mask_code = np.searchsorted(mask_values, masks)
    labels = ["+".join(n for i, n in enumerate(names) if m >> i & 1) for m in mask_values]
    best = rows[starts]  # the biggest contribution names the reason
    keep = order_in_runs(st.cust[best], score, k)  # groups are by customer, then item
    return _frame(st, best[keep], score[keep], mask_code[keep], labels)


MODES: dict[str, BlendMode] = {"order": _by_order, "weights": _by_weights}


def blend(
    frames: Mapping[str, pd.DataFrame],
    order: list[str] | None,
    weights: Mapping[str, float] | None,
    k: int,
    mode: str | None = None,
) -> pd.DataFrame:
    """One top-k list per customer from several recommenders' lists, with a 1-based `rank`.

    `order` picks and orders the sources (all of `frames` when empty); `mode` defaults to
    "weights" when weights are given and "order" otherwise. In "weights" mode a source missing
    from `weights` is an error rather than a silent zero.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    mode = mode or ("weights" if weights else "order")
    if mode not in MODES:
        raise ValueError(f"blend.mode: unknown mode {mode!r}; one of {list(MODES)}")
    names = list(order) if order else list(frames)
    unknown = [n for n in names if n not in frames]
    if unknown:
        raise ValueError(f"blend.order names {unknown}, not among the sources {list(frames)}")
    if mode == "weights" and weights is not None:
        missing = [n for n in names if n not in weights]
        if missing:
            raise ValueError(f"blend.weights has no weight for source(s) {missing}")
    w = [float((weights or {}).get(n, 1.0)) for n in names]
    used = [frames[n] for n in names]
    if all(f.empty for f in used):
        return empty_recs().assign(rank=pd.Series(dtype="int64"))
    parts = [MODES[mode](part, names, w, k) for part in _Stacked.of(used).chunks(CHUNK_ROWS)]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return empty_recs().assign(rank=pd.Series(dtype="int64"))
    return parts[0] if len(parts) == 1 else joined(parts)
