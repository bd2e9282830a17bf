"""Train/test splits for the recommenders, and what counts as a right answer.

The global time cut (the default) trains on every line before a date and tests on what the known
customers buy on or after it: the honest setting for a campaign sent on that date. The
per-customer chronological split ("leave the last basket out", as in the next-basket
literature) tests each customer with two or more shopping days on its last day and trains on
everything else. Either way the test is split in two, because the field reports them apart (Li
et al. 2023, "A Next Basket Recommendation Reality Check"): new items (cross-sell: never bought
by that customer before) and repeat items (buy-again). Customers unseen in training have no
history to recommend from; they are left out and counted. True items no training line ever
mentions are kept: every method misses them, and the split says how many there were.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from custseg.recommend.codes import compact
from custseg.recommend.history import History, histories

SPLITS = ("global", "per_customer")


@dataclass
class Truth:
    """What each test customer bought after the split, new to it and bought again."""

    new: History  # customer -> items it had never bought (only customers with some)
    repeat: History  # customer -> items it had bought before (only customers with some)

    @property
    def customers(self) -> pd.Index:
        return self.new.customers.union(self.repeat.customers)


def _part(seen: History, later: History, repeated: bool) -> History:
    """The items each already-known customer buys later that it had (not) bought before."""
    rows, cols = later.pairs()
    seen_row = seen.customers.get_indexer(later.customers)[rows]
    seen_col = seen.item_labels.get_indexer(later.item_labels)[cols]
    bought = seen.contains(seen_row, seen_col)
    keep = (seen_row >= 0) & (bought if repeated else ~bought)
    rows, customers = compact(rows[keep], later.customers)
    cols, items = compact(cols[keep], later.item_labels)
    return History.from_codes(rows, cols, customers, items)


def _global_cut(
    tx: pd.DataFrame, cutoff: str | None, test_fraction: float
) -> tuple[np.ndarray, str]:
    """Lines before the cut-off (default: midnight of the day that leaves the last
    `test_fraction` share of the calendar days, at least one, for testing)."""
    dates = tx["invoice_date"]
    if cutoff is None:
        if not 0.0 < test_fraction < 1.0:
            raise ValueError(
                f"recommend.evaluate.test_fraction must lie in (0, 1), got {test_fraction}"
            )
        first, last = dates.min().normalize(), dates.max().normalize()
        n_days = (last - first).days + 1
        test_days = max(1, round(n_days * test_fraction))
        cut = last + pd.Timedelta(days=1 - test_days)
    else:
        cut = pd.Timestamp(cutoff)
    text = cut.date().isoformat() if cut == cut.normalize() else cut.isoformat()
    return (dates < cut).to_numpy(), text


def _last_days(tx: pd.DataFrame) -> tuple[np.ndarray, str]:
    """Lines before each customer's last shopping day, for customers with two or more days;
    every line of a one-day customer trains."""
    day = tx["invoice_date"].dt.normalize()
    by = tx["customer_id"].astype("str")
    last = day.groupby(by).transform("max")
    first = day.groupby(by).transform("min")
    return ((day < last) | (first == last)).to_numpy(), "each customer's last shopping day"


class EmptySplit(ValueError):
    """A split with no line on one side: nothing to train on, or nothing to test on."""


def _empty(tx: pd.DataFrame, no_train: bool, cutoff: str | None, cut: str, how: str) -> str:
    """What an empty side lacks and what would give it lines."""
    dates = tx["invoice_date"]
    first, last = dates.min(), dates.max()
    span = f"the {len(tx):,} lines span {first} to {last}"
    side = "training set (lines before the cut-off)" if no_train else "test set (lines on or " \
        "after the cut-off)"
    if first.normalize() == last.normalize():
        return (f"the time split has an empty {side}: all {len(tx):,} lines are on "
                f"{first.date()}, and a time split needs lines on at least two days; load a "
                "longer period, or set recommend.evaluate.enabled=false")  # fmt: skip
    if how == "per_customer":
        return (f"the per-customer split has an empty test set: no customer shopped on two or "
                f"more days ({span}); set recommend.evaluate.split=global or load a longer "
                "period")  # fmt: skip
    if cutoff is not None:
        return (f"recommend.evaluate.cutoff={cutoff} leaves an empty {side}: {span}; set it "
                f"between {first.date()} and {last.date()} (or null for the last "
                "recommend.evaluate.test_fraction of the days)")  # fmt: skip
    return (f"the cut-off {cut} leaves an empty {side}: {span}; set recommend.evaluate.cutoff "
            f"between {first.date()} and {last.date()}")  # fmt: skip


def split(
    tx: pd.DataFrame,
    cutoff: str | None = None,
    test_fraction: float = 0.2,
    item: str = "product_id",
    how: str = "global",
) -> tuple[pd.DataFrame, Truth, dict[str, Any]]:
    """Training lines, the test truth and a summary (cut-off, rows, customers, exclusions)."""
    if how not in SPLITS:
        raise ValueError(f"recommend.evaluate.split: unknown {how!r}; one of {list(SPLITS)}")
    before, cut = _global_cut(tx, cutoff, test_fraction) if how == "global" else _last_days(tx)
    train = tx.loc[before].reset_index(drop=True)
    test = tx.loc[~before]
    if train.empty or test.empty:
        raise EmptySplit(_empty(tx, train.empty, cutoff, cut, how))
    seen, later = histories(train, item), histories(test, item)
    truth = Truth(_part(seen, later, repeated=False), _part(seen, later, repeated=True))
    never_trained = ~truth.new.item_labels.isin(seen.item_labels)
    not_in_train = int((seen.customers.get_indexer(later.customers) < 0).sum())
    info: dict[str, Any] = {
        "split": how,
        "cutoff": cut,
        "train_rows": len(train),
        "test_rows": len(test),
        "train_customers": len(seen),
        "test_customers": len(truth.new),  # customers scored on new items (the headline)
        "repeat_customers": len(truth.repeat),
        "excluded_customers": len(later) - len(truth.new),
        "excluded_not_in_train": not_in_train,
        "excluded_no_new_items": len(later) - len(truth.new) - not_in_train,
        "test_items": truth.new.nnz,
        "test_items_repeat": truth.repeat.nnz,
        "test_items_unseen_in_training": int(never_trained[truth.new.matrix.indices].sum()),
    }
    return train, truth, info


def too_small(train: pd.DataFrame, truth: Truth, info: dict[str, Any], algorithm: Any) -> str:
    """Why this split cannot evaluate anything ('' when it can): fewer training customers than
    the segmentation needs (the model of the past would not fit), or no customer known before
    the cut-off who buys anything after it (every figure would be 0 of 0)."""
    sizes = [getattr(algorithm, k, None) for k in ("n_clusters", "min_cluster_size")]
    need = max([2, *(v for v in sizes if isinstance(v, int))])
    window = (f"{info['train_rows']:,} training line(s) before {info['cutoff']} and "
              f"{info['test_rows']:,} test line(s) on or after it")
    fix = ("set recommend.evaluate.cutoff to a day that leaves more lines on both sides, load a "
           "longer period, or set recommend.evaluate.enabled=false")
    if info["train_customers"] < need:
        return (f"{window}: the training lines hold {info['train_customers']:,} customer(s) "
                f"but the segmentation needs at least {need}; {fix}")  # fmt: skip
    if len(truth.customers) == 0:
        return (f"{window}: no customer of the training lines buys anything in the test lines "
                f"({info['excluded_not_in_train']:,} test customer(s) are new), so there is "
                f"nothing to score; {fix}")  # fmt: skip
    return ""
