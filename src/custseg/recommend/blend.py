"""Blend several recommenders' lists into one per customer.

"order" trusts sources in a fixed priority (rules first, then favourites, then popularity to
fill the gaps); "weights" lets an item that several sources agree on rise above any single
source's pick. Sources are named by their key in `frames`, which is the name the config uses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from custseg.recommend.common import RECS_COLUMNS, empty_recs, top_k

BlendMode = Callable[[list[pd.DataFrame], list[str], list[float], int], pd.DataFrame]


def _ranked(frame: pd.DataFrame) -> pd.DataFrame:
    """A source's rows in its own preference order, with the position kept as `pos`."""
    out = frame.sort_values(
        ["customer_id", "score", "item"], ascending=[True, False, True], kind="stable"
    )
    return out.assign(pos=out.groupby("customer_id", sort=False).cumcount().to_numpy())


def _by_order(
    frames: list[pd.DataFrame], names: list[str], weights: list[float], k: int
) -> pd.DataFrame:
    """Fill each list from the first source, then the next, skipping items already taken.

    Scores of different sources are not comparable, so the blended score is the list position
    mapped onto (0, 1]: 1 for rank 1 down to 1/k for rank k.
    """
    parts = [
        _ranked(f).assign(prio=p, source=name)
        for p, (f, name) in enumerate(zip(frames, names, strict=True))
    ]
    allrows = pd.concat(parts, ignore_index=True)
    allrows = allrows.sort_values(["customer_id", "prio", "pos"], kind="stable")
    allrows = allrows.drop_duplicates(["customer_id", "item"], keep="first")
    rank = allrows.groupby("customer_id", sort=False).cumcount().to_numpy() + 1
    allrows = allrows.loc[rank <= k].assign(score=1.0 - (rank[rank <= k] - 1) / k)
    return allrows


def _normalised(scores: pd.Series, customers: pd.Series) -> pd.Series:
    """Scale to [0, 1] per customer by the customer's top score (min-max if any are negative),
    so a source's best item counts 1 and its last item still counts more than an absent one."""
    g = scores.groupby(customers.to_numpy(), sort=False)
    hi = g.transform("max")
    lo = np.minimum(g.transform("min"), 0.0)
    span = hi - lo
    return ((scores - lo) / span.where(span > 0)).fillna(1.0)


def _by_weights(
    frames: list[pd.DataFrame], names: list[str], weights: list[float], k: int
) -> pd.DataFrame:
    """Sum weight x normalised score over the sources that recommend the same item."""
    parts = []
    for p, (f, w) in enumerate(zip(frames, weights, strict=True)):
        if w == 0 or f.empty:
            continue
        parts.append(f.assign(prio=p, contribution=w * _normalised(f["score"], f["customer_id"])))
    if not parts:
        return empty_recs()
    allrows = pd.concat(parts, ignore_index=True)
    allrows["bit"] = np.left_shift(1, allrows["prio"].to_numpy())
    allrows = allrows.sort_values(
        ["customer_id", "item", "contribution", "prio"],
        ascending=[True, True, False, True],
        kind="stable",
    )
    keys = ["customer_id", "item"]
    g = allrows.groupby(keys, sort=False)
    out = allrows.drop_duplicates(keys, keep="first")[keys + ["reason"]].reset_index(drop=True)
    out["score"] = g["contribution"].sum().to_numpy()
    masks = g["bit"].sum().to_numpy()
    label = {m: "+".join(n for i, n in enumerate(names) if m >> i & 1) for m in set(masks)}
    out["source"] = [label[m] for m in masks]
    return out


MODES: dict[str, BlendMode] = {"order": _by_order, "weights": _by_weights}


def blend(
    frames: Mapping[str, pd.DataFrame],
    order: list[str] | None,
    weights: Mapping[str, float] | None,
    k: int,
    mode: str | None = None,
) -> pd.DataFrame:
    """One top-k list per customer from several recommenders' lists, with a 1-based `rank`.

    `order` picks and orders the sources (all of `frames` when empty); `mode` defaults to
    "weights" when weights are given and "order" otherwise. In "weights" mode a source missing
    from `weights` is an error rather than a silent zero.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    mode = mode or ("weights" if weights else "order")
    if mode not in MODES:
        raise ValueError(f"blend.mode: unknown mode {mode!r}; one of {list(MODES)}")
    names = list(order) if order else list(frames)
    unknown = [n for n in names if n not in frames]
    if unknown:
        raise ValueError(f"blend.order names {unknown}, not among the sources {list(frames)}")
    if mode == "weights" and weights is not None:
        missing = [n for n in names if n not in weights]
        if missing:
            raise ValueError(f"blend.weights has no weight for source(s) {missing}")
    w = [float((weights or {}).get(n, 1.0)) for n in names]
    used = [frames[n] for n in names]
    if all(f.empty for f in used):
        return empty_recs().assign(rank=pd.Series(dtype="int64"))
    out = MODES[mode](used, names, w, k)
    if out.empty:
        return empty_recs().assign(rank=pd.Series(dtype="int64"))
    out = top_k(out[list(RECS_COLUMNS)].astype({"score": "float64"}), k)
    out["rank"] = out.groupby("customer_id", sort=False).cumcount().to_numpy() + 1
    return out.astype({"customer_id": "str", "item": "str", "source": "str", "reason": "str"})
