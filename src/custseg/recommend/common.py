"""Pieces every recommender shares: histories, the recs frame contract, and top-k selection.

Keeping the contract in one place (at most k rows per customer, never an item the customer
already bought, ties broken by item id) is what makes recommenders comparable and blendable.

Internally everything runs on integer codes: customers and items are numbered in sorted label
order, so "ties go to the smaller item id" is "ties go to the smaller code", and labels (and
reasons) are only turned back into strings once, for the rows that survive top-k. At a million
customers that is the difference between seconds and many minutes of per-row Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from itertools import chain

import numpy as np
import pandas as pd
import scipy.sparse as sp

RECS_COLUMNS: tuple[str, ...] = ("customer_id", "item", "score", "source", "reason")
STR = pd.StringDtype("pyarrow", na_value=np.nan)  # what .astype("str") gives: the contract's str
CHUNK = 4_000_000  # candidate rows handled at once by top_unseen: bounds its memory
BITMAP_BYTES = 256 * 2**20  # largest customers x items bitmap History.contains builds


def labels_of(values: object) -> tuple[np.ndarray, pd.Index]:
    """Codes (int64, -1 for missing) of any column and the str labels they stand for, sorted.

    Values that print alike (a categorical "1" and a str "1") get one code, as `.astype(str)`
    would have merged them; only the distinct values are converted and sorted.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)  # type: ignore[call-overload]
    text = pd.Index(uniques).astype("str")
    remap, labels = pd.factorize(text, sort=True)
    codes = np.asarray(codes, dtype=np.int64)
    out = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1) if len(remap) else codes
    return out.astype(np.int64, copy=False), pd.Index(labels, dtype=STR)


def compact(codes: np.ndarray, labels: pd.Index) -> tuple[np.ndarray, pd.Index]:
    """Drop the labels no code uses, renumbering the codes (their order is kept)."""
    used = np.bincount(codes, minlength=len(labels)) > 0
    if used.all():
        return codes, labels
    return (np.cumsum(used) - 1)[codes], labels[used]


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
        self._item_objects: np.ndarray | None = None
        self._table: np.ndarray | None = None  # for contains(): a bitmap or sorted keys

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
        return History(self.matrix[rows], self.customers[rows], self.item_labels)

    def columns_in(self, items: pd.Index, dtype: type = np.float64) -> sp.csr_matrix:
        """The purchases as a customers x `items` matrix (ones, sorted indices); items outside
        `items` are dropped. Lets a model with its own item list read the history."""
        col = pd.Index(items).get_indexer(self.item_labels)
        m = self.matrix
        new = col[m.indices] if len(col) else m.indices
        keep = new >= 0
        rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))[keep]
        out = sp.csr_matrix(
            (np.ones(int(keep.sum()), dtype=dtype), (rows, new[keep])),
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


def histories(tx: pd.DataFrame, item: str = "product_id") -> History:
    """Items each customer bought: recommenders must never offer these again."""
    return History.from_transactions(tx, item)


def history_pairs(history: Mapping[str, Iterable[str]]) -> pd.DataFrame:
    """The history as a long (customer_id, item) frame, so it can be joined instead of looped."""
    return as_history(history).to_frame()


def segment_labels(segment_of: pd.Series) -> pd.Series:
    """Segment per customer as rules spell it ('2', not '2.0'); unsegmented customers dropped."""
    seg = segment_of.dropna()
    if pd.api.types.is_numeric_dtype(seg) and not pd.api.types.is_bool_dtype(seg):
        values = seg.to_numpy()
        if np.all(np.mod(values, 1) == 0):
            seg = seg.astype("int64")
    out = seg.astype("str")
    out.index = out.index.astype("str")
    return out


def segment_codes(segment_of: pd.Series, customers: pd.Index) -> tuple[np.ndarray, pd.Index]:
    """Each customer's segment as a code into sorted segment labels (-1: no segment)."""
    seg = segment_labels(segment_of)
    seg = seg.loc[~seg.index.duplicated(keep="last")]
    return labels_of(seg.reindex(customers).to_numpy())


def empty_recs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": pd.Series(dtype="str"),
            "item": pd.Series(dtype="str"),
            "score": pd.Series(dtype="float64"),
            "source": pd.Series(dtype="str"),
            "reason": pd.Series(dtype="str"),
        }
    )


def group_starts(sorted_codes: np.ndarray) -> np.ndarray:
    """Position of the first row of each run of equal values in a sorted array."""
    if len(sorted_codes) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])


def rank_within(sorted_codes: np.ndarray) -> np.ndarray:
    """0-based position of each row inside its run of equal codes (codes sorted)."""
    starts = group_starts(sorted_codes)
    lengths = np.diff(np.r_[starts, len(sorted_codes)])
    return np.arange(len(sorted_codes)) - np.repeat(starts, lengths)


