"""Registry of feature sets: a config name maps to the columns it needs and its builder."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from custseg.data.schema import did_you_mean, has_column


class FeatureError(ValueError):
    """A feature set cannot be built from this data; the message says what would work."""


@dataclass(frozen=True)
class FeatureSet:
    name: str
    required: tuple[str, ...]  # canonical columns that must hold values
    # (cleaned lines, the features config) -> one row per customer, indexed by customer_id
    build: Callable[[pd.DataFrame, Mapping[str, Any]], pd.DataFrame]


REGISTRY: dict[str, FeatureSet] = {}


def register(fs: FeatureSet) -> FeatureSet:
    REGISTRY[fs.name] = fs
    return fs


def usable_sets(tx: pd.DataFrame) -> list[str]:
    return [n for n, fs in REGISTRY.items() if all(has_column(tx, c) for c in fs.required)]


def build_features(
    tx: pd.DataFrame, name: str, params: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """Build the named set; a missing input column is an error that names it and the sets that
    would work on this data, instead of a KeyError deep in a groupby."""
    if name not in REGISTRY:
        raise FeatureError(
            f"features.name: unknown feature set {name!r}{did_you_mean(str(name), REGISTRY)}; "
            f"one of {list(REGISTRY)} (choose with features=NAME)"
        )
    fs = REGISTRY[name]
    missing = [c for c in fs.required if not has_column(tx, c)]
    if missing:
        raise FeatureError(
            f"feature set {name!r} needs column {missing[0]!r}, which this data does not have; "
            f"feature sets that work on it: {usable_sets(tx) or 'none'}"
        )
    feats = fs.build(tx, params or {})
    feats.index = feats.index.astype("str")
    feats.index.name = "customer_id"
    return feats.astype("float64")


def per_customer(tx: pd.DataFrame) -> pd.core.groupby.DataFrameGroupBy:
    return tx.groupby("customer_id", observed=True, sort=True)


def align_columns(feats: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Give features built on other data (a later month, a training window) the columns a fitted
    model expects. One-hot and share columns (`region_*`, `cat_*`) are additive, so a value the
    model never saw is folded into its `<prefix>_Other` column when the model has one; columns the
    data lacks are zero."""
    out = feats.reindex(columns=columns, fill_value=0.0)
    for extra in feats.columns.difference(columns):
        other = f"{str(extra).split('_', 1)[0]}_Other"
        if other in out.columns:
            out[other] += feats[extra]
    return out
