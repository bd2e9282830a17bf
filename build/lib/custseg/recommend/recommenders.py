"""Every recommender behind one interface, fitted on a training window, applied to anyone.

A recommender learns from the window it is fitted on (rankings, rules, item similarities) and
afterwards needs only a customer's own history and segment, so the customer model fitted by a
run, the one fitted on the past for the time-split evaluation and the one served over HTTP all
recommend through the same objects. The blend ("custseg") combines the configured sources.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

import pandas as pd

from custseg.config.schema import Recommend
from custseg.recommend import blend, crosssell, favourites
from custseg.recommend.history import History
from custseg.recommend.similarity import ItemSimilarity
from custseg.rules.baskets import Baskets

BLEND = "custseg"  # the blended list: what a run logs, serves and evaluates
BASELINES = ("popular", "favourite", "overall_rules", "crosssell", "similarity")


class Recommender(Protocol):
    def recommend(self, history: History, segments: pd.Series, k: int) -> pd.DataFrame:
        """Top-k unbought items per customer of `history` (customers x items) given each
        customer's segment: the recs frame (customer_id, item, score, source, reason)."""
        ...


@dataclass
class Popular:
    """The global baseline: the items most customers bought."""

    ranking: pd.DataFrame

    @classmethod
    def fit(cls, bought: History) -> Popular:
        return cls(favourites.popular_ranking(bought))

    def recommend(self, history: History, segments: pd.Series, k: int) -> pd.DataFrame:
        return favourites.popular_from_ranking(self.ranking, history, k)


@dataclass
class Favourites:
    """What the customer's segment buys most."""

    ranking: pd.DataFrame

    @classmethod
    def fit(cls, bought: History, segments: pd.Series) -> Favourites:
        return cls(favourites.segment_ranking(bought, segments))

    def recommend(self, history: History, segments: pd.Series, k: int) -> pd.DataFrame:
        return favourites.from_ranking(self.ranking, history, segments, k)


@dataclass
class RuleCrossSell:
    """Consequents of association rules whose antecedents the customer bought: the segment's
    own rules ("crosssell"), or the rules mined over everyone ("overall_rules")."""

    rules: pd.DataFrame
    score: str
    overall: bool

    @classmethod
    def fit(cls, rules: pd.DataFrame, score: str, overall: bool) -> RuleCrossSell:
        scope = rules["segment"] == crosssell.OVERALL
        return cls(rules[scope if overall else ~scope].reset_index(drop=True), score, overall)

    def recommend(self, history: History, segments: pd.Series, k: int) -> pd.DataFrame:
        return crosssell.recommend(history, segments, self.rules, k, self.score, self.overall)


@dataclass
class Similarity:
    """Items that share baskets with what the customer bought (item-item, SAR-like)."""

    similarity: ItemSimilarity

    @classmethod
    def fit(cls, baskets: Baskets, measure: str, top_n: int) -> Similarity:
        return cls(ItemSimilarity().fit(baskets.matrix, baskets.items, measure, top_n))

    def recommend(self, history: History, segments: pd.Series, k: int) -> pd.DataFrame:
        return self.similarity.recommend(history, k)


def fit_recommenders(
    bought: History, baskets: Baskets, rules: pd.DataFrame, segments: pd.Series, cfg: Recommend
) -> dict[str, Recommender]:
    """Every source, fitted on one window: the blended ones and the baselines."""
    return {
        "popular": Popular.fit(bought),
        "favourite": Favourites.fit(bought, segments),
        "overall_rules": RuleCrossSell.fit(rules, cfg.score, overall=True),
        "crosssell": RuleCrossSell.fit(rules, cfg.score, overall=False),
        "similarity": Similarity.fit(baskets, cfg.similarity, cfg.similarity_top_n),
    }


def recommend_all(
    sources: Mapping[str, Recommender],
    cfg: Recommend,
    history: History,
    segments: pd.Series,
    names: Iterable[str] = (BLEND,),
    k: int | None = None,
) -> dict[str, pd.DataFrame]:
    """The lists of the named recommenders (`custseg` is the configured blend), each source
    computed once even when the blend and a baseline both need it."""
    k = cfg.k if k is None else k
    names = list(names)
    unknown = [n for n in names if n != BLEND and n not in sources]
    if unknown:
        raise ValueError(f"unknown recommender(s) {unknown}; known: {[BLEND, *sources]}")
    needed = [n for n in names if n != BLEND]
    if BLEND in names:
        needed += [s for s in cfg.order if s not in needed]
    out = {n: sources[n].recommend(history, segments, k) for n in needed}
    if BLEND in names:
        parts = {s: out[s] for s in cfg.order}
        out[BLEND] = blend.blend(parts, list(cfg.order), dict(cfg.weights), k, mode=cfg.blend)
    return {n: out[n] for n in names}
