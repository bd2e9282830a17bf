"""Lists shorter than k, completed: the blend's items first, then the fill sources' (segment
favourites, then popularity) that the list lacks, so a customer without item-item history still
gets a full list."""

from __future__ import annotations

import numpy as np
import pandas as pd

from custseg.recommend.frame import TEXT, joined


def top_up(main: pd.DataFrame, fills: list[pd.DataFrame], k: int) -> pd.DataFrame:
    """Complete lists shorter than k from the `fills` (recs frames of the short customers, in
    priority order): their items the list lacks follow its own, with score 0. Lists already k
    long and the order of every blended item are untouched; the string work is on the short
    customers' rows only, the rest stays categorical codes."""
    extra = [f for f in fills if not f.empty]
    if not extra:
        return main
    short = pd.Index(pd.concat([f["customer_id"] for f in extra]).astype("str").unique())
    mine = main[main["customer_id"].isin(short)]
    have = mine[["customer_id", "item"]].astype("str")
    count = have.groupby("customer_id").size()
    cand = pd.concat(
        [f[list(TEXT)].astype("str").assign(_p=p) for p, f in enumerate(extra)],
        ignore_index=True,
    )
    cand = cand[cand["customer_id"].map(count).fillna(0).to_numpy() < k]
    known = pd.MultiIndex.from_frame(have)
    cand = cand[~pd.MultiIndex.from_frame(cand[["customer_id", "item"]]).isin(known)]
    cand = cand.drop_duplicates(["customer_id", "item"])  # stable: the first fill wins
    cand = cand.sort_values(["customer_id", "_p"], kind="stable")
    rank = cand["customer_id"].map(count).fillna(0).astype("int64").to_numpy()
    cand = cand.assign(rank=rank + cand.groupby("customer_id").cumcount().to_numpy() + 1)
    cand = cand[cand["rank"] <= k]
    if cand.empty:
        return main
    both = joined([main, cand.assign(score=0.0)[list(main.columns)]])
    order = np.lexsort((both["rank"].to_numpy(), both["customer_id"].cat.codes.to_numpy()))
    return both.iloc[order].reset_index(drop=True)
