"""Per-customer feature sets, one class each (named by `_target_` in conf/features), plus the
scaling that precedes clustering."""

from __future__ import annotations

import pandas as pd
from hydra.utils import instantiate

from custseg.config.schema import Features
from custseg.data.schema import has_column
from custseg.features.base import FeatureBuilder, FeatureError, align_columns
from custseg.features.basket import Basket
from custseg.features.category_mix import CategoryMix
from custseg.features.rfm import RFM
from custseg.features.rfm_region import RFMRegion
from custseg.features.value_quantity import ValueQuantity
from custseg.features.value_quantity_price import ValueQuantityPrice
from custseg.features.visits import Visits

BUILDERS: tuple[type[FeatureBuilder], ...] = (
    ValueQuantity, ValueQuantityPrice, RFM, RFMRegion, CategoryMix, Basket, Visits,
)  # fmt: skip


def usable_sets(tx: pd.DataFrame) -> list[str]:
    """The feature sets this data can feed (for messages that say what would work)."""
    return [b.NAME for b in BUILDERS if all(has_column(tx, c) for c in b.NEEDS)]


def builder(cfg: Features) -> FeatureBuilder:
    """The unfitted builder a `features` config block names."""
    return instantiate({"_target_": cfg.target, **cfg.model_dump(exclude={"name", "target"})})


def build_features(tx: pd.DataFrame, cfg: Features) -> pd.DataFrame:
    """The features of these customers, fitted on them (a one-off table: tests, benchmarks)."""
    return builder(cfg).fit_transform(tx)


__all__ = ["BUILDERS", "FeatureBuilder", "FeatureError", "align_columns", "build_features",
           "builder", "usable_sets"]  # fmt: skip
