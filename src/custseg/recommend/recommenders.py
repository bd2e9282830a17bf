"""Every recommender behind one interface, fitted on a training window, applied to anyone.

A recommender learns from the window it is fitted on (rankings, rules, item similarities) and
afterwards needs only a customer's own history and segment, so the customer model fitted by a
run, the one fitted on the past for the time-split evaluation and the one served over HTTP all
recommend through the same objects. The blend ("custseg") combines the configured sources.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from custseg.config.schema import Recommend
from custseg.recommend import blend, crosssell, favourites
from custseg.recommend.buyagain import BuyAgain
from custseg.recommend.ease import EASE
from custseg.recommend.frame import head, joined
from custseg.recommend.history import History
from custseg.recommend.itemitem import ItemItem
from custseg.recommend.sar import SAR
from custseg.recommend.similarity import ItemSimilarity
from custseg.recommend.topup import top_up
from custseg.rules.baskets import Baskets

log = logging.getLogger(__name__)

BLEND = "custseg"  # the blended list: what a run logs, serves and evaluates
RELEVANCE = "custseg_relevance"  # the blend in relevance order, beside a value-ranked blend
BUY_AGAIN = "buy_again"  # the repeat-purchase list, served and evaluated beside the blend
CROSS_SELL = ("ease", "sar", "similarity", "crosssell", "overall_rules", "favourite", "popular")
BASELINES = (*CROSS_SELL, BUY_AGAIN)  # every source, each also evaluated alone
FILL = ("favourite", "popular")  # complete short blended lists (no history: no item-item)


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
class ItemBased:
    """An item-item model (basket similarity, SAR, EASE) scoring from the customer's items."""

    model: ItemItem

    def recommend(self, history: History, segments: pd.Series, k: int) -> pd.DataFrame:
        return self.model.recommend(history, k)


@dataclass
class Window:
    """What one training window offers the recommenders to learn from."""

    bought: History  # dated customers x items purchases
    baskets: Baskets
    rules: pd.DataFrame
    segments: pd.Series


def _ease(w: Window, cfg: Recommend) -> Recommender:
    n_items = len(w.bought.item_labels)
    if n_items > cfg.ease.max_items:
        log.info("EASE: %s items > recommend.ease.max_items=%s, using SAR", n_items,
                 cfg.ease.max_items)  # fmt: skip
        return _sar(w, cfg)
    return ItemBased(EASE(cfg.ease.l2).fit_history(w.bought))


def _sar(w: Window, cfg: Recommend) -> Recommender:
    s = cfg.sar
    return ItemBased(SAR().fit_history(w.bought, s.similarity, s.threshold, s.top_n))


def _similarity(w: Window, cfg: Recommend) -> Recommender:
    b = w.baskets
    return ItemBased(ItemSimilarity().fit(b.matrix, b.items, cfg.similarity, cfg.similarity_top_n))


FITTERS: dict[str, Callable[[Window, Recommend], Recommender]] = {
    "ease": _ease,
    "sar": _sar,
    "similarity": _similarity,
    "crosssell": lambda w, cfg: RuleCrossSell.fit(w.rules, cfg.score, overall=False),
    "overall_rules": lambda w, cfg: RuleCrossSell.fit(w.rules, cfg.score, overall=True),
    "favourite": lambda w, cfg: Favourites.fit(w.bought, w.segments),
    "popular": lambda w, cfg: Popular.fit(w.bought),
    BUY_AGAIN: lambda w, cfg: BuyAgain(),
}


def fit_recommenders(
    bought: History,
    baskets: Baskets,
    rules: pd.DataFrame,
    segments: pd.Series,
    cfg: Recommend,
    only: Iterable[str] | None = None,
) -> dict[str, Recommender]:
    """Every source (or `only` these), fitted on one window: the blended ones and the
    baselines."""
    window = Window(bought, baskets, rules, segments)
    names = FITTERS if only is None else list(only)
    return {name: FITTERS[name](window, cfg) for name in names}


def blend_plan(
    cfg: Recommend, learned: Mapping[str, float] | None
) -> tuple[list[str], dict[str, float], str]:
    """The sources, weights and mode of the blend: the learned weights (sources with weight 0
    left out) when there are some, else the configured ones."""
    if cfg.blend == "learned" and learned:
        used = [s for s in cfg.order if learned.get(s, 0.0) > 0]
        return used, {s: learned[s] for s in used}, "weights"
    mode = "weights" if cfg.blend == "learned" else cfg.blend
    return list(cfg.order), dict(cfg.weights), mode


