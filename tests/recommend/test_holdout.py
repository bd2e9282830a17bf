"""The honest test of the recommenders: made from the past only, scored on what came next.

Demo data with planted segments: segment favourites know what a customer's segment buys, so the
blend must beat global popularity; a product that only exists after the cut-off, or any other
change to the lines after it, must change nothing any recommender offers.
"""

from __future__ import annotations

import pandas as pd
import pytest

from custseg.clean import clean
from custseg.config import Config
from custseg.config.schema import Off
from custseg.data.sources import load
from custseg.model import CustomerModel
from custseg.recommend.evaluate import time_split
from custseg.recommend.history import histories
from custseg.recommend.holdout import Evaluation, evaluate, past_config
from custseg.recommend.recommenders import BASELINES, BLEND
from tests.conftest import make_config

SMALL = "data.generator.n_rows=20000"


@pytest.fixture(scope="module")
def job() -> tuple[pd.DataFrame, Config, CustomerModel, Evaluation]:
    cfg = make_config(SMALL, "report=none")
    tx, _ = clean(load(cfg.data, cfg.seed).transactions, cfg.clean)
    model = CustomerModel(cfg).fit(tx)
    return tx, cfg, model, evaluate(cfg, tx, model)


def _with_cutoff(cfg: Config, cutoff: str) -> Config:
    rec = cfg.recommend
    ev = rec.evaluate.model_copy(update={"cutoff": cutoff})
    return cfg.model_copy(update={"recommend": rec.model_copy(update={"evaluate": ev})})


def test_blend_beats_popularity_on_planted_segments(job):
    tx, cfg, _, ev = job
    table, info = ev.table, ev.split
    assert list(table.index) == [BLEND, *BASELINES] == [
        "custseg", "ease", "sar", "similarity", "crosssell", "overall_rules", "favourite",
        "popular", "buy_again",
    ]  # fmt: skip
    assert info["train_customers"] > info["test_customers"] > 100
    assert info["train_rows"] + info["test_rows"] == len(tx)
    print(table.round(3).to_string())
    for k in cfg.recommend.evaluate.ks:
        assert table.loc["custseg", f"hit_rate@{k}"] > table.loc["popular", f"hit_rate@{k}"]
        assert table.loc["custseg", f"ndcg@{k}"] > table.loc["popular", f"ndcg@{k}"]


def test_the_past_model_keeps_the_runs_final_segmentation():
    """No study on the past: the run's fitted parameters (here k=4 against the config's 5,
    as a study would have chosen) are fixed, tuning and the bootstrap are off, everything else
    is the run's."""
    cfg = make_config(SMALL, "report=none", "tuning=optuna")
    fitted = make_config(SMALL, "segment.n_clusters=4").segment
    model = CustomerModel(cfg)
    model.algorithm_ = fitted  # what a fitted model carries: its final segment block
    past = past_config(cfg, model)
    assert past.segment == fitted and past.segment.n_clusters == 4
    assert past.tuning == Off(enabled=False) and past.stability.rounds == 0
    back = {"segment": cfg.segment, "tuning": cfg.tuning, "stability": cfg.stability}
    assert past.model_copy(update=back) == cfg


def test_a_product_seen_only_after_the_cutoff_changes_no_recommendation(job):
    tx, cfg, model, ev = job
    table, info = ev.table, ev.split
    fixed = _with_cutoff(cfg, info["cutoff"])
    # every test customer buys one more new product, on its last invoice after the cut-off
    _, test_items, _ = time_split(tx, info["cutoff"], item=cfg.rules.item)
    after = tx[tx["invoice_date"] >= pd.Timestamp(info["cutoff"])]
    last = after.sort_values("invoice_date").drop_duplicates("customer_id", keep="last")
    last = last[last["customer_id"].astype(str).isin(test_items.customers)]
    assert len(last) == info["test_customers"]
    future = last.assign(product_id="FUTURE", invoice_id=last["invoice_id"].astype(str) + "F")
    leaked = pd.concat([tx, future], ignore_index=True)
    ev2 = evaluate(fixed, leaked, model)
    table2, info2 = ev2.table, ev2.split
    assert info2["train_rows"] == info["train_rows"]
    assert info2["test_customers"] == info["test_customers"]
    assert info2["test_items"] == info["test_items"] + len(future)
    # hits and precision count recommended items only: FUTURE can never be one of them ...
    hits = [c for c in table.columns if c.startswith(("hit_rate", "precision", "coverage"))]
    pd.testing.assert_frame_equal(table2[hits], table[hits])
    # ... while recall sees one more new item for each customer who bought it
    recall = [c for c in table.columns if c.startswith("recall")]  # new items (repeat.* kept)
    cross = [n for n in table.index if n != "buy_again"]  # buy-again never offers a new item
    assert (table2.loc[cross, recall] < table.loc[cross, recall]).all().all()
    again = [c for c in table.columns if c.startswith("repeat.")]
    pd.testing.assert_frame_equal(table2[again], table[again])


def test_lines_after_the_cutoff_never_reach_the_past_model(job):
    """Fifty times the units and spend on every line after the cut-off would make bulk buyers
    of everyone then, moving segments, favourites and rules if the past model saw them; the
    same (customer, product) pairs keep the test items, so every number must stay."""
    tx, cfg, model, ev = job
    fixed = _with_cutoff(cfg, ev.split["cutoff"])
    after = tx["invoice_date"] >= pd.Timestamp(ev.split["cutoff"])
    assert after.any() and (~after).any()
    bulky = tx.copy()
    bulky.loc[after, "quantity"] *= 50
    bulky.loc[after, "amount"] *= 50
    ev2 = evaluate(fixed, bulky, model)
    assert ev2.split == ev.split
    pd.testing.assert_frame_equal(ev2.table, ev.table)


def test_recommend_all_gives_the_named_lists_and_never_what_was_bought(job):
    """The run's model serves the blend alone or beside the baselines, from the same fitted
    recommenders: asking for the baselines too changes no blended item."""
    tx, cfg, model, _ = job
    every = model.recommend_all(tx, [BLEND, *BASELINES], clean=False)
    assert list(every) == [BLEND, *BASELINES]
    blended = model.recommend_all(tx, [BLEND], clean=False)
    assert list(blended) == [BLEND]
    pd.testing.assert_frame_equal(blended[BLEND], every[BLEND])
    pd.testing.assert_frame_equal(model.recommend(tx, clean=False), every[BLEND])
    pd.testing.assert_frame_equal(model.recommend(tx, clean=False, source="similarity"),
                                  every["similarity"])  # fmt: skip
    # each blended item names the sources that proposed it, in the configured order
    for sources in set(every[BLEND]["source"].astype(str)):
        parts = sources.split("+")
        assert parts == [s for s in cfg.recommend.order if s in parts], sources
    # nobody is offered what they already bought by a cross-sell recommender, and buy-again
    # offers nothing else; k items at most
    hist = histories(tx, item=cfg.rules.item)
    bought = {(c, i) for c, items in hist.items() for i in items}
    for name, recs in every.items():
        assert not recs.empty, name
        offered = set(zip(recs["customer_id"].astype(str), recs["item"].astype(str),
                          strict=True))  # fmt: skip
        assert offered <= bought if name == "buy_again" else not bought & offered, name
        assert recs.groupby("customer_id", observed=True).size().max() <= cfg.recommend.k
    three = model.recommend(tx, clean=False, k=3)
    assert three.groupby("customer_id", observed=True).size().max() == 3
    with pytest.raises(ValueError, match=r"unknown recommender\(s\) \['popularr'\]"):
        model.recommend_all(tx, ["popularr"], clean=False)
