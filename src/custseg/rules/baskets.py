"""Baskets: the canonical line items as a sparse basket x item boolean matrix.

A basket is whatever the analyst says is bought "together" (one invoice, one customer-day, a
customer's whole history); an item is a product id, a product name or a category. The matrix is
built straight from integer codes, so 1M lines take well under a second and memory stays
proportional to the line count. A dense basket x item matrix is never built: on real catalogues
that is what runs out of memory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from custseg.data.schema import has_column

log = logging.getLogger(__name__)


@dataclass
class Baskets:
    """One row per basket, one column per item; `keys` says whose basket each row is and when."""

    matrix: sp.csr_matrix  # baskets x items, dtype bool; a row may be empty (see below)
    items: np.ndarray  # item label (str) per column
    keys: pd.DataFrame  # basket_id, customer_id, date; same order as matrix rows
    dropped_items: int = 0  # distinct items dropped as rarer than min_item_count
    # baskets whose every item was dropped as rare: kept as empty rows, because supports, lifts
    # and confidences are shares of ALL the scope's baskets, these included
    emptied_baskets: int = 0

    def subset(self, mask: np.ndarray) -> Baskets:
        """The baskets where `mask` is True, with the same item columns (so codes stay valid)."""
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (self.n_baskets,):
            raise ValueError(f"mask has shape {mask.shape}; expected ({self.n_baskets},)")
        matrix = self.matrix[mask]
        return Baskets(
            matrix=matrix,
            items=self.items,
            keys=self.keys.loc[mask].reset_index(drop=True),
            dropped_items=self.dropped_items,
            emptied_baskets=int((np.diff(matrix.indptr) == 0).sum()),
        )

    @property
    def n_baskets(self) -> int:
        """Every basket, empty rows included: the denominator of every support."""
        return int(self.matrix.shape[0])


def _codes(s: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes (-1 for missing) and the labels they stand for; categoricals for free."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return codes.astype(np.int64, copy=False), pd.Index(uniques)


def _invoice_key(tx: pd.DataFrame) -> pd.Series:
    return tx["invoice_id"]


def _customer_key(tx: pd.DataFrame) -> pd.Series:
    return tx["customer_id"]


def _customer_day_key(tx: pd.DataFrame) -> pd.Series:
    """'customer@YYYY-MM-DD', built from codes: only the distinct pairs are turned into text."""
    cust, cust_labels = _codes(tx["customer_id"])
    day, day_labels = _codes(tx["invoice_date"].dt.normalize())
    pair = np.where(cust >= 0, cust * max(len(day_labels), 1) + day, -1)
    codes, uniq = pd.factorize(pair)
    valid = uniq >= 0
    labels = np.full(len(uniq), "", dtype=object)
    u = uniq[valid]
    labels[valid] = (
        pd.Index(cust_labels[u // len(day_labels)]).astype("str")
        + "@"
        + pd.DatetimeIndex(day_labels[u % len(day_labels)]).strftime("%Y-%m-%d")
    ).to_numpy(dtype=object)
    # a missing customer gives a missing basket; factorize put -1 in `uniq` for it
    remap = np.where(valid, np.cumsum(valid) - 1, -1)
    return pd.Series(
        pd.Categorical.from_codes(remap[codes], labels[valid]), index=tx.index, name="basket"
    )


# config name (rules.basket) -> key per row; rows with a missing key belong to no basket
BASKET_KEYS: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "invoice": _invoice_key,
    "customer_day": _customer_day_key,
    "customer": _customer_key,
}

# config name (rules.item) -> the canonical column that names an item
ITEM_KEYS: tuple[str, ...] = ("product_id", "product_name", "category")


def make_baskets(
    tx: pd.DataFrame,
    basket: str = "invoice",
    item: str = "product_id",
    min_item_count: int = 1,
) -> Baskets:
    """Build the sparse basket x item matrix from a canonical (cleaned) transaction table.

    Items in fewer than `min_item_count` baskets are dropped (they only widen the matrix and
    the recommenders' catalogue), but every basket keeps its row, an empty one when all its
    items were rare: a support is a share of all the baskets, and dropping those rows would
    inflate every support and shift every lift (issue 15). A basket is a basket key with at
    least one known item; rows whose basket key or item is missing are ignored.
    """
    if basket not in BASKET_KEYS:
        raise ValueError(f"rules.basket: unknown basket {basket!r}; one of {list(BASKET_KEYS)}")
    if item not in ITEM_KEYS:
        raise ValueError(f"rules.item: unknown item column {item!r}; one of {list(ITEM_KEYS)}")
    if not has_column(tx, item):
        present = [c for c in ITEM_KEYS if has_column(tx, c)]
        fix = (f"set rules.item={present[0]}" if present else
               "map a product column (data.columns.product_id) or use rules=none")  # fmt: skip
        raise ValueError(
            f"rules.item={item}: column {item!r} is absent or empty in this data; "
            f"item columns present: {present or 'none'}; {fix}"
        )
    min_item_count = max(int(min_item_count), 1)

    bcode, blabels = _codes(BASKET_KEYS[basket](tx))
    icode, ilabels = _codes(tx[item])
    ilabels = ilabels.astype("str")
    # items in sorted label order, so columns do not depend on row order
    order = np.argsort(ilabels.to_numpy(dtype=object), kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    ilabels = ilabels[order]
    ok = (bcode >= 0) & (icode >= 0)
    icode = np.where(icode >= 0, rank[icode.clip(0)], -1)

    n_b, n_i = len(blabels), len(ilabels)
    # one entry per (basket, item): an item listed twice in a basket counts once
    pair = np.sort(bcode[ok] * n_i + icode[ok])
    pair = pair[np.r_[True, pair[1:] != pair[:-1]]] if len(pair) else pair
    pb, pi = pair // n_i, pair % n_i
    # every basket with a known item is a row (before the rare items go), so none is lost
    basket_used = np.bincount(pb, minlength=n_b) > 0

    item_count = np.bincount(pi, minlength=n_i)
    keep_item = item_count >= min_item_count
    dropped = int((~keep_item & (item_count > 0)).sum())
    keep_entry = keep_item[pi]
    pb, pi = pb[keep_entry], pi[keep_entry]
    item_new = np.cumsum(keep_item) - 1
    basket_new = np.cumsum(basket_used) - 1
    rows, cols = basket_new[pb], item_new[pi]
    shape = (int(basket_used.sum()), int(keep_item.sum()))
    matrix = sp.csr_matrix((np.ones(len(rows), dtype=bool), (rows, cols)), shape=shape)
    emptied = int((np.diff(matrix.indptr) == 0).sum())

    # basket keys: first date and first non-missing customer of each basket, on integer codes
    # (object arrays of a million id strings would cost more than the matrix itself)
    ccode, clabels = _codes(tx["customer_id"])
    has_b = bcode >= 0
    frame = pd.DataFrame(
        {
            "b": bcode[has_b],
            "c": np.where(ccode >= 0, ccode, np.nan)[has_b],
            "date": tx["invoice_date"].to_numpy()[has_b],
        }
    )
    agg = frame.groupby("b", sort=True).agg(c=("c", "first"), date=("date", "min"))
    used = np.flatnonzero(basket_used)
    c = agg["c"].to_numpy()[used]
    cust = pd.Series(pd.NA, index=range(len(used)), dtype="str")
    cust[~np.isnan(c)] = pd.Index(clabels).astype("str")[c[~np.isnan(c)].astype(np.int64)]
    keys = pd.DataFrame(
        {
            "basket_id": pd.Index(blabels[used]).astype("str"),
            "customer_id": cust,
            "date": agg["date"].to_numpy()[used],
        }
    )
    items = np.array([str(x) for x in ilabels[keep_item]], dtype=object)
    log.info(
        "baskets: %s %s baskets x %s %s items (%s rarer than %s baskets dropped, %s baskets "
        "left empty by that and still counted), %s entries",
        f"{shape[0]:,}", basket, f"{shape[1]:,}", item, f"{dropped:,}", min_item_count,
        f"{emptied:,}", f"{matrix.nnz:,}",
    )  # fmt: skip
    return Baskets(
        matrix=matrix, items=items, keys=keys, dropped_items=dropped, emptied_baskets=emptied
    )