# numpy's np.unique hashes, which is slow for millions of distinct values; these sort instead
def sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted."""
    s = np.sort(values)
    return s[group_starts(s)]


def unique_inverse(values: np.ndarray, key_space: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(values, return_inverse=True) of non-negative ints: through a table of every
    possible key when their range (`key_space`, if given) is small, else by one argsort."""
    if 0 < key_space <= max(4 * len(values), 2**16):
        used = np.zeros(key_space, dtype=bool)
        used[values] = True
        return np.flatnonzero(used), (np.cumsum(used) - 1)[values]
    order = np.argsort(values)
    s = values[order]
    new = np.zeros(len(s), dtype=bool)
    new[group_starts(s)] = True
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return s[new], inverse


def first_of_key(key: np.ndarray) -> np.ndarray:
    """Mask of the rows that are the first (in row order) with their key."""
    order = np.argsort(key, kind="stable")
    mask = np.zeros(len(key), dtype=bool)
    mask[order[group_starts(key[order])]] = True
    return mask


def first_in_runs(run: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Mask of the rows that are the first (in row order) with their value inside their run of
    equal `run` codes (sorted): e.g. a customer's first mention of each item.

    Each run is one row of a small matrix, sorted row-wise by (value, position): positions
    make the keys unique, so the fast unstable sort is exact.
    """
    n = len(run)
    starts = group_starts(run)
    size = np.diff(np.r_[starts, n])
    width = int(size.max(initial=0))
    n_values = int(value.max(initial=0)) + 1
    if len(starts) * width > 4 * n + 4096 or not fits_int64(n_values, width + 1):
        return first_of_key(run.astype(np.int64) * n_values + value)
    col = np.arange(n) - np.repeat(starts, size)
    grid = np.full((len(starts), width), np.iinfo(np.int64).max)
    grid[np.repeat(np.arange(len(starts)), size), col] = value.astype(np.int64) * width + col
    grid.sort(axis=1)
    v = grid // width
    first = np.ones_like(grid, dtype=bool)
    first[:, 1:] = v[:, 1:] != v[:, :-1]
    real = np.arange(width)[None, :] < size[:, None]
    mask = np.zeros(n, dtype=bool)
    hit = grid[first & real]
    rows = np.repeat(starts, np.count_nonzero(first & real, axis=1)) + hit % width
    mask[rows] = True
    return mask


def fits_int64(*sizes: int) -> bool:
    """Whether a key packing these ranges fits an int64 (with room to spare)."""
    total = 1
    for n in sizes:
        total *= max(int(n), 1)
    return total < 2**62


def order_in_runs(run: np.ndarray, score: np.ndarray, k: int | None = None) -> np.ndarray:
    """Rows of each run of equal `run` codes (sorted) by score desc, ties in row order; only
    the first k of each run when k is given.

    Runs are short (a customer's few dozen candidates), so they are laid out as the rows of a
    small matrix and sorted row-wise, instead of sorting all rows of all customers together.
    """
    n = len(run)
    starts = group_starts(run)
    size = np.diff(np.r_[starts, n])
    width = int(size.max(initial=0))
    if len(starts) * width > 4 * n + 4096:  # a few very long runs: sort them all at once
        order = np.lexsort((-score, run))
        return order if k is None else order[rank_within(run[order]) < k]
    col = np.arange(n) - np.repeat(starts, size)
    grid = np.full((len(starts), width), np.nan)  # NaN sorts last: empty slots go last
    grid[np.repeat(np.arange(len(starts)), size), col] = -score
    idx = np.argsort(grid, axis=1, kind="stable")[:, : (width if k is None else k)]
    return (starts[:, None] + idx)[idx < size[:, None]]


def in_recs_order(cust: np.ndarray, score: np.ndarray, item: np.ndarray) -> np.ndarray:
    """Row order by customer, score desc, item (all codes in label order): the recs order,
    stable for repeated rows.

    Producers usually emit rows in this order already; checking costs one pass. Otherwise one
    integer sort by (customer, item) and a row-wise sort of each customer's scores, several
    times faster than a lexsort of three keys over millions of rows.
    """
    n = len(cust)
    if n > 1:
        dc, ds, di = np.diff(cust), np.diff(score), np.diff(item)
        if np.all((dc > 0) | ((dc == 0) & ((ds < 0) | ((ds == 0) & (di > 0))))):
            return np.arange(n)
    elif n <= 1:
        return np.arange(n)
    n_cust, n_items = int(cust.max()) + 1, int(item.max()) + 1
    if not fits_int64(n_cust, n_items):
        return np.lexsort((item, -score, cust))
    base = np.argsort(cust.astype(np.int64) * n_items + item, kind="stable")
    return base[order_in_runs(cust[base], score[base])]


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
