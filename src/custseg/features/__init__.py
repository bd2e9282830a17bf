"""Per-customer feature sets behind one registry, plus the scaling that precedes clustering."""

from custseg.features import (  # noqa: F401  (registers the sets)
    basket,
    category_mix,
    rfm,
    rfm_region,
    value_quantity,
    value_quantity_price,
)
from custseg.features.registry import REGISTRY, FeatureError, FeatureSet, build_features

__all__ = ["REGISTRY", "FeatureError", "FeatureSet", "build_features"]
