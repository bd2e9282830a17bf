"""The learned blend: never below its best single source on the window it was chosen on, and
chosen inside the training data only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custseg.clean import clean
from custseg.data.sources import load
from custseg.model import CustomerModel
from custseg.recommend.history import History
from custseg.recommend.holdout import evaluate
from custseg.recommend.learned import choose_weights
from custseg.recommend.metrics import accuracy, ranked
from tests.conftest import make_config

SMALL = "data.generator.n_rows=20000"


def _lists(seed: int, customers: int = 60, items: int = 40, k: int = 10):
    """Three noisy sources of different quality over random truths."""
    rng = np.random.default_rng(seed)
    ids = [f"c{i:02d}" for i in range(customers)]
    names = np.array([f"i{j:02d}" for j in range(items)])
    truth = {c: set(rng.choice(names, 3, replace=False)) for c in ids}
    lists = {}
    for s, skill in (("good", 2.0), ("fair", 1.0), ("noise", 0.0)):
        rows = []
        for c in ids:
            score = rng.random(items) + skill * np.isin(names, list(truth[c])) * rng.random(items)
            top = np.argsort(-score)[:k]
            rows += [(c, names[j], float(score[j])) for j in top]
        lists[s] = pd.DataFrame(rows, columns=["customer_id", "item", "score"]).assign(
            source=s, reason=s
        )
    return lists, History.from_mapping(truth)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("metric", ["ndcg", "hit_rate"])
def test_the_chosen_blend_is_never_below_its_best_single_source(seed, metric):
    lists, truth = _lists(seed)
    names = ["noise", "fair", "good"]
    choice = choose_weights(lists, truth, names, 10, metric)
    singles = {s: accuracy(ranked(lists[s]), truth, 10)[metric] for s in names}
    assert choice.singles == pytest.approx(singles)
    assert choice.score >= max(singles.values())
    assert set(choice.weights) == set(names) and max(choice.weights.values()) == 1.0
    best = max(names, key=lambda s: (singles[s], -names.index(s)))
    assert choice.weights[best] == 1.0  # the search starts from the best single source
    assert len(choice.trials) >= len(names)


def test_weights_are_learned_inside_the_training_window():
    """The run's model chooses its blend on the last `validation.days` of its data; the
    evaluation's model of the past on the last days before the test cut-off, never after."""
    cfg = make_config(SMALL, "report=none", "recommend.validation.days=5")
    tx, _ = clean(load(cfg.data, cfg.seed).transactions, cfg.clean)
    model = CustomerModel(cfg).fit(tx)
    choice = model.blend_
    assert choice.weights and choice.score >= max(choice.singles.values())
    last = tx["invoice_date"].max().normalize()
    assert pd.Timestamp(choice.window["cutoff"]) == last - pd.Timedelta(days=4)
    ev = evaluate(cfg, tx, model)
    past = ev.split["blend_window"]
    assert ev.split["blend_weights"] and past["customers"] > 0
    assert pd.Timestamp(past["cutoff"]) < pd.Timestamp(ev.split["cutoff"])
