"""Per-customer feature sets behind one registry, plus the scaling that precedes clustering."""

from custseg.features import basket, value_quantity  # noqa: F401  (registers the sets)
from custseg.features.registry import REGISTRY, FeatureError, FeatureSet, build_features

__all__ = ["REGISTRY", "FeatureError", "FeatureSet", "build_features"]
