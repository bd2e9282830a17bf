"""Offline evaluation: train on the past, check whether recommendations show up in the future.

The headline table scores every recommender on new items (cross-sell): a customer's lists
never repeat what it has, and the campaign question is "what will it buy that it never did".
Repeat items (buy-again) are scored apart, the same metrics on the same lists, so a buy-again
list and a cross-sell list are each judged on the purchases they aim at. The detail table
breaks every accuracy metric down by segment, which answers "do segment rules beat global
ones" with numbers. Metrics are the field's (`metrics`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from custseg.recommend.expected import revenue
from custseg.recommend.history import History, as_history
from custseg.recommend.metrics import (
    ACCURACY,
    BEYOND,
    Training,
    accuracy,
    beyond,
    per_customer,
    ranked,
)
from custseg.recommend.segments import segment_codes
from custseg.recommend.split import Truth, split

METRICS: tuple[str, ...] = (*ACCURACY, *BEYOND)
REPEAT = "repeat."  # column prefix of the metrics on repeat items
ALL = "all"  # the segment label of the whole test population in the detail table
REVENUE = "revenue"  # value of the new items bought from the top k, per test customer
HEADLINE = ("hit_rate", "precision", "recall", "ndcg", "map", "revenue", "coverage", "novelty",
            "diversity", "repeat.hit_rate", "repeat.ndcg")  # what a reader compares first


def headline(table: pd.DataFrame, k: int) -> pd.DataFrame:
    """The HEADLINE columns at one k (all of them when none is there)."""
    shown = [f"{m}@{k}" for m in HEADLINE if f"{m}@{k}" in table.columns]
    return table[shown] if shown else table


def time_split(
    tx: pd.DataFrame,
    cutoff: str | None = None,
    test_fraction_days: float = 0.2,
    item: str = "product_id",
) -> tuple[pd.DataFrame, History, dict[str, Any]]:
    """The global time cut with the new items as the test (see `split.split` for both parts)."""
    train, truth, info = split(tx, cutoff, test_fraction_days, item)
    return train, truth.new, info


def metrics_at_k(
    recs: pd.DataFrame,
    test_items: Mapping[str, Iterable[str]],
    k: int,
    catalogue_size: int,
) -> dict[str, float]:
    """Hit rate, precision, recall, NDCG, MAP (binary relevance) over the test customers at k,
    and catalogue coverage of everything recommended; a test customer with no recs is a miss."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    r = ranked(recs)
    top = r.pos <= k
    n_items = np.count_nonzero(np.bincount(r.item[top], minlength=len(r.items)))
    coverage = n_items / catalogue_size if catalogue_size > 0 else float("nan")
    return accuracy(r, as_history(test_items), k) | {"coverage": float(coverage)}


def evaluation_table(
    named_recs: Mapping[str, pd.DataFrame],
    test_items: Mapping[str, Iterable[str]],
    ks: Sequence[int] = (5, 10),
    catalogue_size: int | None = None,
    repeat: Mapping[str, Iterable[str]] | None = None,
    training: History | None = None,
    values: pd.Series | None = None,
) -> pd.DataFrame:
    """One row per recommender, metric@k columns: the comparison the pipeline logs and reports.

    Accuracy on `test_items` (new items) and catalogue coverage always; with the `training`
    history also distributional coverage, novelty and diversity; with `repeat` the accuracy
    metrics on repeat items too (columns `repeat.<metric>@k`); with item `values` the revenue
    a list captured (`revenue@k`, `custseg.recommend.expected.revenue`). `catalogue_size` is
    required (coverage is meaningless without it); it only has a default so it can follow `ks`.
    """
    if catalogue_size is None:
        raise ValueError("evaluation_table needs catalogue_size (items a recommender could pick)")
    if any(k < 1 for k in ks):
        raise ValueError(f"every k must be at least 1, got {list(ks)}")
    truth = as_history(test_items)
    again = None if repeat is None else as_history(repeat)
    train = None if training is None else Training(training, catalogue_size)
    rows = {}
    for name, recs in named_recs.items():
        r = ranked(recs)  # ordered once, cut at each k
        row: dict[str, float] = {}
        for k in ks:
            row |= {f"{m}@{k}": v for m, v in accuracy(r, truth, k).items()}
            if train is not None:
                row |= {f"{m}@{k}": v for m, v in beyond(r, k, train).items()}
            else:
                row[f"coverage@{k}"] = metrics_at_k(recs, {}, k, catalogue_size)["coverage"]
            if again is not None:
                row |= {f"{REPEAT}{m}@{k}": v for m, v in accuracy(r, again, k).items()}
            if values is not None:
                row[f"{REVENUE}@{k}"] = revenue(r, truth, k, values)
        rows[name] = row
    names = METRICS if train is not None else (*ACCURACY, "coverage")
    names = (*names, REVENUE) if values is not None else names
    columns = [f"{m}@{k}" for k in ks for m in names]
    if again is not None:
        columns += [f"{REPEAT}{m}@{k}" for k in ks for m in ACCURACY]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=columns).astype("float64")
    table.index.name = "recommender"
    return table


def evaluation_detail(
    named_recs: Mapping[str, pd.DataFrame],
    truth: Truth,
    ks: Sequence[int],
    segments: pd.Series,
) -> pd.DataFrame:
    """Every accuracy metric by recommender, items (new | repeat), segment (and `all`) and k,
    with the number of customers behind each figure: a long table."""
    out = []
    for part, items in (("new", truth.new), ("repeat", truth.repeat)):
        tested = items.customers[items.sizes() > 0]
        code, labels = segment_codes(segments, tested)
        for name, recs in named_recs.items():
            r = ranked(recs)
            for k in ks:
                values = per_customer(r, items, k)
                groups = [(ALL, np.ones(len(code), dtype=bool))]
                groups += [(str(s), code == i) for i, s in enumerate(labels)]
                for label, mask in groups:
                    n = int(mask.sum())
                    if n == 0:
                        continue
                    out += [(name, part, label, k, m, float(v[mask].mean()), n)
                            for m, v in values.items()]  # fmt: skip
    return pd.DataFrame(
        out, columns=["recommender", "items", "segment", "k", "metric", "value", "customers"]
    )
