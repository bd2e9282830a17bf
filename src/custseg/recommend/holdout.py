"""Every recommender for a set of customers, their blend, and the honest test of them all:
segments, rules and recommendations made from the past only, scored on what each customer
bought next. Plain functions of DataFrames and config: the pipeline runs the evaluation on a
second thread while it makes this run's own recommendations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from sklearn.pipeline import Pipeline

from custseg.features import build_features
from custseg.features.registry import align_columns
from custseg.recommend import blend, crosssell, favourites
from custseg.recommend.common import History, histories
from custseg.recommend.evaluate import evaluation_table, time_split
from custseg.recommend.similarity import ItemSimilarity
from custseg.rules.baskets import Baskets, make_baskets
from custseg.rules.mining import mine


def baskets_of(tx: pd.DataFrame, rules_cfg: Mapping[str, Any]) -> Baskets:
    """The baskets `rules.*` asks for."""
    return make_baskets(
        tx, rules_cfg["basket"], rules_cfg["item"], int(rules_cfg["min_item_count"])
    )


def recommenders(
    bought: History,
    baskets: Baskets,
    rules: pd.DataFrame,
    segment_of: pd.Series,
    hist: History,
    rec_cfg: Mapping[str, Any],
    baselines: bool = True,
) -> dict[str, pd.DataFrame]:
    """Every recommender for the customers in `hist`, by name, and their blend ("custseg").

    `bought` is everyone's purchases in the window (popularity counts them); `hist` the
    customers to recommend for. Without `baselines` only the blended sources are computed.
    """
    k, score = int(rec_cfg["k"]), str(rec_cfg["score"])
    per_segment = rules[rules["segment"] != "all"]
    overall = rules[rules["segment"] == "all"]
    top_n = int(rec_cfg["similarity_top_n"])
    make = {
        "popular": lambda: favourites.popular(bought, hist, k),
        "favourite": lambda: favourites.recommend(bought, hist, segment_of, k),
        "overall_rules": lambda: crosssell.recommend(hist, segment_of, overall, k, score, True),
        "crosssell": lambda: crosssell.recommend(hist, segment_of, per_segment, k, score, False),
        "similarity": lambda: (
            ItemSimilarity()
            .fit(baskets.matrix, baskets.items, rec_cfg["similarity"], top_n)
            .recommend(hist, k)
        ),
    }
    wanted = list(make) if baselines else [n for n in make if n in rec_cfg["order"]]
    out = {name: make[name]() for name in wanted}
    sources = {s: out[s] for s in rec_cfg["order"]}
    out["custseg"] = blend.blend(sources, list(rec_cfg["order"]), dict(rec_cfg["weights"]),
                                 k, mode=rec_cfg["blend"])  # fmt: skip
    return out


def evaluate_on_time_split(
    tx: pd.DataFrame, feats_name: str, resolved: Mapping[str, Any], model: Pipeline
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Time split: segments, rules and recommendations from the past only, scored on each
    customer's new items after the cut-off; baselines in the same table."""
    ev = resolved["recommend"]["evaluate"]
    train, test_items, info = time_split(
        tx, ev["cutoff"], float(ev["test_fraction"]), item=resolved["rules"]["item"]
    )
    feats = build_features(train, feats_name, resolved["features"])
    feats = align_columns(feats, list(model.feature_names_in_))
    segment_of = pd.Series(model.predict(feats), index=feats.index)
    baskets = baskets_of(train, resolved["rules"])
    rules, _ = mine(baskets, segment_of, resolved["rules"])
    bought = histories(train, item=resolved["rules"]["item"])
    recs = recommenders(bought, baskets, rules, segment_of, bought.subset(test_items),
                         resolved["recommend"])  # fmt: skip
    table = evaluation_table(recs, test_items, tuple(ev["ks"]), len(baskets.items))
    return table, info
