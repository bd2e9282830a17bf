"""Offline evaluation: train on the past, check whether recommendations show up in the future.

Recommenders never offer an item the customer already has, so only items that are new to the
customer after the cutoff can be hits; customers with nothing new (or unseen before the cutoff,
for whom no recommender has a history) are left out and counted, not scored as misses.

Histories, test items and recommendations are compared as integer (customer, item) codes, and
each recommender's list is ordered and cut once for all k: no string sorts of millions of rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from custseg.recommend.history import History, as_history, compact, histories, labels_of
from custseg.recommend.kernels import first_in_runs, in_recs_order, rank_within

METRICS: tuple[str, ...] = ("hit_rate", "precision", "recall", "ndcg", "coverage")


def time_split(
    tx: pd.DataFrame,
    cutoff: str | None = None,
    test_fraction_days: float = 0.2,
    item: str = "product_id",
) -> tuple[pd.DataFrame, History, dict[str, Any]]:
    """Split at a date: rows before it train, the customers' new items on/after it are the test
    (a History: customer -> new items, only customers with at least one).

    The default cutoff is midnight of the day that leaves the last `test_fraction_days` share of
    the calendar days (at least one) for testing: with 10 days and 0.2, the last 2 days.
    """
    dates = tx["invoice_date"]
    if cutoff is None:
        if not 0.0 < test_fraction_days < 1.0:
            raise ValueError(
                f"recommend.evaluate.test_fraction must lie in (0, 1), got {test_fraction_days}"
            )
        first, last = dates.min().normalize(), dates.max().normalize()
        n_days = (last - first).days + 1
        test_days = max(1, round(n_days * test_fraction_days))
        cut = last + pd.Timedelta(days=1 - test_days)
    else:
        cut = pd.Timestamp(cutoff)
    before = (dates < cut).to_numpy()
    train = tx.loc[before].reset_index(drop=True)
    test = tx.loc[~before]
    if train.empty or test.empty:
        raise ValueError(
            f"cutoff {cut} leaves an empty {'train' if train.empty else 'test'} set; "
            f"data spans {dates.min()} to {dates.max()}"
        )
    seen = histories(train, item)
    later = histories(test, item)
    test_items = _new_items(seen, later)
    not_in_train = int((seen.customers.get_indexer(later.customers) < 0).sum())
    info: dict[str, Any] = {
        "cutoff": cut.date().isoformat() if cut == cut.normalize() else cut.isoformat(),
        "train_rows": len(train),
        "test_rows": len(test),
        "train_customers": len(seen),
        "test_customers": len(test_items),
        "excluded_customers": len(later) - len(test_items),
        "excluded_not_in_train": not_in_train,
        "excluded_no_new_items": len(later) - len(test_items) - not_in_train,
        "test_items": test_items.nnz,
    }
    return train, test_items, info


def _new_items(seen: History, later: History) -> History:
    """Items each already-known customer buys later that it had not bought before."""
    rows, cols = later.pairs()
    seen_row = seen.customers.get_indexer(later.customers)[rows]
    seen_col = seen.item_labels.get_indexer(later.item_labels)[cols]
    keep = (seen_row >= 0) & ~seen.contains(seen_row, seen_col)
    rows, customers = compact(rows[keep], later.customers)
    cols, items = compact(cols[keep], later.item_labels)
    return History.from_codes(rows, cols, customers, items)


@dataclass
class _Ranked:
    """One recommender's lists, deduplicated and in order, as codes: enough for every k."""

    cust: np.ndarray  # customer code (any numbering), rows grouped by customer
    item: np.ndarray  # item code into `items`
    pos: np.ndarray  # 1-based position in the customer's list
    items: pd.Index
    customers: pd.Index


def _ranked(recs: pd.DataFrame) -> _Ranked:
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
    return _Ranked(cust, item, rank_within(cust) + 1, items, customers)


def _metrics(ranked: _Ranked, truth: History, k: int, catalogue_size: int) -> dict[str, float]:
    top = ranked.pos <= k
    n_items = int(np.count_nonzero(np.bincount(ranked.item[top], minlength=len(ranked.items))))
    coverage = n_items / catalogue_size if catalogue_size > 0 else float("nan")
    n_test = truth.sizes()
    tested = n_test > 0
    if not tested.any():
        nan = float("nan")
        return {"hit_rate": nan, "precision": nan, "recall": nan, "ndcg": nan, "coverage": coverage}
    row = truth.customers.get_indexer(ranked.customers)[ranked.cust[top]]
    col = truth.item_labels.get_indexer(ranked.items)[ranked.item[top]]
    hit = truth.contains(row, col)
    pos = ranked.pos[top][hit]
    gain = 1.0 / np.log2(pos + 1.0)
    # per customer in list order, summed as pandas does (the same floats as ever)
    dcg = pd.Series(gain).groupby(row[hit]).sum().reindex(np.arange(len(n_test)), fill_value=0)
    hits = np.bincount(row[hit], minlength=len(n_test))[tested].astype("float64")
    dcg_t = dcg.to_numpy(dtype="float64")[tested]
    n_t = n_test[tested]
    discount = np.cumsum(1.0 / np.log2(np.arange(1, k + 1) + 1.0))
    idcg = discount[np.minimum(n_t, k) - 1]
    return {
        "hit_rate": float(np.mean(hits > 0)),
        "precision": float(np.mean(hits / k)),
        "recall": float(np.mean(hits / n_t)),
        "ndcg": float(np.mean(dcg_t / idcg)),
        "coverage": float(coverage),
    }


def metrics_at_k(
    recs: pd.DataFrame,
    test_items: Mapping[str, Iterable[str]],
    k: int,
    catalogue_size: int,
) -> dict[str, float]:
    """Hit rate, precision, recall, NDCG (binary relevance) over the test customers at k, and
    catalogue coverage of everything recommended; a test customer with no recs is a miss."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    return _metrics(_ranked(recs), as_history(test_items), k, catalogue_size)


def evaluation_table(
    named_recs: Mapping[str, pd.DataFrame],
    test_items: Mapping[str, Iterable[str]],
    ks: Sequence[int] = (5, 10),
    catalogue_size: int | None = None,
) -> pd.DataFrame:
    """One row per recommender, metric@k columns: the comparison the pipeline logs and reports.

    `catalogue_size` is required (coverage is meaningless without it); it only has a default
    so it can follow `ks` positionally.
    """
    if catalogue_size is None:
        raise ValueError("evaluation_table needs catalogue_size (items a recommender could pick)")
    if any(k < 1 for k in ks):
        raise ValueError(f"every k must be at least 1, got {list(ks)}")
    truth = as_history(test_items)
    rows = {}
    for name, recs in named_recs.items():
        ranked = _ranked(recs)  # ordered once, cut at each k
        row: dict[str, float] = {}
        for k in ks:
            row |= {f"{m}@{k}": v for m, v in _metrics(ranked, truth, k, catalogue_size).items()}
        rows[name] = row
    columns = [f"{m}@{k}" for k in ks for m in METRICS]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=columns).astype("float64")
    table.index.name = "recommender"
    return table
