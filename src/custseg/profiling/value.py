"""What each segment is worth next: the value stage's per-customer predictions summed by segment.

Marketing money follows future value, not past revenue, so a segment's row says how much of the
expected future value it holds and how many of its customers are likely gone already.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from custseg.profiling.profiles import segment_order, with_all


def value_profile(value: pd.DataFrame, labels: pd.Series, lapsed_below: float) -> pd.DataFrame:
    """Rows segment (0, 1, ..., -1, all); columns customers, mean P(alive), share likely lapsed
    (P(alive) under `lapsed_below`), expected purchases, and, when the spend model ran, total and
    mean CLV and the share of all expected future value.

    `value` is indexed by customer id (the value stage's table), `labels` maps customer id to
    segment; customers missing from either side are left out of both.
    """
    seg = pd.Series(labels.to_numpy(), index=labels.index.astype("str")).astype("int64")
    v = value.copy()
    v.index = v.index.astype("str")
    common = v.index.intersection(seg.index)
    v, seg = v.loc[common], seg.loc[common].astype("str")
    order = segment_order(seg)
    parts = {
        "customers": v["p_alive"].groupby(seg).size(),
        "p_alive_mean": v["p_alive"].groupby(seg).mean(),
        "lapsed_share": (v["p_alive"] < lapsed_below).groupby(seg).mean(),
        "expected_purchases": v["expected_purchases"].groupby(seg).sum(),
    }
    overall = {
        "customers": len(v), "p_alive_mean": v["p_alive"].mean(),
        "lapsed_share": float((v["p_alive"] < lapsed_below).mean()),
        "expected_purchases": v["expected_purchases"].sum(),
    }  # fmt: skip
    if "clv" in v.columns:
        total = float(v["clv"].sum())
        parts["clv_total"] = v["clv"].groupby(seg).sum()
        parts["clv_mean"] = v["clv"].groupby(seg).mean()
        parts["clv_share"] = parts["clv_total"] / total if total else parts["clv_total"] * np.nan
        overall.update(clv_total=total, clv_mean=v["clv"].mean(),
                       clv_share=1.0 if total else np.nan)  # fmt: skip
    out = with_all(pd.DataFrame(parts), pd.Series(overall), order)
    out["customers"] = out["customers"].fillna(0).astype("int64")
    return out
