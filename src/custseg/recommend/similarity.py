"""Item-to-item recommendations from basket co-occurrence, in the manner of Microsoft's SAR.

Rules only cover item pairs above the mining thresholds; co-occurrence similarity scores every
pair that ever shared a basket, so it still has something to say about long-tail items. The
co-occurrence matrix C = X^T X is built a block of items at a time and cut to the top_n
neighbours per item straight away, so memory stays O(items x top_n) however dense C would be.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp

from custseg.recommend.common import empty_recs, finish, history_pairs

SOURCE = "similarity"

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


def _top_per_row(
    m: sp.csr_matrix, n: int, label_rank: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, col, value) of each row's n largest stored values; ties go to the smaller label.

    A partition per row finds the n-th value, and only entries at or above it are sorted, which
    is far cheaper than sorting every stored entry when rows are long.
    """
    indptr, indices, data = m.indptr, m.indices, m.data
    picked = []
    for r in range(m.shape[0]):
        a, b = int(indptr[r]), int(indptr[r + 1])
        if b - a <= n:
            picked.append(np.arange(a, b))
            continue
        v = data[a:b]
        cand = np.flatnonzero(v >= np.partition(v, b - a - n)[b - a - n])
        if cand.size > n:
            cand = cand[np.lexsort((label_rank[indices[a + cand]], -v[cand]))[:n]]
        picked.append(a + cand)
    pos = np.concatenate(picked) if picked else np.array([], dtype=np.int64)
    rows = np.repeat(np.arange(m.shape[0]), np.diff(indptr))[pos]
    return rows, indices[pos].astype(np.int64), data[pos]


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
        parts_r, parts_c, parts_v = [], [], []
        for start in range(0, n_items, self.block_size):
            block = (xc[:, start : start + self.block_size].T @ x).tocsr()
            sims = self._measured(block, start, occurrence, x.shape[0], fn)
            rows, cols, vals = _top_per_row(sims, top_n, label_rank)
            parts_r.append(rows + start)
            parts_c.append(cols)
            parts_v.append(vals)
        rows = np.concatenate(parts_r) if parts_r else np.array([], dtype=np.int64)
        cols = np.concatenate(parts_c) if parts_c else np.array([], dtype=np.int64)
        vals = np.concatenate(parts_v) if parts_v else np.array([], dtype=np.float64)
        self.similarity = sp.csr_matrix((vals, (rows, cols)), shape=(n_items, n_items))
        self.items = items
        self.measure = measure
        self.occurrence = occurrence.astype(np.int64)
        self.n_baskets = int(x.shape[0])
        self._label_rank = label_rank
        return self

    @staticmethod
    def _measured(
        block: sp.csr_matrix, start: int, occurrence: np.ndarray, n_baskets: int, fn: Callable
    ) -> sp.csr_matrix:
        """The block's co-occurrence counts as similarities, without the diagonal (an item is not
        its own neighbour)."""
        block.sum_duplicates()
        rows = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr)) + start
        out = block.copy()
        out.data = fn(block.data, occurrence[rows], occurrence[block.indices], n_baskets)
        out.data[rows == block.indices] = 0.0
        out.eliminate_zeros()
        return out

    def neighbours(self, item: str) -> pd.Series:
        """One item's kept neighbours and similarities, best first (for reports and tests)."""
        idx = {label: i for i, label in enumerate(self.items)}[str(item)]
        row = self.similarity.getrow(idx)
        s = pd.Series(row.data, index=self.items[row.indices].astype(str), dtype="float64")
        return s.sort_index().sort_values(ascending=False, kind="stable")

    def recommend(self, history: Mapping[str, Iterable[str]], k: int = 10) -> pd.DataFrame:
        """Score each unseen item by its summed similarity to the customer's history items.

        The sum is one sparse product H @ S (customers x items, as sparse as the neighbours of
        the history); the reason names the single history item that contributes most.
        """
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        n_items = self.items.size
        hist = history_pairs(history)
        index = pd.Index(self.items.astype(str))
        hist["col"] = index.get_indexer(hist["item"])
        hist = hist.loc[hist["col"].to_numpy() >= 0]
        if hist.empty or self.similarity.nnz == 0:
            return empty_recs()
        c_codes, customers = pd.factorize(hist["customer_id"], sort=True)
        h_cols = hist["col"].to_numpy()
        h = sp.csr_matrix((np.ones(len(hist)), (c_codes, h_cols)), shape=(len(customers), n_items))
        scores = (h @ self.similarity).tocsr()
        # similarities are positive, so a bought item's score cancels to exactly zero
        scores = scores - scores.multiply(h > 0)
        scores.eliminate_zeros()
        scores.sort_indices()
        rows, cols, vals = _top_per_row(scores, k, self._label_rank)
        picked = pd.DataFrame({"row": rows, "col": cols, "score": vals})
        picked["customer_id"] = np.asarray(customers, dtype=object)[rows]
        picked["item"] = self.items[cols]
        picked["source"] = SOURCE
        picked["reason"] = self._reasons(picked, c_codes, h_cols)
        return finish(picked, k)

    def _reasons(self, picked: pd.DataFrame, c_codes: np.ndarray, h_cols: np.ndarray) -> list[str]:
        """The strongest history item behind each picked item: join on the picked item's
        in-neighbours, keep those in the customer's history, take the max."""
        sim_t = self.similarity.T.tocoo()  # row = neighbour item j, col = source item i
        inbound = pd.DataFrame({"col": sim_t.row, "src": sim_t.col, "sim": sim_t.data})
        cand = picked[["row", "col"]].reset_index().merge(inbound, on="col", how="inner")
        n_items = self.items.size
        own = c_codes.astype(np.int64) * n_items + h_cols
        cand = cand.loc[np.isin(cand["row"].to_numpy() * n_items + cand["src"].to_numpy(), own)]
        cand = cand.assign(rank=self._label_rank[cand["src"].to_numpy()])
        cand = cand.sort_values(["index", "sim", "rank"], ascending=[True, False, True])
        best = cand.drop_duplicates("index").set_index("index")
        src = self.items[best["src"].to_numpy()]
        text = pd.Series(
            [
                f"similar to {s} ({self.measure} {v:.2f})"
                for s, v in zip(src, best["sim"], strict=True)
            ],
            index=best.index,
            dtype="object",
        )
        return text.reindex(picked.index).tolist()
