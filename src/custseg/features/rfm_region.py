"""RFM plus the customer's region, one-hot: the same spending pattern can mean a different
segment in a different market."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from custseg.features.registry import FeatureError, FeatureSet, register
from custseg.features.rfm import REQUIRED, rfm


def main_region(tx: pd.DataFrame) -> pd.Series:
    """Each customer's most frequent region by line items; ties go to the first alphabetically
    so the result does not depend on row order."""
    n = tx.groupby(["customer_id", "region"], observed=True).size().rename("n").reset_index()
    n["region"] = n["region"].astype("str")  # categorical order must not decide ties
    n = n.sort_values(["customer_id", "n", "region"], ascending=[True, False, True])
    return n.drop_duplicates("customer_id").set_index("customer_id")["region"]


def region_dummies(region: pd.Series, top: int) -> pd.DataFrame:
    """One-hot of the `top` regions with most customers (ties alphabetical); the long tail
    shares `region_Other` so a handful of one-customer countries cannot add a dimension each."""
    counts = region.value_counts().rename_axis("region").reset_index(name="n")
    kept = counts.sort_values(["n", "region"], ascending=[False, True])["region"].head(top)
    label = region.where(region.isin(kept), "Other")
    cats = sorted(kept) + (["Other"] if len(counts) > top else [])
    onehot = pd.get_dummies(pd.Categorical(label, categories=cats), dtype="float64")
    onehot.index = region.index
    return onehot.add_prefix("region_")


def build(tx: pd.DataFrame, params: Mapping[str, Any]) -> pd.DataFrame:
    top = params.get("top_regions", 10)
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise FeatureError(f"features.top_regions: {top!r} must be a whole number >= 1")
    base = rfm(tx, params.get("reference_date"))
    # customers whose lines all lack a region get zeros in every region column
    return base.join(region_dummies(main_region(tx), top)).fillna(0.0)


FEATURES = register(FeatureSet("rfm_region", (*REQUIRED, "region"), build))
