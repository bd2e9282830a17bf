"""Labels as integer codes: the layout every recommender computes on.

Customers and items are numbered in sorted label order, so "ties go to the smaller item id" is
"ties go to the smaller code" and text is only made again at the end. A categorical column is
numbered from its categories (a million distinct ids, not ten million lines), and lines are
picked by customer on the distinct ids for the same reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

STR = pd.StringDtype("pyarrow", na_value=np.nan)  # what .astype("str") gives: the contract's str


def labels_of(values: object) -> tuple[np.ndarray, pd.Index]:
    """Codes (int64, -1 for missing) of any column and the str labels they stand for, sorted.

    Values that print alike (a categorical "1" and a str "1") get one code, as `.astype(str)`
    would have merged them; only the distinct values are converted and sorted.
    """
    arr = values.array if isinstance(values, pd.Series) else values
    if isinstance(arr, pd.Categorical) and isinstance(arr.categories.dtype, pd.StringDtype):
        return _sorted_codes(arr.codes, pd.Index(arr.categories, dtype=STR))  # distinct text
    codes, uniques = pd.factorize(values, use_na_sentinel=True)  # type: ignore[call-overload]
    text = pd.Index(uniques).astype("str")
    remap, labels = pd.factorize(text, sort=True)
    codes = np.asarray(codes, dtype=np.int64)
    out = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1) if len(remap) else codes
    return out.astype(np.int64, copy=False), pd.Index(labels, dtype=STR)


def _sorted_codes(codes: np.ndarray, names: pd.Index) -> tuple[np.ndarray, pd.Index]:
    """Codes (-1 missing) into distinct `names`, renumbered to the sorted order of the names
    in use (shifted by one so that missing needs no mask)."""
    shifted = codes.astype(np.int64) + 1
    used = np.flatnonzero(np.bincount(shifted, minlength=len(names) + 1)[1:])
    kept = names.take(used)
    order = np.arange(len(kept)) if kept.is_monotonic_increasing else kept.argsort()
    remap = np.full(len(names) + 1, -1, dtype=np.int64)
    remap[used[order] + 1] = np.arange(len(kept))
    return remap[shifted], kept.take(order)


def of_customers(tx: pd.DataFrame, customers: pd.Index) -> np.ndarray:
    """Which lines belong to `customers` (ids as text): judged on the distinct ids, so ten
    million lines are never turned into text."""
    codes, uniques = pd.factorize(tx["customer_id"])
    hit = np.append(pd.Index(uniques).astype("str").isin(customers), False)
    return hit[codes]  # code -1 (missing) reads the appended False


def compact(codes: np.ndarray, labels: pd.Index) -> tuple[np.ndarray, pd.Index]:
    """Drop the labels no code uses, renumbering the codes (their order is kept)."""
    used = np.bincount(codes, minlength=len(labels)) > 0
    if used.all():
        return codes, labels
    return (np.cumsum(used) - 1)[codes], labels[used]
