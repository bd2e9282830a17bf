"""The honest test of the recommenders: made from the past only, scored on what came next.

Demo data with planted segments: segment favourites know what a customer's segment buys, so the
blend must beat global popularity; a product that only exists after the cut-off must change
nothing any recommender offers.
"""

from __future__ import annotations

import copy

import pandas as pd
import pytest
from omegaconf import OmegaConf
from sklearn.cluster import KMeans
from sklearn.pipeline import Pipeline

from custseg.data import synthetic
from custseg.data.clean import clean
from custseg.data.schema import validate
from custseg.features import build_features
from custseg.features.scaling import make_transformer
from custseg.recommend.common import histories
from custseg.recommend.holdout import baskets_of, evaluate_on_time_split, recommenders
from custseg.rules.mining import mine
from tests.conftest import make_cfg


@pytest.fixture(scope="module")
def job() -> tuple[pd.DataFrame, dict, Pipeline]:
    cfg = OmegaConf.to_container(make_cfg(), resolve=True)
    demo = synthetic.generate(synthetic.DemoParams(n_rows=60_000), seed=0)
    tx, _ = clean(validate(demo.transactions, "demo"), cfg["clean"])
    feats = build_features(tx, cfg["features"]["name"], cfg["features"])
    scale = make_transformer(
        list(feats.columns), cfg["features"]["log1p"], cfg["features"]["scaler"]
    )
    model = Pipeline([("scale", scale), ("kmeans", KMeans(4, n_init=3, random_state=0))])
    return tx, cfg, model.fit(feats)


def test_blend_beats_popularity_on_planted_segments(job):
    tx, cfg, model = job
    table, info = evaluate_on_time_split(tx, cfg["features"]["name"], cfg, model)
    assert list(table.index) == [
        "popular", "favourite", "overall_rules", "crosssell", "similarity", "custseg",
    ]  # fmt: skip
    assert info["train_customers"] > info["test_customers"] > 300
    for k in cfg["recommend"]["evaluate"]["ks"]:
        assert table.loc["custseg", f"hit_rate@{k}"] > table.loc["popular", f"hit_rate@{k}"]
        assert table.loc["custseg", f"ndcg@{k}"] > table.loc["popular", f"ndcg@{k}"]


def test_a_product_seen_only_after_the_cutoff_changes_no_recommendation(job):
    tx, cfg, model = job
    cfg = copy.deepcopy(cfg)
    table, info = evaluate_on_time_split(tx, cfg["features"]["name"], cfg, model)
    cfg["recommend"]["evaluate"]["cutoff"] = info["cutoff"]
    # every customer buys one new product on the last day
    last = tx[tx["invoice_date"] == tx["invoice_date"].max()].drop_duplicates("customer_id")
    future = last.assign(product_id="FUTURE", invoice_id=last["invoice_id"].astype(str) + "F")
    leaked = pd.concat([tx, future], ignore_index=True)
    table2, info2 = evaluate_on_time_split(leaked, cfg["features"]["name"], cfg, model)
    assert info2["train_rows"] == info["train_rows"]
    # hits and precision count recommended items only: FUTURE can never be one of them ...
    hits = [c for c in table.columns if c.startswith(("hit_rate", "precision", "coverage"))]
    pd.testing.assert_frame_equal(table2[hits], table[hits])
    # ... while recall sees one more new item for each customer who bought it
    assert (table2.filter(like="recall") < table.filter(like="recall")).all().all()


def test_only_the_blended_sources_without_baselines(job):
    tx, cfg, model = job
    rec = cfg["recommend"]
    feats = build_features(tx, cfg["features"]["name"], cfg["features"])
    segment_of = pd.Series(model.predict(feats), index=feats.index)
    baskets = baskets_of(tx, cfg["rules"])
    rules, _ = mine(baskets, segment_of, cfg["rules"])
    hist = histories(tx, item=cfg["rules"]["item"])
    every = recommenders(hist, baskets, rules, segment_of, hist, rec)
    blended = recommenders(hist, baskets, rules, segment_of, hist, rec, baselines=False)
    assert set(blended) == {*rec["order"], "custseg"} < set(every)
    pd.testing.assert_frame_equal(blended["custseg"], every["custseg"])
    # nobody is offered what they already bought
    bought = {(c, i) for c, items in hist.items() for i in items}
    offered = zip(every["custseg"]["customer_id"], every["custseg"]["item"], strict=True)
    assert not bought & set(offered)
