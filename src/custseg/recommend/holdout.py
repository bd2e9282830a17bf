"""The honest test of the recommenders: a customer model fitted on the past only, asked through
its own `recommend` for each test customer's next items, beside the baselines, all scored by
the same code on what each customer bought after the cut-off.

The past model is the same class as the run's, fitted with the run's final segmentation
parameters (a study is not repeated on the past) and without profiles and personas (it is only
asked for recommendations), so the "custseg" row measures exactly the recommender the run serves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from custseg.config.schema import Config, Off, Recommend, Rules
from custseg.features import FeatureError
from custseg.model import CustomerModel
from custseg.notices import warn
from custseg.progress import step
from custseg.recommend.codes import of_customers
from custseg.recommend.evaluate import evaluation_detail, evaluation_table
from custseg.recommend.history import histories
from custseg.recommend.recommenders import BASELINES, BLEND, RELEVANCE
from custseg.recommend.split import EmptySplit, Truth, split, too_small
from custseg.segment.algorithms import ClusteringError


@dataclass
class Evaluation:
    table: pd.DataFrame  # one row per recommender (custseg first), metric@k columns
    split: dict[str, Any]  # cut-off, rows and customers on each side, exclusions
    detail: pd.DataFrame = field(default_factory=pd.DataFrame)  # by items, segment, k, metric


def skipped(reason: str, info: dict[str, Any]) -> Evaluation:
    """No evaluation: the reason as a warning (tag `warning.evaluation.skipped`, a line in the
    report) and an empty table, so no figure computed on nothing is shown as a result. The
    split summary keeps its sizes, scores no customer and says why."""
    warn("evaluation.skipped", f"recommendation evaluation skipped: {reason}")
    none = {"test_customers": 0, "excluded_customers": 0, "test_items_unseen_in_training": 0}
    return Evaluation(pd.DataFrame(), {**info, **none, "skipped": reason})


def past_config(config: Config, model: CustomerModel) -> Config:
    """The run's config with its final segmentation fixed: no study and no bootstrap on the
    past (the run measured its segments' stability; this model only has to recommend)."""
    stability = config.stability.model_copy(update={"rounds": 0})
    return config.model_copy(update={"segment": model.algorithm_, "tuning": Off(enabled=False),
                                     "stability": stability})  # fmt: skip


def _sample(truth: Truth, limit: int, seed: int) -> tuple[Truth, int]:
    """At most `limit` test customers (a seeded sample), and how many there were."""
    customers = truth.customers
    if len(customers) <= limit:
        return truth, len(customers)
    pick = np.sort(np.random.default_rng(seed).choice(len(customers), limit, replace=False))
    kept = customers[pick]
    return Truth(truth.new.subset(kept), truth.repeat.subset(kept)), len(customers)


def evaluate(config: Config, tx: pd.DataFrame, model: CustomerModel) -> Evaluation:
    """Fit on the training side of the split, ask it for the test customers' lists and score
    every recommender at each k of `recommend.evaluate.ks`, on new and on repeat items.

    Lists are as long as the served ones (`recommend.k`) for every k up to it, so those
    figures are the served lists' own; a larger k is scored on lists of that length.
    """
    rec, rules = config.recommend, config.rules
    if not isinstance(rec, Recommend) or not isinstance(rules, Rules):
        raise ValueError("the evaluation needs rules and recommendations switched on")
    ev = rec.evaluate
    try:
        train, truth, info = split(tx, ev.cutoff, ev.test_fraction, rules.item, ev.split)
    except EmptySplit as exc:
        return skipped(str(exc), {"split": ev.split, "train_rows": 0, "test_rows": 0})
    reason = too_small(train, truth, info, model.algorithm_)
    if reason:
        return skipped(reason, info)
    truth, n_test = _sample(truth, ev.max_customers, config.seed)
    info["scored_customers"] = f"{len(truth.customers):,} of {n_test:,}"
    try:
        with step(f"fit the same model on the {len(train):,} lines before {info['cutoff']}"):
            past = CustomerModel(past_config(config, model), describe=False).fit(train)
    except (ClusteringError, FeatureError) as exc:  # the window holds too little to segment
        return skipped(f"the model could not be fitted on the {len(train):,} training lines "
                       f"before {info['cutoff']}: {exc}", info)  # fmt: skip
    info["blend_weights"] = past.blend_.weights
    info["blend_window"] = past.blend_.window
    lines = train[of_customers(train, truth.customers)]
    segments = past.segment(lines, clean=False)
    bought = histories(train, rules.item)
    groups = [(ks, length) for ks, length in (([k for k in ev.ks if k <= rec.k], rec.k),
              ([k for k in ev.ks if k > rec.k], max(ev.ks))) if ks]  # fmt: skip
    worth = past.expected_  # ranked by expected value: the relevance order is scored beside it
    if worth is None and getattr(model, "expected_", None) is not None:
        warn("evaluation.rank_by", "the evaluation's model of the past could not rank by "
             "expected value (its training window left no purchase curve or no item values), "
             "so its custseg row is the relevance order, not the ranking the run serves")
    names = [BLEND, *([RELEVANCE] if worth is not None else []), *BASELINES]
    every = past.recommend_lengths(lines, names, [n for _, n in groups], clean=False)
    values = None if worth is None else worth.values
    tables, details = [], []
    for ks, length in groups:
        lists = every[length]
        tables.append(evaluation_table(lists, truth.new, ks, past.training_.catalogue,
                                       truth.repeat, bought, values))  # fmt: skip
        details.append(evaluation_detail(lists, truth, ks, segments))
    return Evaluation(pd.concat(tables, axis=1), info, pd.concat(details, ignore_index=True))
