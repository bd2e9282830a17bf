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

SCALERS = {
    "standard": lambda seed: StandardScaler(),
    "robust": lambda seed: RobustScaler(),
    "quantile": lambda seed: QuantileTransformer(output_distribution="normal", random_state=seed),
    "none": lambda seed: "passthrough",
}


def _log1p_checked(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype="float64")
    if (x < 0).any():
        from custseg.features.base import FeatureError

        raise FeatureError(
            "log1p needs non-negative values; clean negative quantities/amounts first "
            "(clean.drop_nonpositive_quantity) or remove the column from features.log1p"
        )
    return np.log1p(x)


def make_transformer(
    columns: Sequence[str], log1p: Sequence[str], scaler: str, seed: int = 0
) -> Pipeline:
    """log1p of the `log1p` columns (those this feature table has: a set with optional columns
    may lack some), then the scaler; checked config names only (conf/features)."""
    log_step = ColumnTransformer(
        [
            (
                "log1p",
                FunctionTransformer(_log1p_checked, feature_names_out="one-to-one"),
                [c for c in log1p if c in columns],
            )
        ],
        remainder="passthrough",
        verbose_feature_names_out=False,
    )
    # numpy out, as the clusterers are fitted on arrays; names via get_feature_names_out()
    return Pipeline([("log", log_step), ("scale", SCALERS[scaler](seed))])
