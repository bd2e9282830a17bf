"""Offline evaluation: train on the past, check whether recommendations show up in the future.

Recommenders never offer an item the customer already has, so only items that are new to the
customer after the cutoff can be hits; customers with nothing new (or unseen before the cutoff,
for whom no recommender has a history) are left out and counted, not scored as misses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from custseg.recommend.common import histories, history_pairs

METRICS: tuple[str, ...] = ("hit_rate", "precision", "recall", "ndcg", "coverage")


def time_split(
    tx: pd.DataFrame,
    cutoff: str | None = None,
    test_fraction_days: float = 0.2,
    item: str = "product_id",
) -> tuple[pd.DataFrame, dict[str, set[str]], dict[str, Any]]:
    """Split at a date: rows before it train, the customers' new items on/after it are the test.

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
    test_items = {c: items - seen[c] for c, items in later.items() if c in seen}
    test_items = {c: items for c, items in test_items.items() if items}
    not_in_train = sum(c not in seen for c in later)
    info: dict[str, Any] = {
        "cutoff": cut.date().isoformat() if cut == cut.normalize() else cut.isoformat(),
        "train_rows": len(train),
        "test_rows": len(test),
        "train_customers": len(seen),
        "test_customers": len(test_items),
        "excluded_customers": len(later) - len(test_items),
        "excluded_not_in_train": not_in_train,
        "excluded_no_new_items": len(later) - len(test_items) - not_in_train,
        "test_items": sum(len(v) for v in test_items.values()),
    }
    return train, test_items, info


def _top(recs: pd.DataFrame, k: int) -> pd.DataFrame:
    """Each customer's first k recommendations, by `rank` when blended, else by score."""
    if "rank" in recs.columns:
        out = recs.sort_values(["customer_id", "rank"], kind="stable")
    else:
        out = recs.sort_values(
            ["customer_id", "score", "item"], ascending=[True, False, True], kind="stable"
        )
    out = out[["customer_id", "item"]].astype("str").drop_duplicates()
    pos = out.groupby("customer_id", sort=False).cumcount().to_numpy() + 1
    return out.assign(pos=pos).loc[pos <= k]


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
    top = _top(recs, k)
    coverage = top["item"].nunique() / catalogue_size if catalogue_size > 0 else float("nan")
    truth = history_pairs(test_items)
    n_test = truth.groupby("customer_id").size()
    if n_test.empty:
        nan = float("nan")
        return {"hit_rate": nan, "precision": nan, "recall": nan, "ndcg": nan, "coverage": coverage}
    hits = top.merge(truth, on=["customer_id", "item"], how="inner")
    hits["gain"] = 1.0 / np.log2(hits["pos"].to_numpy() + 1.0)
    per = hits.groupby("customer_id").agg(hits=("item", "size"), dcg=("gain", "sum"))
    per = per.reindex(n_test.index, fill_value=0)
    discount = np.cumsum(1.0 / np.log2(np.arange(1, k + 1) + 1.0))
    idcg = discount[np.minimum(n_test.to_numpy(), k) - 1]
    n_hits = per["hits"].to_numpy(dtype="float64")
    return {
        "hit_rate": float(np.mean(n_hits > 0)),
        "precision": float(np.mean(n_hits / k)),
        "recall": float(np.mean(n_hits / n_test.to_numpy())),
        "ndcg": float(np.mean(per["dcg"].to_numpy(dtype="float64") / idcg)),
        "coverage": float(coverage),
    }


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
    rows = {}
    for name, recs in named_recs.items():
        row: dict[str, float] = {}
        for k in ks:
            row |= {
                f"{m}@{k}": v for m, v in metrics_at_k(recs, test_items, k, catalogue_size).items()
            }
        rows[name] = row
    columns = [f"{m}@{k}" for k in ks for m in METRICS]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=columns).astype("float64")
    table.index.name = "recommender"
    return table
