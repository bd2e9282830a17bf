"""Pieces every recommender shares: histories, the recs frame contract, and top-k selection.

Keeping the contract in one place (at most k rows per customer, never an item the customer
already bought, ties broken by item id) is what makes recommenders comparable and blendable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

RECS_COLUMNS: tuple[str, ...] = ("customer_id", "item", "score", "source", "reason")


def histories(tx: pd.DataFrame, item: str = "product_id") -> dict[str, set[str]]:
    """Items each customer bought: recommenders must never offer these again."""
    pairs = tx[["customer_id", item]].dropna().astype("str").drop_duplicates()
    return pairs.groupby("customer_id", sort=True)[item].agg(set).to_dict()


def history_pairs(history: Mapping[str, Iterable[str]]) -> pd.DataFrame:
    """The history as a long (customer_id, item) frame, so it can be joined instead of looped."""
    customers = list(history)
    items = [sorted(map(str, history[c])) for c in customers]
    lengths = np.fromiter((len(i) for i in items), dtype=np.int64, count=len(items))
    flat = [i for row in items for i in row]
    return pd.DataFrame(
        {
            "customer_id": np.repeat(np.asarray(customers, dtype=object), lengths),
            "item": np.asarray(flat, dtype=object),
        }
    ).astype("str")


def segment_labels(segment_of: pd.Series) -> pd.Series:
    """Segment per customer as rules spell it ('2', not '2.0'); unsegmented customers dropped."""
    seg = segment_of.dropna()
    if pd.api.types.is_numeric_dtype(seg) and not pd.api.types.is_bool_dtype(seg):
        values = seg.to_numpy()
        if np.all(np.mod(values, 1) == 0):
            seg = seg.astype("int64")
    out = seg.astype("str")
    out.index = out.index.astype("str")
    return out


def empty_recs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": pd.Series(dtype="str"),
            "item": pd.Series(dtype="str"),
            "score": pd.Series(dtype="float64"),
            "source": pd.Series(dtype="str"),
            "reason": pd.Series(dtype="str"),
        }
    )


def drop_seen(cands: pd.DataFrame, history: Mapping[str, Iterable[str]]) -> pd.DataFrame:
    """Remove candidates the customer already bought (an anti-join, not a per-row set check)."""
    if cands.empty:
        return cands
    seen = history_pairs({c: history[c] for c in cands["customer_id"].unique() if c in history})
    if seen.empty:
        return cands
    key = pd.MultiIndex.from_frame(cands[["customer_id", "item"]].astype("str"))
    seen_key = pd.MultiIndex.from_frame(seen[["customer_id", "item"]])
    return cands.loc[~key.isin(seen_key)]


def top_k(recs: pd.DataFrame, k: int) -> pd.DataFrame:
    """Order by customer, score desc, item id (the deterministic tie-break) and keep k each."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    out = recs.sort_values(
        ["customer_id", "score", "item"], ascending=[True, False, True], kind="stable"
    )
    out = out.loc[out.groupby("customer_id", sort=False).cumcount().to_numpy() < k]
    return out.reset_index(drop=True)


def finish(recs: pd.DataFrame, k: int) -> pd.DataFrame:
    """Cast to the recs contract and apply top-k; the last step of every recommender."""
    if recs.empty:
        return empty_recs()
    out = recs[list(RECS_COLUMNS)].astype(
        {"customer_id": "str", "item": "str", "score": "float64", "source": "str", "reason": "str"}
    )
    return top_k(out, k)


def top_unseen(
    ranking: pd.DataFrame,
    group_of: pd.Series,
    history: Mapping[str, Iterable[str]],
    k: int,
) -> pd.DataFrame:
    """The first k items of each customer's group ranking that the customer has not bought.

    `ranking` has columns group, item and any payload, already in preference order within a
    group. A walk with early exit touches about k + overlap items per customer, far fewer than
    joining every customer with the whole ranking (customers x catalogue rows).
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    ranking = ranking.reset_index(drop=True)
    all_items = ranking["item"].to_numpy()
    starts = {
        g: (idx, all_items[idx].tolist())
        for g, idx in ranking.groupby("group", sort=False).indices.items()
    }
    rows: list[int] = []
    customers: list[str] = []
    for customer, group in group_of.items():
        if group not in starts:
            continue
        positions, items = starts[group]
        seen = history.get(customer, ())
        taken = 0
        for pos, it in enumerate(items):
            if it in seen:
                continue
            rows.append(int(positions[pos]))
            customers.append(customer)
            taken += 1
            if taken == k:
                break
    out = ranking.iloc[rows].reset_index(drop=True)
    out.insert(0, "customer_id", pd.array(customers, dtype="str"))
    return out
