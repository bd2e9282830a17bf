"""Integer and array kernels the recommenders share: grouping, ranking and ordering of codes.

Recommenders work on integer codes (customers and items numbered in sorted label order), so
their hot loops are these few numpy routines over millions of rows: runs of equal codes,
positions within runs, and orders that break ties the way the recs contract does. They
depend on numpy only (no frames, no histories), so every other recommend module can use them.
"""

from __future__ import annotations

import numpy as np


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
