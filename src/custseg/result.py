"""What a run produced, stage by stage: filled in by the pipeline, read by tracking and the
report. The fitted model holds what a deployment needs; this holds the run's tables too."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from custseg.config.schema import Config
from custseg.data.schema import has_column
from custseg.recommend.expected import COLUMN as EXPECTED
from custseg.recommend.expected import top_offers
from custseg.segment.algorithms import UNASSIGNED, build

if TYPE_CHECKING:
    from custseg.clean import CleaningReport
    from custseg.data.sources import Loaded
    from custseg.model import CustomerModel
    from custseg.profiling.profiles import Profiles
    from custseg.recommend.holdout import Evaluation
    from custseg.tuning.study import TuningResult
    from custseg.value import Holdout


def run_name(config: Config, model: CustomerModel | None = None) -> str:
    """What ran, readable in the MLflow run list: online_retail/rfm/kmeans-k5[-tuned]."""
    if config.run_name:
        return config.run_name
    algorithm = model.algorithm_ if model is not None else config.segment
    label = build(algorithm.target, algorithm.params(), config.seed).label()
    tuned = "-tuned" if config.tuning.enabled else ""
    return f"{config.data.name}/{config.features.name}/{label}{tuned}"


@dataclass
class RunResult:
    config: Config
    run_name: str
    source: Loaded | None = None  # what was loaded (its raw lines let go after cleaning)
    cleaning: CleaningReport | None = None
    transactions: pd.DataFrame | None = None  # the cleaned lines every later stage worked on
    model: CustomerModel | None = None
    value_holdout: Holdout | None = None  # the value models checked on the last days
    recommendations: pd.DataFrame | None = None  # model.recommend on every customer
    evaluation: Evaluation | None = None
    report: Path | None = None  # report.html
    figures: dict[str, Path] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)  # custseg.notices: key -> sentence
    run_id: str = ""  # set by tracking when the run is logged
    model_uri: str = ""

    def _model(self) -> CustomerModel:
        if self.model is None:
            raise ValueError("the model stage has not run")
        return self.model

    @property
    def features(self) -> pd.DataFrame:
        """Raw features, one row per customer."""
        return self._model().training_.segmentation.features

    @property
    def segments(self) -> pd.DataFrame:
        """customer_id -> segment (-1 = unassigned) beside the raw features."""
        seg = self._model().training_.segmentation
        out = seg.features.assign(segment=np.asarray(seg.labels, dtype="int64"))
        return out[["segment", *seg.features.columns]]

    @cached_property
    def product_names(self) -> dict[str, str] | None:
        """Product id -> name (first seen) of the cleaned lines, read once for the report's
        tables and figures and the logged `products` table; None without names."""
        tx = self.transactions
        if tx is None or not (has_column(tx, "product_name") and has_column(tx, "product_id")):
            return None
        first = tx.drop_duplicates("product_id")
        return dict(zip(first["product_id"].astype(str), first["product_name"].astype(str),
                        strict=True))  # fmt: skip

    @cached_property
    def offers(self) -> pd.DataFrame | None:
        """Per segment, the offers worth the most expected revenue (the served lists ranked by
        recommend.rank_by=expected_value carry it); None otherwise. Computed once, after the
        recommend stage (the hooks and the report both read it)."""
        recs = self.recommendations
        if recs is None or EXPECTED not in recs.columns:
            return None
        return top_offers(recs, self.segments["segment"].set_axis(
            self.segments.index.astype("str")))

    @property
    def metrics(self) -> dict[str, float]:
        """Segmentation quality, plus agreement with the planted segments on demo data."""
        seg = self._model().training_.segmentation
        out = dict(seg.metrics)
        truth = self.source.truth if self.source is not None else None
        if truth is not None:
            planted = truth.customers.set_index("customer_id")["segment"]
            planted = planted.reindex(seg.features.index).to_numpy()
            on = seg.labels != UNASSIGNED
            out["truth_ari"] = float(adjusted_rand_score(planted[on], seg.labels[on]))
        return out

    @property
    def profiles(self) -> Profiles:
        return self._model().profiles_

    @property
    def personas(self) -> pd.DataFrame:
        return self._model().personas_frame()

    @property
    def value(self) -> pd.DataFrame | None:
        """P(alive), expected purchases and CLV per customer, when the value stage ran."""
        return self._model().training_.value

    @property
    def rules(self) -> pd.DataFrame | None:
        return self._model().rules_

    @property
    def tuning(self) -> TuningResult | None:
        return self._model().training_.segmentation.tuning
