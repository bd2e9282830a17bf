"""Ranking metrics as the field computes them (Microsoft Recommenders' evaluation module).

Accuracy (hit rate, precision, recall, NDCG, MAP at k, binary relevance) is averaged over the
customers of a truth table: a customer with no recommendation is a miss, and a true item the
recommender could never know (unseen in training) is a miss for every method. Beyond accuracy
describes the lists themselves: catalogue coverage, distributional coverage (Shannon entropy of
how often each item is recommended, bits), novelty (mean self-information -log2 p(i) of the
recommended items, p = share of training customers who bought i) and diversity (1 - mean cosine
co-occurrence similarity of the item pairs within a list).

Histories, truths and lists are compared as integer (customer, item) codes, and each list is
ordered and cut once for all k: no string sorts of millions of rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from custseg.recommend.codes import labels_of
from custseg.recommend.history import History
from custseg.recommend.kernels import first_in_runs, in_recs_order, rank_within

ACCURACY: tuple[str, ...] = ("hit_rate", "precision", "recall", "ndcg", "map")
BEYOND: tuple[str, ...] = ("coverage", "distributional_coverage", "novelty", "diversity")
DIVERSITY_CUSTOMERS = 5_000  # lists whose pairs are compared, sampled evenly beyond this


@dataclass
class Ranked:
    """One recommender's lists, deduplicated and in order, as codes: enough for every k."""

    cust: np.ndarray  # customer code (any numbering), rows grouped by customer
    item: np.ndarray  # item code into `items`
    pos: np.ndarray  # 1-based position in the customer's list
    items: pd.Index
    customers: pd.Index


def ranked(recs: pd.DataFrame) -> Ranked:
    """Each customer's recommendations in order: by `rank` when blended, else by score then
    item id; a repeated (customer, item) counts once, at its first position."""
    cust, customers = labels_of(recs["customer_id"])
    item, items = labels_of(recs["item"])
    if "rank" in recs.columns:  # by customer then rank: a score falling with the rank
        rank = recs["rank"].to_numpy(dtype=np.float64)
        order = in_recs_order(cust, -rank, np.zeros(len(rank), dtype=np.int64))
    else:
        order = in_recs_order(cust, recs["score"].to_numpy(dtype=np.float64), item)
    cust, item = cust[order], item[order]
    first = first_in_runs(cust, item)
    cust, item = cust[first], item[first]
    return Ranked(cust, item, rank_within(cust) + 1, items, customers)


def per_customer(r: Ranked, truth: History, k: int) -> dict[str, np.ndarray]:
    """Each accuracy metric at k for every truth customer with a true item (truth row order,
    customers without one dropped): means of these are the table's figures, means by segment
    its breakdown."""
    n_test = truth.sizes()
    tested = n_test > 0
    top = r.pos <= k
    row = truth.customers.get_indexer(r.customers)[r.cust[top]]
    col = truth.item_labels.get_indexer(r.items)[r.item[top]]
    hit = truth.contains(row, col)
    pos = r.pos[top][hit]
    hit_row = row[hit]  # hits by customer, in list order
    gain = 1.0 / np.log2(pos + 1.0)
    # per customer in list order, summed as pandas does (the same floats as ever)
    dcg = pd.Series(gain).groupby(hit_row).sum().reindex(np.arange(len(n_test)), fill_value=0)
    hits = np.bincount(hit_row, minlength=len(n_test))[tested].astype("float64")
    # MAP: precision at each hit's position (hits so far / position), summed per customer
    so_far = rank_within(hit_row) + 1
    ap = np.bincount(hit_row, weights=so_far / pos, minlength=len(n_test))[tested]
    n_t = n_test[tested]
    discount = np.cumsum(1.0 / np.log2(np.arange(1, k + 1) + 1.0))
    idcg = discount[np.minimum(n_t, k) - 1]
    return {
        "hit_rate": (hits > 0).astype("float64"),
        "precision": hits / k,
        "recall": hits / n_t,
        "ndcg": dcg.to_numpy(dtype="float64")[tested] / idcg,
        "map": ap / np.minimum(n_t, k),
    }


def accuracy(r: Ranked, truth: History, k: int) -> dict[str, float]:
    """Hit rate, precision, recall, NDCG and MAP at k over the customers with a true item."""
    values = per_customer(r, truth, k)
    if len(values["hit_rate"]) == 0:
        return dict.fromkeys(ACCURACY, float("nan"))
    return {m: float(np.mean(v)) for m, v in values.items()}


