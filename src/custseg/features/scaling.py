"""Transforms before clustering: log1p for skewed columns, then a scaler, as one sklearn object.

Kept as a fitted `Pipeline` so the exact transform travels with the model and new customers are
scaled the way the training customers were.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    QuantileTransformer,
    RobustScaler,
    StandardScaler,
)

from custseg.features.registry import FeatureError

SCALERS = {
    "standard": lambda seed: StandardScaler(),
    "robust": lambda seed: RobustScaler(),
    "quantile": lambda seed: QuantileTransformer(output_distribution="normal", random_state=seed),
    "none": lambda seed: "passthrough",
}


def _log1p_checked(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype="float64")
    if (x < 0).any():
        raise FeatureError(
            "log1p needs non-negative values; clean negative quantities/amounts first "
            "(clean.drop_nonpositive_quantity) or remove the column from features.log1p"
        )
    return np.log1p(x)


def make_transformer(
    columns: Sequence[str], log1p: Sequence[str], scaler: str, seed: int = 0
) -> Pipeline:
    unknown = [c for c in log1p if c not in columns]
    if unknown:
        raise FeatureError(
            f"features.log1p: {unknown} not in the feature set's columns {list(columns)}"
        )
    if scaler not in SCALERS:
        raise FeatureError(f"features.scaler: {scaler!r} is not one of {list(SCALERS)}")
    log_step = ColumnTransformer(
        [
            (
                "log1p",
                FunctionTransformer(_log1p_checked, feature_names_out="one-to-one"),
                list(log1p),
            )
        ],
        remainder="passthrough",
        verbose_feature_names_out=False,
    )
    # numpy out, as the clusterers are fitted on arrays; names via get_feature_names_out()
    return Pipeline([("log", log_step), ("scale", SCALERS[scaler](seed))])
