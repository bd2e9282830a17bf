"""Item-to-item similarity from co-occurrence, in the manner of Microsoft's SAR.

Rules only cover item pairs above the mining thresholds; co-occurrence similarity scores every
pair that ever met (in a basket, or in a customer's history for SAR), so it still has something
to say about long-tail items. The co-occurrence matrix C = X^T X is built a block of items at a
time and cut to the top_n neighbours per item straight away, so memory stays O(items x top_n)
however dense C would be. The measures are SAR's (Microsoft Recommenders, `sar_singlenode`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from custseg.recommend.itemitem import ItemItem, _row_step, _top_dense

SOURCE = "similarity"


def _pmi(cij: np.ndarray, cii: np.ndarray, cjj: np.ndarray, n: int) -> np.ndarray:
    """Pointwise mutual information log2(n c_ij / (c_i c_j)); pairs below independence are
    negative and so never kept (neighbours are positive)."""
    return np.log2(cij * float(n) / (cii * cjj))


# config name -> similarity from (c_ij, c_ii, c_jj, n rows), elementwise over arrays
MEASURES: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray, int], np.ndarray]] = {
    "cooccurrence": lambda cij, cii, cjj, n: cij + 0.0 * cii * cjj,
    "jaccard": lambda cij, cii, cjj, n: cij / (cii + cjj - cij),
    "lift": lambda cij, cii, cjj, n: cij * float(n) / (cii * cjj),
    "cosine": lambda cij, cii, cjj, n: cij / np.sqrt(cii * cjj),
    "mutual_information": _pmi,
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


def _measured(
    counts: np.ndarray,
    start: int,
    occurrence: np.ndarray,
    n_baskets: int,
    fn: Callable,
    threshold: int = 1,
) -> np.ndarray:
    """A block of co-occurrence counts (items start.. x all items) as similarities: zero where
    two items met fewer than `threshold` times and on the diagonal (an item is not its own
    neighbour)."""
    own = occurrence[start : start + counts.shape[0], None]
    with np.errstate(divide="ignore", invalid="ignore"):
        met = counts >= max(threshold, 1)
        out = np.where(met, fn(counts, own, occurrence[None, :], n_baskets), 0.0)
    diag = np.arange(min(counts.shape[0], counts.shape[1] - start))
    out[diag, diag + start] = 0.0
    return out


class ItemSimilarity(ItemItem):
    """Top-n item neighbours by a SAR measure; recommends by summed similarity to the history."""

    def __init__(self, block_size: int = 1024) -> None:
        super().__init__()
        self.block_size = block_size
        self.measure = "jaccard"
        self.occurrence: np.ndarray = np.array([], dtype=np.int64)
        self.n_baskets = 0

    def fit(
        self,
        baskets_matrix: sp.csr_matrix,
        items: np.ndarray,
        measure: str = "jaccard",
        top_n: int | None = 50,
        threshold: int = 1,
        counts: np.ndarray | None = None,
    ) -> ItemSimilarity:
        """Learn each item's top_n neighbours (None: every positive one) from a rows x items
        matrix (baskets, or customers for SAR); pairs that met fewer than `threshold` times
        are not neighbours. `counts` is the matrix's co-occurrence when a caller has it."""
        if measure not in MEASURES:
            raise ValueError(f"similarity.measure: unknown {measure!r}; one of {list(MEASURES)}")
        if top_n is not None and top_n < 1:
            raise ValueError(f"similarity.top_n must be at least 1, got {top_n}")
        x = sp.csr_matrix(baskets_matrix).astype(np.float64)
        items = np.asarray(items, dtype=object).astype(str).astype(object)
        if x.shape[1] != items.size:
            raise ValueError(f"{x.shape[1]} matrix columns but {items.size} item labels")
        n_items = items.size
        self._learned(items, sp.csr_matrix((n_items, n_items)))
        occurrence = np.asarray(x.sum(axis=0)).ravel()
        xc = x.tocsc()
        fn = MEASURES[measure]
        step = min(self.block_size, _row_step(n_items))
        keep = n_items if top_n is None else top_n
        parts = [(np.zeros(0, dtype=np.int64),) * 2 + (np.zeros(0),)]
        for start in range(0, n_items, step):
            met = (
                (xc[:, start : start + step].T @ x).toarray()  # co-occurrence, dense
                if counts is None
                else counts[start : start + step]
            )
            sims = _measured(met, start, occurrence, x.shape[0], fn, threshold)
            r, c, v = _top_dense(sims, keep, self._label_rank)
            parts.append((r + start, c, v))
        rows, cols, vals = (np.concatenate(p) for p in zip(*parts, strict=True))
        self.similarity = sp.csr_matrix((vals, (rows, cols)), shape=(n_items, n_items))
        self.similarity.sort_indices()
        self.measure = measure
        self.occurrence = occurrence.astype(np.int64)
        self.n_baskets = int(x.shape[0])
        return self

    def _describe(self, item: str, value: float) -> str:
        return f"similar to {item} ({self.measure} {value:.2f})"

    def neighbours(self, item: str) -> pd.Series:
        """One item's kept neighbours and similarities, best first (for reports and tests)."""
        idx = {label: i for i, label in enumerate(self.items)}[str(item)]
        row = sp.csr_matrix(self.similarity).getrow(idx)
        s = pd.Series(row.data, index=self.items[row.indices].astype(str), dtype="float64")
        return s.sort_index().sort_values(ascending=False, kind="stable")
