"""Where the heavy stages run (conf/engine): this process, or a Spark cluster. Both give the
customer model the same things (a fitted feature builder, the scaled features, labels, the
scoring pipeline; rules per scope), so the model they produce is the same class either way."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd
from hydra.utils import instantiate

from custseg.config.schema import Config, Engine, Rules, Segment

if TYPE_CHECKING:
    from collections.abc import Callable

    from sklearn.pipeline import Pipeline

    from custseg.features import FeatureBuilder
    from custseg.rules.baskets import Baskets
    from custseg.tuning.selection import Trial
    from custseg.tuning.study import TuningResult


@dataclass
class Segmentation:
    """Features to segments, whichever engine ran it."""

    builder: FeatureBuilder  # fitted: builds the same columns for any customers
    features: pd.DataFrame  # raw features, one row per customer (index customer_id)
    X: np.ndarray  # the scaled features the clusterer saw
    labels: np.ndarray  # segment per row of `features` (-1 = unassigned)
    metrics: dict[str, float]
    pipeline: Pipeline  # fitted transform + cluster: raw features -> segment
    algorithm: Segment  # the segment block of the final fit (tuned or as configured)
    tuning: TuningResult | None = None
    elbow: pd.DataFrame | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # engine-specific timings


class SegmentEngine(Protocol):
    def segment(
        self, tx: pd.DataFrame, config: Config, on_trial: Callable[[Trial], None] | None
    ) -> Segmentation: ...

    def mine(
        self, tx: pd.DataFrame, baskets: Baskets, segments: pd.Series, rules: Rules
    ) -> tuple[pd.DataFrame, dict[str, float]]: ...


def make_engine(cfg: Engine) -> SegmentEngine:
    """The engine `conf/engine` names by `_target_`, with its settings."""
    params: dict[str, Any] = cfg.model_dump(exclude={"name", "target"})
    return instantiate({"_target_": cfg.target, **params}, _convert_="all")
