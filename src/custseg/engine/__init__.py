"""Where the heavy stages run (conf/engine): this process, or a Spark cluster. Both give the
customer model the same things (a fitted feature builder, the scaled features, labels, the
scoring pipeline; rules per scope), so the model they produce is the same class either way."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd
from hydra.utils import instantiate
from sklearn.pipeline import Pipeline

from custseg.config.schema import Config, Engine, Rules, Segment
from custseg.progress import step

if TYPE_CHECKING:
    from collections.abc import Callable

    from custseg.features import FeatureBuilder
    from custseg.rules.baskets import Baskets
    from custseg.segment.stability import Stability
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
    stability: Stability | None = None  # bootstrap stability of `labels` (stability.rounds > 0)


def settle(seg: Segmentation, tx: pd.DataFrame, config: Config) -> Segmentation:
    """What every engine does after its final fit: number the segments by value, or as the
    reference run of `segment.align_to` (`custseg.segment.identity`), in the labels and in
    the pipeline's clusterer alike; then measure their bootstrap stability, refitting the
    configured algorithm locally on the scaled features (`custseg.segment.stability`)."""
    from custseg.segment import identity
    from custseg.segment.fit import stability

    order = identity.value_order(seg.labels, seg.features.index, tx)
    mapping = order
    if config.segment.align_to:
        from custseg.tracking.reference import reference_segments  # MLflow: only when asked

        reference = reference_segments(config.tracking.uri, config.segment.align_to)
        mapping = identity.align_to_reference(
            identity.relabel(seg.labels, order), seg.features.index, seg.X,
            seg.pipeline.steps[0][1], reference, order,
        )  # fmt: skip
    fitted = seg.pipeline.steps[-1][1]
    possible = [*np.unique(fitted.labels_), *range(getattr(seg.algorithm, "n_clusters", 0))]
    cluster = identity.Renumbered(fitted, identity.completed(mapping, possible)).fit(seg.X)
    labels = cluster.renumber(seg.labels)
    pipeline = Pipeline([*seg.pipeline.steps[:-1], ("cluster", cluster)])
    metrics = dict(seg.metrics)
    revenue = identity.customer_revenue(tx, seg.features.index)
    if revenue is not None:  # what the selection limits (tuning.selection.max_revenue_share)
        metrics["max_revenue_share"] = identity.max_revenue_share(labels, revenue)
    measured = None
    if config.stability.rounds:
        with step(f"stability: {config.stability.rounds} bootstrap refits"):
            measured = stability(seg.X, labels, seg.algorithm, config.seed,
                                 config.stability.rounds, config.stability.sample_size,
                                 n_jobs=os.cpu_count() or 1)  # fmt: skip
    return replace(seg, labels=labels, metrics=metrics, pipeline=pipeline, stability=measured)


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
