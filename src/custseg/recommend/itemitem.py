"""The item-to-item recommender's machinery, shared by every model that scores an item by its
learned relation to the items a customer has (basket similarity, SAR, EASE).

A model is an items x items weight matrix W (sparse top-n neighbours, or dense); a customer's
scores are its history row times W. Recommending scores customers a block at a time (a dense
block of customers x items sized to a memory budget), finds each row's k-th best score with a
partition and sorts only the few candidates at or above it; reasons name the history item that
contributes most, looked up on integer (history item, item) pairs, each distinct text formatted
once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp

from custseg.recommend.frame import empty_recs, recs_from_codes
from custseg.recommend.history import as_history
from custseg.recommend.kernels import order_in_runs, unique_inverse

DENSE_LOOKUP = 2**24  # items x items up to which similarities are found via a dense int32 table
DENSE_PRODUCT = 1024  # up to this many items, history x similarity is a sparse x dense product
BLOCK_BYTES = 8 * 2**20  # dense score block per step: bounds memory whatever the customers


def _top_dense(
    dense: np.ndarray, n: int, label_rank: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, col, value) of each row's n largest positive values; ties go to the smaller label.

    Only entries at or above a cheap lower bound of each row's n-th value are sorted: far
    cheaper than sorting whole rows. Zeros are absent entries (similarities are positive).
    """
    keep = dense > 0
    if n < dense.shape[1]:
        keep &= dense >= _floor_of_top(dense, n)[:, None]
    rows, cols = np.nonzero(keep)  # by row, then column
    if np.any(np.diff(label_rank) < 0):  # columns not in label order: put them in it
        by_label = np.argsort(rows * dense.shape[1] + label_rank[cols])
        rows, cols = rows[by_label], cols[by_label]
    vals = dense[rows, cols]
    top = order_in_runs(rows, vals, n)  # score desc; ties keep label order
    return rows[top].astype(np.int64), cols[top].astype(np.int64), vals[top]


def _floor_of_top(dense: np.ndarray, n: int) -> np.ndarray:
    """Per row, a value no larger than its n-th largest: the n-th largest of the maxima of
    column chunks (n chunk maxima are n distinct entries at least that large). One max-reduce
    pass and a partition of a few columns, instead of partitioning the whole row."""
    width = dense.shape[1]
    chunk = width // (4 * n)
    if chunk < 4:  # rows barely longer than n: partition them whole
        return np.partition(dense, width - n, axis=1)[:, width - n]
    maxima = np.maximum.reduceat(dense, np.arange(0, width, chunk), axis=1)
    return np.partition(maxima, maxima.shape[1] - n, axis=1)[:, maxima.shape[1] - n]


def distinct_rows(m: sp.csr_matrix) -> tuple[sp.csr_matrix, np.ndarray]:
    """The distinct rows of `m` (sorted indices) and, per row of `m`, its distinct row.

    Rows are grouped by a 64-bit hash of their entries, then checked entry for entry against
    their group's first row: if any hash collided, `m` is returned as it is (each row its own),
    so grouping can never hand a customer another customer's list.
    """
    weights = np.random.default_rng(0).integers(1, 2**63, size=m.shape[1], dtype=np.uint64)
    cum = np.zeros(m.nnz + 1, dtype=np.uint64)
    np.cumsum(weights[m.indices], dtype=np.uint64, out=cum[1:])  # wraps: exact modulo 2**64
    owner = pd.factorize(cum[m.indptr[1:]] - cum[m.indptr[:-1]])[0]
    first = np.full(owner.max(initial=-1) + 1, len(owner), dtype=np.int64)
    np.minimum.at(first, owner, np.arange(len(owner)))
    if len(first) == m.shape[0]:
        return m, np.arange(m.shape[0])
    if (m != m[first[owner]]).nnz:  # a hash collision: do not group
        return m, np.arange(m.shape[0])
    return m[first], owner


def shared_picks(
    picks: list[np.ndarray], owner: np.ndarray, n_distinct: int
) -> list[np.ndarray]:
    """Picks made for distinct rows (first array: the distinct row, ascending), repeated for
    every row that owns it: (row, *the other arrays), by row."""
    at = picks[0]
    count = np.bincount(at, minlength=n_distinct)
    start = np.cumsum(count) - count
    lengths = count[owner]
    first = np.repeat(start[owner] - (np.cumsum(lengths) - lengths), lengths)
    take = first + np.arange(len(first))
    return [np.repeat(np.arange(len(owner)), lengths), *(p[take] for p in picks[1:])]


