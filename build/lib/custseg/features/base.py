"""What every feature set shares: a fitted builder in scikit-learn's manner.

`fit` learns what the features of later customers must be measured against (the columns, and
for some sets a reference date or the kept regions); `transform` builds the same columns for
any customers, so a served customer's features match the ones the model was trained on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

import pandas as pd

from custseg.data.schema import has_column

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline


class FeatureError(ValueError):
    """A feature set cannot be built from this data; the message says what would work."""


def per_customer(tx: pd.DataFrame) -> pd.core.groupby.DataFrameGroupBy:
    return tx.groupby("customer_id", observed=True, sort=True)


def align_columns(feats: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Give features built on other data (a later month, a training window) the columns a fitted
    model expects. One-hot and share columns (`region_*`, `cat_*`) are additive, so a value the
    model never saw is folded into its `<prefix>_Other` column when the model has one; columns
    the data lacks are zero."""
    out = feats.reindex(columns=columns, fill_value=0.0)
    for extra in feats.columns.difference(columns):
        other = f"{str(extra).split('_', 1)[0]}_Other"
        if other in out.columns:
            out[other] += feats[extra]
    return out


class FeatureBuilder:
    """One feature set: `NEEDS` canonical columns in, one row per customer out."""

    NAME: ClassVar[str]
    NEEDS: ClassVar[tuple[str, ...]]
    COLUMNS: ClassVar[tuple[str, ...]] = ()  # the set's columns, where they are fixed

    def __init__(self, log1p: Sequence[str], scaler: str) -> None:
        self.log1p = list(log1p)
        self.scaler = scaler

    def _learn(self, tx: pd.DataFrame) -> None:
        """Learn what transform needs beyond the columns (a set with state overrides this)."""

    def _build(self, tx: pd.DataFrame) -> pd.DataFrame:
        raise NotImplementedError

    def _check(self, tx: pd.DataFrame) -> None:
        missing = [c for c in self.NEEDS if not has_column(tx, c)]
        if missing:
            from custseg.features import usable_sets

            raise FeatureError(
                f"feature set {self.NAME!r} needs column {missing[0]!r}, which this data does "
                f"not have; feature sets that work on it: {usable_sets(tx) or 'none'}"
            )

    def _finish(self, feats: pd.DataFrame) -> pd.DataFrame:
        feats.index = feats.index.astype("str")
        feats.index.name = "customer_id"
        return feats.astype("float64")

    def fit_transform(self, tx: pd.DataFrame) -> pd.DataFrame:
        """Learn from these customers and return their features."""
        self._check(tx)
        self._learn(tx)
        feats = self._finish(self._build(tx))
        self.columns_ = list(feats.columns)
        return feats

    def fit(self, tx: pd.DataFrame) -> FeatureBuilder:
        self.fit_transform(tx)
        return self

    def fit_columns(self, tx: pd.DataFrame, columns: Sequence[str]) -> FeatureBuilder:
        """Learn what `transform` needs from `tx`, taking the columns of features built
        elsewhere (the Spark engine builds them on the cluster; serving builds them here)."""
        self._check(tx)
        self._learn(tx)
        self.columns_ = list(columns)
        return self

    def transform(self, tx: pd.DataFrame) -> pd.DataFrame:
        """Features of any customers, in the columns learned at fit."""
        self._check(tx)
        return align_columns(self._finish(self._build(tx)), self.columns_)

    def scaling(self, seed: int) -> Pipeline:
        """The unfitted log1p + scaler step for these columns (fitted with the clusterer)."""
        from custseg.features.scaling import make_transformer  # scikit-learn: when fitting

        return make_transformer(self.columns_, self.log1p, self.scaler, seed)