@dataclass
class Training:
    """What beyond-accuracy metrics measure lists against: the training purchases."""

    history: History  # customers x items bought in training
    catalogue_size: int  # items a recommender could pick
    _co: tuple[np.ndarray, sp.csr_matrix] | None = None  # co-occurrence of the items seen so far

    def cooccurrence(self, cols: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
        """Co-occurrence counts among the training items (customers who bought both) and the
        history columns they stand for. Computed once, for the items any list holds: every
        recommender of one evaluation draws from the same catalogue."""
        if self._co is None or not np.isin(cols, self._co[0]).all():
            m = self.history.matrix
            bought = np.flatnonzero(np.bincount(m.indices, minlength=m.shape[1]))
            known = np.union1d(bought, cols)
            x = m[:, known].astype(np.float64)
            self._co = (known, (x.T @ x).tocsr())
        known, co = self._co
        return co, known

    def popularity(self, items: pd.Index) -> np.ndarray:
        """Share of training customers who bought each of `items` (0 if none did)."""
        buyers = np.bincount(self.history.matrix.indices, minlength=len(self.history.item_labels))
        at = self.history.item_labels.get_indexer(items)
        share = buyers / max(len(self.history.customers), 1)
        return np.where(at >= 0, share[np.maximum(at, 0)], 0.0)


def beyond(r: Ranked, k: int, training: Training) -> dict[str, float]:
    """Coverage, distributional coverage, novelty and diversity of the top-k lists."""
    top = r.pos <= k
    counts = np.bincount(r.item[top], minlength=len(r.items)).astype("float64")
    n_recs = counts.sum()
    if n_recs == 0:
        return {"coverage": 0.0} | dict.fromkeys(BEYOND[1:], float("nan"))
    size = training.catalogue_size
    share = counts[counts > 0] / n_recs
    p = training.popularity(r.items)[r.item[top]]
    with np.errstate(divide="ignore"):
        info = -np.log2(p)
    return {
        "coverage": float(np.count_nonzero(counts) / size) if size > 0 else float("nan"),
        "distributional_coverage": float(-(share * np.log2(share)).sum()),
        "novelty": float(np.mean(info[np.isfinite(info)])) if np.isfinite(info).any() else 0.0,
        "diversity": _diversity(r.cust[top], r.item[top], r.items, training),
    }


def _diversity(cust: np.ndarray, item: np.ndarray, items: pd.Index, training: Training) -> float:
    """1 - mean pairwise cosine similarity (co-occurrence over training customers) within each
    list, averaged over lists of two or more items; at most DIVERSITY_CUSTOMERS lists, taken
    evenly across the customers (deterministic). Rows come grouped by customer, in list order."""
    codes, row = np.unique(cust, return_inverse=True)
    if len(codes) > DIVERSITY_CUSTOMERS:
        picked = np.zeros(len(codes), dtype=bool)
        picked[np.linspace(0, len(codes) - 1, DIVERSITY_CUSTOMERS).astype(int)] = True
        keep = picked[row]
        row, item = np.unique(row[keep], return_inverse=True)[1], item[keep]
    col = training.history.item_labels.get_indexer(items)[item]
    co, known = training.cooccurrence(col[col >= 0])
    local = np.searchsorted(known, np.maximum(col, 0))
    own = co.diagonal()
    # lists as a customers x positions table of local item codes (-1: no item / unknown item)
    width = int(rank_within(row).max(initial=0)) + 1
    table = np.full((int(row.max(initial=-1)) + 1, width), -1, dtype=np.int64)
    table[row, rank_within(row)] = np.where(col >= 0, local, -1)
    i, j = np.triu_indices(width, k=1)
    a, b = table[:, i], table[:, j]
    ok = (a >= 0) & (b >= 0)
    sim = np.zeros(a.shape)
    if ok.any():
        pair = np.asarray(co[a[ok], b[ok]]).ravel()
        sim[ok] = pair / np.sqrt(own[a[ok]] * own[b[ok]])
    n_pairs = ok.sum(axis=1)
    lists = n_pairs > 0
    if not lists.any():
        return float("nan")
    return float(1.0 - np.mean(sim.sum(axis=1)[lists] / n_pairs[lists]))
