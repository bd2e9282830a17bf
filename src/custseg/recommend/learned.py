"""The learned blend: weights chosen on a validation window carved from the end of the training
data, so the blend cannot lose to its own parts where it was chosen.

The sources are fitted again on the training data minus its last `validation.days`, asked for
the validation customers' lists, and scored on the new items those customers bought in the
window. The search starts from the best single source and greedily adds the source and weight
that raise the metric most, stopping when nothing does: every single source is a candidate, so
the chosen blend is never below the best of them on the validation window. The evaluation's
model of the past learns its own weights the same way inside its training window: the test
window is never seen.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from custseg.config.schema import Recommend
from custseg.progress import step
from custseg.recommend import blend
from custseg.recommend.codes import of_customers
from custseg.recommend.expected import purchase_by_position
from custseg.recommend.frame import head
from custseg.recommend.history import History, histories
from custseg.recommend.metrics import accuracy, ranked
from custseg.recommend.split import split

STEPS = (0.25, 1.0)  # weights tried for a source joining the blend (the best counts 1)
MAX_ADDED = 2  # sources added to the best single one at most


@dataclass
class BlendChoice:
    """The chosen weights and how they were chosen (logged with the run)."""

    weights: dict[str, float] = field(default_factory=dict)  # empty: no validation window
    score: float = float("nan")  # the chosen blend's validation metric
    singles: dict[str, float] = field(default_factory=dict)  # each source alone
    trials: list[tuple[str, float]] = field(default_factory=list)  # weights (json), metric
    window: dict[str, Any] = field(default_factory=dict)  # cut-off, customers, or why none
    purchase: np.ndarray = field(default_factory=lambda: np.zeros(0))  # P(buy | position)

    def as_params(self) -> dict[str, float]:
        return {f"blend.weight.{s}": w for s, w in self.weights.items()}


def _score(recs: pd.DataFrame, truth: History, k: int, metric: str) -> float:
    return accuracy(ranked(recs), truth, k)[metric]


def choose_weights(
    lists: Mapping[str, pd.DataFrame], truth: History, names: Sequence[str], k: int, metric: str
) -> BlendChoice:
    """Greedy forward search over source weights, from the best single source."""
    singles = {s: _score(lists[s], truth, k, metric) for s in names}
    best = max(names, key=lambda s: (np.nan_to_num(singles[s], nan=-1.0), -names.index(s)))
    current, value = {best: 1.0}, singles[best]
    trials = [(json.dumps({s: 1.0}), v) for s, v in singles.items()]
    for _ in range(min(MAX_ADDED, len(names) - 1)):
        tried = []
        for s in (n for n in names if n not in current):
            for w in STEPS:
                trial = current | {s: w}
                used = [n for n in names if n in trial]
                recs = blend.blend({n: lists[n] for n in used}, used, trial, k, mode="weights")
                tried.append((_score(recs, truth, k, metric), trial))
                trials.append((json.dumps(trial), tried[-1][0]))
        if not tried:
            break
        top = max(v for v, _ in tried)
        if not top > value + 1e-12:
            break
        value, current = top, next(t for v, t in tried if v == top)
    weights = {s: current.get(s, 0.0) for s in names}
    return BlendChoice(weights, value, singles, trials)


def _bounded(train: pd.DataFrame, keep: pd.Index, limit: int, seed: int) -> pd.DataFrame:
    """The lines of at most `limit` customers (all of `keep`, then a seeded sample of the
    rest): choosing weights needs sources fitted on enough customers, not on millions."""
    codes, uniques = pd.factorize(train["customer_id"])  # first-seen order, as the lines go
    customers = pd.Index(uniques).astype("str")
    if len(customers) <= limit:
        return train
    others = customers[~customers.isin(keep)]
    n = max(limit - len(keep), 0)
    pick = np.random.default_rng(seed).choice(len(others), min(n, len(others)), replace=False)
    chosen = np.append(customers.isin(keep.append(others[np.sort(pick)])), False)
    return train[chosen[codes]].reset_index(drop=True)


def learn_blend(
    tx: pd.DataFrame,
    segments: pd.Series,
    fit_window: Callable[[pd.DataFrame], Mapping[str, Any]],
    cfg: Recommend,
    item: str,
    seed: int,
    positions: int = 0,
) -> BlendChoice:
    """Fit the sources without the last `validation.days` of `tx` and choose the weights on
    them; no choice (configured weights apply) when the window leaves nothing to learn from.

    With `positions`, the chosen blend is also made that long on the window and the share of
    buyers with a purchase at each position is kept (`purchase`): what an offer at that
    position is worth in `expected.rerank`."""
    v = cfg.validation
    cut = tx["invoice_date"].max().normalize() - pd.Timedelta(days=v.days - 1)
    try:
        train, truth, info = split(tx, cutoff=cut.isoformat(), item=item)
    except ValueError as exc:
        return BlendChoice(window={"skipped": str(exc)})
    customers = truth.new.customers
    if len(customers) == 0:
        return BlendChoice(window={"skipped": "no customer bought a new item in the window"})
    if len(customers) > v.max_customers:
        pick = np.random.default_rng(seed).choice(len(customers), v.max_customers, replace=False)
        customers = customers[np.sort(pick)]
    train = _bounded(train, customers, v.max_train_customers, seed)
    bought = truth.new.subset(customers)
    with step(f"learn the blend's weights on the last {v.days} days ({len(customers):,} "
              "customers)"):  # fmt: skip
        sources = fit_window(train)
        lines = train[of_customers(train, customers)]
        history = histories(lines, item, cfg.half_life_days)
        deepest = max(cfg.k, positions)
        lists = {s: sources[s].recommend(history, segments, deepest) for s in cfg.order}
        heads = {s: head(recs, cfg.k) for s, recs in lists.items()}
        choice = choose_weights(heads, bought, list(cfg.order), cfg.k, v.metric)
        if positions:
            used = [s for s in cfg.order if choice.weights.get(s, 0.0) > 0]
            deep = blend.blend({s: lists[s] for s in used}, used, choice.weights, positions,
                               mode="weights")  # fmt: skip
            choice.purchase = purchase_by_position(deep, bought, positions)
    choice.window = {"cutoff": info["cutoff"], "customers": len(customers),
                     "train_rows": info["train_rows"], "metric": f"{v.metric}@{cfg.k}"}  # fmt: skip
    return choice
