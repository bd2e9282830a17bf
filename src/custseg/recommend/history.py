"""Purchase histories: what each customer bought, as a sparse matrix that reads like a dict.

Recommenders must never offer an item the customer already has, and many of them score from
what it has, so every one of them needs the history; at millions of customers a Python set per
customer is too slow and too big. Customers and items are numbered in sorted label order
(`labels_of`), so "ties go to the smaller item id" is "ties go to the smaller code", and labels
are only turned back into strings at the end. Segments are read here too, spelled as the rules
spell them, because recommenders join them onto the history's customers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from itertools import chain

import numpy as np
import pandas as pd
import scipy.sparse as sp

from custseg.recommend.codes import STR, compact, labels_of
from custseg.recommend.kernels import group_starts, sorted_unique

BITMAP_BYTES = 256 * 2**20  # largest customers x items bitmap History.contains builds
GRAM_ITEMS = 8192  # catalogues up to this size share one dense customer co-occurrence matrix


class History(Mapping[str, frozenset[str]]):
    """What each customer bought: a customers x items boolean CSR matrix with sorted labels.

    Built straight from codes (no Python set per customer), it still reads like the
    `{customer: {items}}` dict it replaces (values are frozensets), so callers and tests that
    pass or read plain dicts keep working; recommenders use `matrix`, `customers` (row labels)
    and `item_labels` (column labels) directly. A customer may have an empty row. (Not named
    `items`: that is Mapping.items().)
    """

    def __init__(self, matrix: sp.csr_matrix, customers: pd.Index, item_labels: pd.Index) -> None:
        if matrix.shape != (len(customers), len(item_labels)):
            raise ValueError(
                f"matrix {matrix.shape} vs {len(customers)} x {len(item_labels)} labels"
            )
        self.matrix = matrix
        self.customers = customers
        self.item_labels = item_labels
        # how much and how recently each purchase was made (see `dated`): None when undated
        self.affinity: sp.csr_matrix | None = None  # sum of 2^(-age / half-life) per purchase day
        self.days: sp.csr_matrix | None = None  # distinct days each item was bought
        self._item_objects: np.ndarray | None = None
        self._table: np.ndarray | None = None  # for contains(): a bitmap or sorted keys
        self._gram: np.ndarray | None = None

    @classmethod
    def from_codes(
        cls, rows: np.ndarray, cols: np.ndarray, customers: pd.Index, items: pd.Index
    ) -> History:
        """From (customer code, item code) pairs, duplicates allowed; keeps every customer."""
        n_items = max(len(items), 1)
        key = sorted_unique(np.asarray(rows, dtype=np.int64) * n_items + cols)
        r = key // n_items
        indptr = np.zeros(len(customers) + 1, dtype=np.int64)
        np.cumsum(np.bincount(r, minlength=len(customers)), out=indptr[1:])
        m = sp.csr_matrix(
            (np.ones(len(key), dtype=bool), key % n_items, indptr),
            shape=(len(customers), len(items)),
        )
        m.has_sorted_indices = True
        return cls(m, customers, items)

    @classmethod
    def from_transactions(cls, tx: pd.DataFrame, item: str = "product_id") -> History:
        """Customers with at least one (non-missing) item, and the items they bought."""
        rows, customers = labels_of(tx["customer_id"])
        cols, items = labels_of(tx[item])
        ok = (rows >= 0) & (cols >= 0)
        rows, customers = compact(rows[ok], customers)
        cols, items = compact(cols[ok], items)
        return cls.from_codes(rows, cols, customers, items)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Iterable[str]]) -> History:
        """From a plain `{customer: items}` dict (one pass in Python, then codes)."""
        names = list(mapping)
        values = [tuple(mapping[c]) for c in names]
        lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
        c_codes, customers = labels_of(np.asarray([str(c) for c in names], dtype=object))
        i_codes, items = labels_of(np.asarray([str(i) for i in chain(*values)], dtype=object))
        return cls.from_codes(np.repeat(c_codes, lengths), i_codes, customers, items)

    # -- the Mapping face ------------------------------------------------------------------
    def __getitem__(self, customer: str) -> frozenset[str]:
        try:
            row = self.customers.get_loc(customer)
        except (KeyError, TypeError):
            raise KeyError(customer) from None
        if self._item_objects is None:
            self._item_objects = np.asarray(self.item_labels, dtype=object)
        m = self.matrix
        return frozenset(self._item_objects[m.indices[m.indptr[row] : m.indptr[row + 1]]])

    def __contains__(self, customer: object) -> bool:
        try:
            return customer in self.customers
        except TypeError:
            return False

    def __iter__(self) -> Iterator[str]:
        return iter(self.customers.tolist())

    def __len__(self) -> int:
        return len(self.customers)

    def __or__(self, other: Mapping[str, Iterable[str]]) -> History:
        """Like dict `|`: `other`'s customers replace or join this history's."""
        other = as_history(other)
        mine = self.subset(self.customers[~self.customers.isin(other.customers)])
        a, b = mine.pairs(), other.pairs()
        c_codes, customers = labels_of(
            np.concatenate([np.asarray(mine.customers), np.asarray(other.customers)])
        )
        i_codes, items = labels_of(
            np.concatenate([np.asarray(mine.item_labels), np.asarray(other.item_labels)])
        )
        n_mine_c, n_mine_i = len(mine.customers), len(mine.item_labels)
        rows = np.concatenate([c_codes[a[0]], c_codes[n_mine_c + b[0]]])
        cols = np.concatenate([i_codes[a[1]], i_codes[n_mine_i + b[1]]])
        return History.from_codes(rows, cols, customers, items)

    def __repr__(self) -> str:
        n_c, n_i = len(self.customers), len(self.item_labels)
        return f"History({n_c} customers, {n_i} items, {self.nnz} purchases)"

    # -- arrays ----------------------------------------------------------------------------
    @property
    def nnz(self) -> int:
        return int(self.matrix.nnz)

    def sizes(self) -> np.ndarray:
        """Items per customer row."""
        return np.diff(self.matrix.indptr)

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(customer row, item column) of every purchase, by customer then item."""
        rows = np.repeat(np.arange(len(self.customers), dtype=np.int64), self.sizes())
        return rows, self.matrix.indices.astype(np.int64)

    def contains(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Whether customer row r bought item column c, elementwise; codes out of range (-1 for
        "unknown") are never bought.

        Purchases are looked up as integer keys (row x n_items + col): in a bitmap of all
        customers x items when that fits BITMAP_BYTES (one gather per query), else by binary
        search in the sorted keys. No Python set, no join on strings.
        """
        n_items = max(len(self.item_labels), 1)
        rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
        valid = (rows >= 0) & (rows < len(self.customers)) & (cols >= 0) & (cols < n_items)
        q = np.where(valid, rows * n_items + cols, 0)
        if self._table is None:
            self._table = self._lookup_table(n_items)
        table = self._table
        if table.dtype == np.uint8:  # bitmap
            return valid & (table[q >> 3] >> (q & 7) & 1).astype(bool)
        if len(table) == 0:
            return np.zeros(len(q), dtype=bool)
        at = np.minimum(np.searchsorted(table, q), len(table) - 1)
        return valid & (table[at] == q)

    def _lookup_table(self, n_items: int) -> np.ndarray:
        """A bitmap (uint8) of the purchase keys if small enough, else the sorted keys."""
        rows, cols = self.pairs()
        keys = rows * n_items + cols  # sorted: CSR rows in order, sorted indices
        n_bytes = (len(self.customers) * n_items + 7) // 8
        if n_bytes > BITMAP_BYTES:
            return keys
        bitmap = np.zeros(max(n_bytes, 1), dtype=np.uint8)
        byte = keys >> 3
        starts = group_starts(byte)
        if len(starts):  # bits of one byte are distinct, so their sum is their union
            bits = np.left_shift(1, keys & 7).astype(np.uint8)
            bitmap[byte[starts]] = np.add.reduceat(bits, starts)
        return bitmap

    def cooccurrence(self) -> np.ndarray | None:
        """Items x items: how many customers bought both (X^T X, the diagonal each item's
        buyers), computed once and shared by the models that learn from it (EASE, SAR);
        None above GRAM_ITEMS items, where a dense matrix would not fit."""
        if self._gram is None and self.matrix.shape[1] <= GRAM_ITEMS:
            x = self.matrix.astype(np.float64)
            self._gram = (x.T @ x).toarray()
        return self._gram

    def subset(self, customers: Iterable[str]) -> History:
        """The rows of these customers (those present), e.g. the test customers of a split."""
        if isinstance(customers, History):
            wanted = customers.customers
        elif isinstance(customers, pd.Index):
            wanted = customers.astype("str")
        else:
            wanted = pd.Index([str(c) for c in customers], dtype=STR)
        rows = sorted_unique(self.customers.get_indexer(wanted))
        rows = rows[rows >= 0]
        out = History(self.matrix[rows], self.customers[rows], self.item_labels)
        if self.affinity is not None and self.days is not None:
            out.affinity, out.days = self.affinity[rows], self.days[rows]
        return out

    def columns_in(
        self, items: pd.Index, dtype: type = np.float64, decayed: bool = False
    ) -> sp.csr_matrix:
        """The purchases as a customers x `items` matrix (ones, or the time-decayed affinity
        when `decayed` and the history is dated; sorted indices); items outside `items` are
        dropped. Lets a model with its own item list read the history."""
        col = pd.Index(items).get_indexer(self.item_labels)
        m = self.matrix
        new = col[m.indices] if len(col) else m.indices
        keep = new >= 0
        rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))[keep]
        values = np.ones(int(keep.sum()), dtype=dtype)
        if decayed and self.affinity is not None:
            values = self.affinity.data[keep].astype(dtype)
        out = sp.csr_matrix(
            (values, (rows, new[keep])),
            shape=(m.shape[0], len(items)),
        )
        out.sort_indices()
        return out

    def to_frame(self) -> pd.DataFrame:
        """The long (customer_id, item) frame, by customer then item."""
        rows, cols = self.pairs()
        return pd.DataFrame(
            {"customer_id": self.customers.take(rows), "item": self.item_labels.take(cols)}
        ).astype("str")


def as_history(history: Mapping[str, Iterable[str]]) -> History:
    """Recommenders accept a History or any `{customer: items}` mapping; convert once here."""
    return history if isinstance(history, History) else History.from_mapping(history)


def histories(
    tx: pd.DataFrame, item: str = "product_id", half_life_days: float | None = None
) -> History:
    """Items each customer bought: recommenders must never offer these again. With a half-life
    (and invoice dates), also how strongly: `dated`."""
    if half_life_days is None or "invoice_date" not in tx.columns:
        return History.from_transactions(tx, item)
    return dated(tx, item, half_life_days)


def dated(tx: pd.DataFrame, item: str, half_life_days: float) -> History:
    """The history with each purchase's affinity, as SAR defines it: every distinct day the
    customer bought the item adds 2^(-age / half-life), age in days before the latest date
    of `tx`, so frequent and recent purchases weigh most (one basket with ten lines of the
    same item is one purchase). A common "now" only scales each customer's row by one factor,
    so rankings within a customer do not depend on it.
    """
    if half_life_days <= 0:
        raise ValueError(f"recommend.half_life_days must be positive, got {half_life_days}")
    rows, customers = labels_of(tx["customer_id"])
    cols, items = labels_of(tx[item])
    day = tx["invoice_date"].to_numpy(dtype="datetime64[D]").astype(np.int64)
    ok = (rows >= 0) & (cols >= 0)
    rows, customers = compact(rows[ok], customers)
    cols, items = compact(cols[ok], items)
    day = day[ok]
    hist = History.from_codes(rows, cols, customers, items)
    n_items, span = max(len(items), 1), int(day.max(initial=0) - day.min(initial=0)) + 1
    pair = rows * n_items + cols
    event = sorted_unique(pair * span + (day - day.min(initial=0)))  # one per pair and day
    pair_of, age = event // span, (span - 1) - event % span
    # events are sorted by pair, as the matrix's entries are: one run per stored entry
    starts = group_starts(pair_of)
    weight = np.exp2(-age / float(half_life_days))
    m = hist.matrix
    hist.affinity = sp.csr_matrix((np.add.reduceat(weight, starts), m.indices, m.indptr),
                                  shape=m.shape)  # fmt: skip
    counts = np.diff(np.r_[starts, len(event)]).astype(np.float64)
    hist.days = sp.csr_matrix((counts, m.indices, m.indptr), shape=m.shape)
    return hist


def history_pairs(history: Mapping[str, Iterable[str]]) -> pd.DataFrame:
    """The history as a long (customer_id, item) frame, so it can be joined instead of looped."""
    return as_history(history).to_frame()
