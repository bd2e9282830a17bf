"""Popularity baselines: what the customer's segment buys most, and what everyone buys most.

Segment favourites are the simplest use of a segmentation for cross-sell, and global popularity
is the baseline any smarter recommender has to beat; both rank items by how many distinct
customers bought them (not units, so one bulk buyer cannot make an item "popular").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from custseg.recommend.common import empty_recs, finish, segment_labels, top_unseen


def _buyers(tx: pd.DataFrame, item: str) -> pd.DataFrame:
    return (
        tx[["customer_id", item]]
        .dropna()
        .astype("str")
        .drop_duplicates()
        .rename(columns={item: "item"})
    )


def _ranking(pairs: pd.DataFrame) -> pd.DataFrame:
    """Share of each group's customers who bought each item, best first, ties by item id."""
    size = pairs.groupby("group", sort=False)["customer_id"].nunique()
    counts = pairs.groupby(["group", "item"], sort=False).size().rename("buyers").reset_index()
    counts["score"] = counts["buyers"] / counts["group"].map(size).to_numpy()
    return counts.sort_values(
        ["group", "score", "item"], ascending=[True, False, True], kind="stable"
    ).reset_index(drop=True)


def segment_ranking(
    tx: pd.DataFrame, segment_of: pd.Series, item: str = "product_id", top: int | None = None
) -> pd.DataFrame:
    """Each segment's items by share of its customers who bought them (group, item, buyers,
    score), optionally cut to the `top` per segment: small enough to ship inside a model."""
    segment = segment_labels(segment_of)
    pairs = _buyers(tx, item)
    pairs["group"] = pairs["customer_id"].map(segment)
    pairs = pairs.dropna(subset=["group"])
    ranking = _ranking(pairs)
    if top is not None:
        ranking = ranking.groupby("group", sort=False).head(top).reset_index(drop=True)
    return ranking


def from_ranking(
    ranking: pd.DataFrame,
    history: Mapping[str, Iterable[str]],
    segment_of: pd.Series,
    k: int = 10,
) -> pd.DataFrame:
    """Favourites of each customer's segment, from a ranking made earlier (e.g. at training)."""
    if ranking.empty:
        return empty_recs()
    segment = segment_labels(segment_of)
    audience = segment.loc[segment.index.isin(list(history))].sort_index()
    picked = top_unseen(ranking, audience, history, k)
    picked["source"] = "favourite"
    picked["reason"] = [
        f"popular in segment {g} ({s:.0%} of its customers bought it)"
        for g, s in zip(picked["group"], picked["score"], strict=True)
    ]
    return finish(picked, k)


def recommend(
    tx: pd.DataFrame,
    history: Mapping[str, Iterable[str]],
    segment_of: pd.Series,
    k: int = 10,
    item: str = "product_id",
) -> pd.DataFrame:
    """Each customer's segment's most widely bought items that the customer does not have yet.

    Recommends for the customers in `history` (an empty set is a customer with no purchases);
    popularity is counted over the segment's customers that appear in `tx`. Customers without
    a segment get nothing here (blend with `popular` to cover them).
    """
    return from_ranking(segment_ranking(tx, segment_of, item), history, segment_of, k)


def popular(
    tx: pd.DataFrame,
    history: Mapping[str, Iterable[str]],
    k: int = 10,
    item: str = "product_id",
) -> pd.DataFrame:
    """The global baseline: the most widely bought items, for every customer in `history`."""
    pairs = _buyers(tx, item).assign(group="all")
    if pairs.empty:
        return empty_recs()
    customers = pd.Series("all", index=sorted(map(str, history)))
    picked = top_unseen(_ranking(pairs), customers, history, k)
    picked["source"] = "popular"
    picked["reason"] = [
        f"popular overall ({s:.0%} of customers bought it)" for s in picked["score"]
    ]
    return finish(picked, k)
