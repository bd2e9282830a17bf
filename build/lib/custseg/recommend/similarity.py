"""Item-to-item recommendations from basket co-occurrence, in the manner of Microsoft's SAR.

Rules only cover item pairs above the mining thresholds; co-occurrence similarity scores every
pair that ever shared a basket, so it still has something to say about long-tail items. The
co-occurrence matrix C = X^T X is built a block of items at a time and cut to the top_n
neighbours per item straight away, so memory stays O(items x top_n) however dense C would be.

Recommending scores customers a block at a time (a dense block of customers x items sized to a
memory budget), finds each row's k-th best score with a partition and sorts only the few
candidates at or above it; reasons are looked up on integer (history item, item) pairs and each
distinct text is formatted once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp

from custseg.recommend.frame import empty_recs, recs_from_codes
from custseg.recommend.history import as_history
from custseg.recommend.kernels import order_in_runs, unique_inverse

SOURCE = "similarity"
DENSE_LOOKUP = 2**24  # items x items up to which similarities are found via a dense int32 table
DENSE_PRODUCT = 1024  # up to this many items, history x similarity is a sparse x dense product
BLOCK_BYTES = 8 * 2**20  # dense score block per step: bounds memory whatever the customers

# config name -> similarity from (c_ij, c_ii, c_jj, n_baskets), elementwise over arrays
MEASURES: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray, int], np.ndarray]] = {
    "jaccard": lambda cij, cii, cjj, n: cij / (cii + cjj - cij),
    "lift": lambda cij, cii, cjj, n: cij * float(n) / (cii * cjj),
}


def basket_matrix(
    tx: pd.DataFrame, item: str = "product_id", basket: str = "invoice_id"
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Baskets x items boolean matrix and the item labels of its columns (sorted)."""
    pairs = tx[[basket, item]].dropna().astype("str").drop_duplicates()
    b_codes, _ = pd.factorize(pairs[basket], sort=True)
    i_codes, items = pd.factorize(pairs[item], sort=True)
    x = sp.csr_matrix(
        (np.ones(len(pairs), dtype=bool), (b_codes, i_codes)),
        shape=(int(b_codes.max(initial=-1)) + 1, len(items)),
    )
    return x, np.asarray(items, dtype=object)


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


def _row_step(width: int) -> int:
    """Rows of a dense float64 block of this width that fit BLOCK_BYTES."""
    return max(1, BLOCK_BYTES // (8 * max(width, 1)))


def _measured(
    counts: np.ndarray, start: int, occurrence: np.ndarray, n_baskets: int, fn: Callable
) -> np.ndarray:
    """A block of co-occurrence counts (items start.. x all items) as similarities: zero where
    two items never met and on the diagonal (an item is not its own neighbour)."""
    own = occurrence[start : start + counts.shape[0], None]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(counts > 0, fn(counts, own, occurrence[None, :], n_baskets), 0.0)
    diag = np.arange(min(counts.shape[0], counts.shape[1] - start))
    out[diag, diag + start] = 0.0
    return out


class ItemSimilarity:
    """Top-n item neighbours by jaccard or lift; recommends by summed similarity to the history."""

    def __init__(self, block_size: int = 1024) -> None:
        self.block_size = block_size
        self.items: np.ndarray = np.array([], dtype=object)
        self.measure = "jaccard"
        self.similarity: sp.csr_matrix = sp.csr_matrix((0, 0))
        self.occurrence: np.ndarray = np.array([], dtype=np.int64)
        self.n_baskets = 0
        self._label_rank: np.ndarray = np.array([], dtype=np.int64)
        self._table: np.ndarray | None = None  # finds stored pairs: dense positions or keys

    def fit(
        self,
        baskets_matrix: sp.csr_matrix,
        items: np.ndarray,
        measure: str = "jaccard",
        top_n: int = 50,
    ) -> ItemSimilarity:
        if measure not in MEASURES:
            raise ValueError(f"similarity.measure: unknown {measure!r}; one of {list(MEASURES)}")
        if top_n < 1:
            raise ValueError(f"similarity.top_n must be at least 1, got {top_n}")
        x = sp.csr_matrix(baskets_matrix).astype(np.float64)
        items = np.asarray(items, dtype=object).astype(str).astype(object)
        if x.shape[1] != items.size:
            raise ValueError(f"{x.shape[1]} matrix columns but {items.size} item labels")
        n_items = items.size
        occurrence = np.asarray(x.sum(axis=0)).ravel()
        label_rank = np.empty(n_items, dtype=np.int64)
        label_rank[np.argsort(items.astype(str), kind="stable")] = np.arange(n_items)
        xc = x.tocsc()
        fn = MEASURES[measure]
        step = min(self.block_size, _row_step(n_items))
        parts = [(np.zeros(0, dtype=np.int64),) * 2 + (np.zeros(0),)]
        for start in range(0, n_items, step):
            counts = (xc[:, start : start + step].T @ x).toarray()  # co-occurrence, dense
            sims = _measured(counts, start, occurrence, x.shape[0], fn)
            r, c, v = _top_dense(sims, top_n, label_rank)
            parts.append((r + start, c, v))
        rows, cols, vals = (np.concatenate(p) for p in zip(*parts, strict=True))
        self.similarity = sp.csr_matrix((vals, (rows, cols)), shape=(n_items, n_items))
        self.similarity.sort_indices()
        self._table = None
        self.items = items
        self.measure = measure
        self.occurrence = occurrence.astype(np.int64)
        self.n_baskets = int(x.shape[0])
        self._label_rank = label_rank
        return self

    def neighbours(self, item: str) -> pd.Series:
        """One item's kept neighbours and similarities, best first (for reports and tests)."""
        idx = {label: i for i, label in enumerate(self.items)}[str(item)]
        row = self.similarity.getrow(idx)
        s = pd.Series(row.data, index=self.items[row.indices].astype(str), dtype="float64")
        return s.sort_index().sort_values(ascending=False, kind="stable")

    def recommend(self, history: Mapping[str, Iterable[str]], k: int = 10) -> pd.DataFrame:
        """Score each unseen item by its summed similarity to the customer's history items.

        The sum is the sparse product H @ S, a block of customers at a time; the reason names
        the single history item that contributes most.
        """
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        hist = as_history(history)
        h = hist.columns_in(pd.Index(self.items, dtype="str"))
        if h.nnz == 0 or self.similarity.nnz == 0:
            return empty_recs()
        rows, cols, vals, reasons = [], [], [], []
        step = _row_step(self.items.size)
        # a small catalogue's similarities multiply faster dense (same sums, in the same order)
        sim = self.similarity.toarray() if self.items.size <= DENSE_PRODUCT else self.similarity
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
        cols_all = np.concatenate(cols)
        code, texts = self._reason_texts(np.concatenate(reasons), cols_all)
        labels = pd.Index(self.items[np.argsort(self._label_rank)].astype(str), dtype="str")
        return recs_from_codes(
            np.concatenate(rows), hist.customers, self._label_rank[cols_all], labels,
            np.concatenate(vals), SOURCE, code, texts, k,
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
        texts = [
            f"similar to {self.items[i]} ({self.measure} {v:.2f})"
            for i, v in zip(uniq // n, sims, strict=True)
        ]
        return code, texts
