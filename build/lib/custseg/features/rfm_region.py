"""RFM plus the customer's region, one-hot: the same spending pattern can mean a different
segment in a different market. The kept regions are learned at fit; later customers from other
regions count as `region_Other`."""

from __future__ import annotations

import pandas as pd

from custseg.features.rfm import NEEDS, RFM


def main_region(tx: pd.DataFrame) -> pd.Series:
    """Each customer's most frequent region by line items; ties go to the first alphabetically
    so the result does not depend on row order."""
    n = tx.groupby(["customer_id", "region"], observed=True).size().rename("n").reset_index()
    n["region"] = n["region"].astype("str")  # categorical order must not decide ties
    n = n.sort_values(["customer_id", "n", "region"], ascending=[True, False, True])
    return n.drop_duplicates("customer_id").set_index("customer_id")["region"]


def kept_regions(region: pd.Series, top: int) -> list[str]:
    """The `top` regions with most customers (ties alphabetical), sorted, plus "Other" when
    there are more: a handful of one-customer countries cannot add a dimension each."""
    counts = region.value_counts().rename_axis("region").reset_index(name="n")
    kept = counts.sort_values(["n", "region"], ascending=[False, True])["region"].head(top)
    return sorted(kept) + (["Other"] if len(counts) > top else [])


def region_dummies(region: pd.Series, categories: list[str]) -> pd.DataFrame:
    """One-hot over the kept regions; another region counts as Other, or as none of them when
    the fitted data had no Other."""
    other = "Other" if "Other" in categories else None
    label = region.where(region.isin(categories), other)
    onehot = pd.get_dummies(pd.Categorical(label, categories=categories), dtype="float64")
    onehot.index = region.index
    return onehot.add_prefix("region_")


class RFMRegion(RFM):
    NAME = "rfm_region"
    NEEDS = (*NEEDS, "region")

    def __init__(
        self, log1p: list[str], scaler: str, reference_date: str | None, top_regions: int
    ) -> None:
        super().__init__(log1p, scaler, reference_date)
        self.top_regions = top_regions

    def _learn(self, tx: pd.DataFrame) -> None:
        super()._learn(tx)
        self.regions_ = kept_regions(main_region(tx), self.top_regions)

    def _build(self, tx: pd.DataFrame) -> pd.DataFrame:
        base = super()._build(tx)
        # customers whose lines all lack a region get zeros in every region column
        return base.join(region_dummies(main_region(tx), self.regions_)).fillna(0.0)