def _row_step(width: int) -> int:
    """Rows of a dense float64 block of this width that fit BLOCK_BYTES."""
    return max(1, BLOCK_BYTES // (8 * max(width, 1)))


class ItemItem:
    """Recommends by summed weight to the history's items; subclasses learn the weights."""

    source = "similarity"  # the recommender's name in recs frames
    decayed = False  # score from the time-decayed affinity (True) or from bought/not bought

    def __init__(self) -> None:
        self.items: np.ndarray = np.array([], dtype=object)
        self.similarity: sp.csr_matrix | np.ndarray = sp.csr_matrix((0, 0))
        self._label_rank: np.ndarray = np.array([], dtype=np.int64)
        self._table: np.ndarray | None = None  # finds stored pairs: dense positions or keys

    def _learned(self, items: np.ndarray, weights: sp.csr_matrix | np.ndarray) -> None:
        """Store the item labels and the learned items x items weights."""
        self.items = np.asarray(items, dtype=object).astype(str).astype(object)
        label_rank = np.empty(self.items.size, dtype=np.int64)
        label_rank[np.argsort(self.items.astype(str), kind="stable")] = np.arange(self.items.size)
        self._label_rank = label_rank
        self.similarity = weights
        self._table = None

    def _describe(self, item: str, value: float) -> str:
        """The reason shown for a pick driven by history item `item` with weight `value`."""
        return f"similar to {item} ({value:.2f})"

    def _nnz(self) -> int:
        w = self.similarity
        return int(w.nnz) if sp.issparse(w) else int(np.count_nonzero(w))

    def recommend(self, history: Mapping[str, Iterable[str]], k: int = 10) -> pd.DataFrame:
        """Score each unseen item by its summed similarity to the customer's history items.

        The sum is the sparse product H @ S, a block of customers at a time; the reason names
        the single history item that contributes most.
        """
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        hist = as_history(history)
        dense = isinstance(self.similarity, np.ndarray)  # multiply in its own precision
        dtype = self.similarity.dtype.type if dense else np.float64
        h = hist.columns_in(pd.Index(self.items, dtype="str"), dtype, decayed=self.decayed)
        if h.nnz == 0 or self._nnz() == 0:
            return empty_recs()
        owner = None
        if not self.decayed:  # customers with the same items get the same list: score it once
            h, owner = distinct_rows(h)
        rows, cols, vals, reasons = [], [], [], []
        step = _row_step(self.items.size)
        # a small catalogue's similarities multiply faster dense (same sums, in the same order)
        sim = self.similarity
        if sp.issparse(sim) and self.items.size <= DENSE_PRODUCT:
            sim = sim.toarray()
        for start in range(0, h.shape[0], step):
            block = h[start : start + step]
            if block.nnz == 0:
                continue
            scores = block @ sim
            scores = scores if isinstance(scores, np.ndarray) else scores.toarray()
            bought = block.nonzero()
            scores[bought] = 0.0  # never recommend what the customer has
            r, c, v = _top_dense(scores, k, self._label_rank)
            reasons.append(self._best_sources(block, r, c))
            rows.append(r + start)
            cols.append(c)
            vals.append(v)
        if not rows:
            return empty_recs()
        picks = [np.concatenate(rows), np.concatenate(cols), np.concatenate(vals),
                 np.concatenate(reasons)]  # fmt: skip
        if owner is not None:
            picks = shared_picks(picks, owner, h.shape[0])
        row_all, cols_all, vals_all, reasons_all = picks
        code, texts = self._reason_texts(reasons_all, cols_all)
        labels = pd.Index(self.items[np.argsort(self._label_rank)].astype(str), dtype="str")
        return recs_from_codes(
            row_all, hist.customers, self._label_rank[cols_all], labels, vals_all, self.source,
            code, texts, k,
        )  # fmt: skip

    def _best_sources(self, block: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """For each picked (customer row, item): the history item with the highest similarity
        to it (ties: smaller label). Expands each pick over the customer's own items only and
        reduces each pick's run: a max, then the smallest label among the maxima."""
        if len(rows) == 0:
            return np.zeros(0, dtype=np.int64)
        lengths = np.diff(block.indptr)[rows]  # >= 1: a picked item has a positive score
        starts = np.cumsum(lengths) - lengths
        pick = np.repeat(np.arange(len(rows)), lengths)
        src = block.indices[block.indptr[rows[pick]] + np.arange(len(pick)) - starts[pick]]
        sim = self._lookup(src.astype(np.int64), cols[pick])
        top = np.maximum.reduceat(sim, starts)
        rank = np.where(sim == top[pick], self._label_rank[src], len(self.items))
        best_rank = np.minimum.reduceat(rank, starts)
        by_rank = np.argsort(self._label_rank)
        return by_rank[best_rank].astype(np.int64)

    def _lookup(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Stored similarity of (row item, col item) pairs, 0 where none was kept: through a
        dense items x items table of positions when that is small, else by binary search in
        the sorted pair keys."""
        s = self.similarity
        if isinstance(s, np.ndarray):
            return s[rows, cols].astype(np.float64)
        if self._table is None:
            keys = np.repeat(np.arange(s.shape[0]), np.diff(s.indptr)) * s.shape[1] + s.indices
            if s.shape[0] * s.shape[1] <= DENSE_LOOKUP:
                self._table = np.full(s.shape, -1, dtype=np.int32)
                self._table.ravel()[keys] = np.arange(len(keys), dtype=np.int32)
            else:
                self._table = keys
        if self._table.ndim == 2:
            at = self._table[rows, cols]
            return np.where(at >= 0, s.data[at], 0.0)
        q = rows * s.shape[1] + cols
        if len(self._table) == 0:
            return np.zeros(len(q))
        at = np.minimum(np.searchsorted(self._table, q), len(self._table) - 1)
        return np.where(self._table[at] == q, s.data[at], 0.0)

    def _reason_texts(self, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """One text per distinct (history item, recommended item) pair, and each pick's code."""
        n = self.items.size
        uniq, code = unique_inverse(src * n + dst, n * n)
        sims = self._lookup(uniq // n, uniq % n)
        texts = [self._describe(self.items[i], v) for i, v in zip(uniq // n, sims, strict=True)]
        return code, texts