def _topped_up(
    main: pd.DataFrame,
    sources: Mapping[str, Recommender],
    history: History,
    segments: pd.Series,
    k: int,
) -> pd.DataFrame:
    """The blend, with lists shorter than k completed from the FILL sources (asked only for
    the customers who need it)."""
    listed = np.zeros(len(history.customers), dtype=np.int64)
    if len(main):  # list lengths by category code, read back for the history's customers
        ids = pd.Categorical(main["customer_id"])
        size = np.bincount(ids.codes, minlength=len(ids.categories))
        at = pd.Index(ids.categories).get_indexer(history.customers)
        listed = np.where(at >= 0, size[np.maximum(at, 0)], 0)
    short = history.customers[listed < k]
    if len(short) == 0:
        return main
    some = history.subset(short)
    fills = [sources[s].recommend(some, segments, k) for s in FILL if s in sources]
    return top_up(main, fills, k)


def recommend_all(
    sources: Mapping[str, Recommender],
    cfg: Recommend,
    history: History,
    segments: pd.Series,
    names: Iterable[str] = (BLEND,),
    k: int | None = None,
    learned: Mapping[str, float] | None = None,
) -> dict[str, pd.DataFrame]:
    """The lists of the named recommenders (`custseg` is the blend: `learned` weights or the
    configured ones), each source computed once even when the blend and a baseline both need
    it."""
    k = cfg.k if k is None else k
    return recommend_lengths(sources, cfg, history, segments, names, [k], learned)[k]


Rerank = Callable[[pd.DataFrame, int], pd.DataFrame]  # relevance candidates, k -> served top k
RERANK_CHUNK = 200_000  # customers ranked by expected value at once: their deeper lists' memory


def recommend_lengths(
    sources: Mapping[str, Recommender],
    cfg: Recommend,
    history: History,
    segments: pd.Series,
    names: Iterable[str],
    lengths: Iterable[int],
    learned: Mapping[str, float] | None = None,
    rerank: Rerank | None = None,
) -> dict[int, dict[str, pd.DataFrame]]:
    """`recommend_all` at several list lengths: each source is asked once, for the longest
    (a source's top k is the head of its top K), and the blend is made at each length from the
    heads, as a list of that length is served.

    With `rerank` (recommend.rank_by=expected_value) the blend is also made at
    `recommend.candidates` length and `rerank` picks the served top k from it; the blend in
    relevance order stays available as RELEVANCE, so the evaluation compares both rankings.
    Those candidate lists are several times the served ones, so customers are then taken
    RERANK_CHUNK at a time (every list depends on its own customer only)."""
    lengths, names = sorted(set(lengths)), list(names)
    n = len(history.customers)
    if rerank is None or n <= RERANK_CHUNK:
        return _lengths(sources, cfg, history, segments, names, lengths, learned, rerank)
    parts = [_lengths(sources, cfg, history.subset(history.customers[i : i + RERANK_CHUNK]),
                      segments, names, lengths, learned, rerank)
             for i in range(0, n, RERANK_CHUNK)]  # fmt: skip
    return {k: {m: joined([p[k][m] for p in parts]) for m in names} for k in lengths}


def _lengths(
    sources: Mapping[str, Recommender],
    cfg: Recommend,
    history: History,
    segments: pd.Series,
    names: list[str],
    lengths: list[int],
    learned: Mapping[str, float] | None,
    rerank: Rerank | None,
) -> dict[int, dict[str, pd.DataFrame]]:
    names = list(names)
    known = [BLEND, *([RELEVANCE] if rerank else [])]
    unknown = [n for n in names if n not in known and n not in sources]
    if unknown:
        raise ValueError(f"unknown recommender(s) {unknown}; known: {[*known, *sources]}")
    order, weights, mode = blend_plan(cfg, learned)
    needed = [n for n in names if n not in known]
    blended = [n for n in names if n in known]
    if blended:
        needed += [s for s in order if s not in needed]
    deepest = max(lengths[-1], cfg.candidates) if rerank and BLEND in names else lengths[-1]
    longest = {n: sources[n].recommend(history, segments, deepest) for n in needed}

    def relevance(k: int) -> pd.DataFrame:
        parts = {s: head(longest[s], k) for s in order}
        return _topped_up(blend.blend(parts, order, weights, k, mode=mode), sources, history,
                          segments, k)  # fmt: skip

    pools: dict[int, pd.DataFrame] = {}  # candidates by depth: a list of k is picked from
    result = {}  # max(k, candidates), whatever else is asked, as it is served
    for k in lengths:
        out = {n: head(longest[n], k) for n in needed}
        if BLEND in names and rerank is not None:
            depth = max(k, cfg.candidates)
            if depth not in pools:
                pools[depth] = relevance(depth)
            out[BLEND] = rerank(pools[depth], k)
        if RELEVANCE in names or (BLEND in names and rerank is None):
            out[RELEVANCE if rerank is not None else BLEND] = relevance(k)
        result[k] = {n: out[n] for n in names}
    return result
