"""The honest test of the recommenders: a customer model fitted on the past only, asked through
its own `recommend` for each test customer's next items, beside the baselines, all scored by
the same code on what each customer bought after the cut-off.

The past model is the same class as the run's, fitted with the run's final segmentation
parameters (a study is not repeated on the past) and without profiles and personas (it is only
asked for recommendations), so the "custseg" row measures exactly the recommender the run serves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from custseg.config.schema import Config, Off, Recommend, Rules
from custseg.model import CustomerModel
from custseg.progress import step
from custseg.recommend.evaluate import evaluation_table, time_split
from custseg.recommend.recommenders import BASELINES, BLEND


@dataclass
class Evaluation:
    table: pd.DataFrame  # one row per recommender (custseg first), metric@k columns
    split: dict[str, Any]  # cut-off, rows and customers on each side, exclusions


def past_config(config: Config, model: CustomerModel) -> Config:
    """The run's config with its final segmentation fixed: no study and no bootstrap on the
    past (the run measured its segments' stability; this model only has to recommend)."""
    stability = config.stability.model_copy(update={"rounds": 0})
    return config.model_copy(update={"segment": model.algorithm_, "tuning": Off(enabled=False),
                                     "stability": stability})  # fmt: skip


def evaluate(config: Config, tx: pd.DataFrame, model: CustomerModel) -> Evaluation:
    """Fit on the lines before the cut-off, recommend for the customers who buy something new
    after it, and score every recommender at each k of `recommend.evaluate.ks`."""
    rec, rules = config.recommend, config.rules
    if not isinstance(rec, Recommend) or not isinstance(rules, Rules):
        raise ValueError("the evaluation needs rules and recommendations switched on")
    ev = rec.evaluate
    train, test_items, info = time_split(tx, ev.cutoff, ev.test_fraction, item=rules.item)
    with step(f"fit the same model on the {len(train):,} lines before {info['cutoff']}"):
        past = CustomerModel(past_config(config, model), describe=False).fit(train)
    lines = train[train["customer_id"].astype("str").isin(test_items.customers)]
    lists = past.recommend_all(lines, [BLEND, *BASELINES], clean=False)
    table = evaluation_table(lists, test_items, tuple(ev.ks), past.training_.catalogue)
    return Evaluation(table, info)
