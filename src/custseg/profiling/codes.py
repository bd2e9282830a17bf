"""Columns as integer codes for the profiles: every per-segment table is counted on codes,
because text keys make each groupby over ten million lines a hashing exercise."""

from __future__ import annotations

import numpy as np
import pandas as pd


def factor(s: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes (-1 = missing) and their labels; free for categoricals. Profiles work on
    codes because text keys make every groupby over ten million lines a hashing exercise."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.cat.codes.to_numpy().astype(np.int64), pd.Index(s.cat.categories)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return codes.astype(np.int64, copy=False), pd.Index(uniques)


def distinct(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct integers: a plain sort, several times faster than numpy's hash-based
    np.unique on tens of millions of keys."""
    k = np.sort(keys)
    return k[np.r_[True, k[1:] != k[:-1]]] if k.size else k


def counted(keys: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct non-negative keys below `n_keys`, sorted, and how often each occurs: a count
    per possible key when that table is no larger than the keys themselves, else a sort."""
    if n_keys <= 4 * max(len(keys), 1):
        counts = np.bincount(keys, minlength=n_keys)
        seen = np.flatnonzero(counts)
        return seen, counts[seen]
    return np.unique(keys, return_counts=True)
