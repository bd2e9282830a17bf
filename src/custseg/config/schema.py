"""The config's schema: one model per config group, assembled into `Config`.

Each group's options are a union told apart by a tag (`name`, `kind`, or `enabled` for on/off
groups), so `segment=hdbscan` is checked against HDBSCAN's keys and `rules=none` needs no
thresholds. The input groups live in `inputs`, the model's in `learning`; this module adds the
run's own groups and is the one place every schema class is imported from. Cross-field rules
(search spaces, blends, stores, the Spark engine's limits) live in `checks`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Discriminator, Field, Tag

from custseg.config.base import Count, DateText, Int, Off, Section, Target, switch
from custseg.config.inputs import (
    Canonical,
    Clean,
    Data,
    DemoData,
    FileData,
    Generator,
    Keys,
    Outliers,
    SegmentSpec,
    TableData,
    Tables,
    ThreeTableData,
)
from custseg.config.learning import (
    GMM,
    HDBSCAN,
    RFM,
    Algorithm,
    Basket,
    BasketColumn,
    CategoryMix,
    Choices,
    Constraints,
    Ease,
    Evaluate,
    Features,
    FeatureSet,
    FloatRange,
    IntRange,
    KMeans,
    Metrics,
    PersonaKey,
    Profiling,
    Recommend,
    RecommendGroup,
    RFMColumn,
    RFMRegion,
    Rules,
    RulesGroup,
    Sar,
    Scaler,
    SearchSpec,
    Segment,
    Selection,
    Significance,
    Source,
    Stability,
    Tuning,
    TuningGroup,
    Validation,
    ValueQuantity,
    ValueQuantityColumn,
    ValueQuantityPrice,
    Visits,
    VisitsColumn,
)


# -- report, monitoring, tracking, engine ------------------------------------------------------
class Report(Section):
    enabled: Literal[True]
    max_points: Annotated[Int, Field(ge=100)]
    screenshot: bool


ReportGroup = Annotated[
    Annotated[Report, Tag("on")] | Annotated[Off, Tag("off")], Discriminator(switch)
]


class Monitoring(Section):
    split: DateText | None
    model: str | None  # a logged model (runs:/ID/model, models:/NAME/V) instead of fitting A


class Tracking(Section):
    uri: Annotated[str, Field(min_length=1)]
    experiment: Annotated[str, Field(min_length=1)]
    register_as: str | None


class LocalEngine(Section):
    name: Literal["local"]
    target: Target


class SparkEngine(Section):
    name: Literal["spark"]
    target: Target
    master: Annotated[str, Field(min_length=1)]
    app_name: str
    conf: dict[str, str]
    parallelism: Count


Engine = Annotated[LocalEngine | SparkEngine, Field(discriminator="name")]


class Paths(Section):
    shared_data: str


class Config(Section):
    """A whole composed config, checked: what every stage is handed."""

    data: Data
    clean: Clean
    features: Features
    segment: Segment
    metrics: Metrics
    stability: Stability
    tuning: TuningGroup
    profiling: Profiling
    rules: RulesGroup
    recommend: RecommendGroup
    report: ReportGroup
    monitoring: Monitoring
    tracking: Tracking
    engine: Engine
    seed: Annotated[Int, Field(ge=0, le=2**32 - 1)]
    run_name: str | None
    paths: Paths


__all__ = [
    "Algorithm",
    "Basket",
    "BasketColumn",
    "Canonical",
    "CategoryMix",
    "Choices",
    "Clean",
    "Config",
    "Constraints",
    "Data",
    "DemoData",
    "Ease",
    "Engine",
    "Evaluate",
    "FeatureSet",
    "Features",
    "FileData",
    "FloatRange",
    "GMM",
    "Generator",
    "HDBSCAN",
    "IntRange",
    "KMeans",
    "Keys",
    "LocalEngine",
    "Metrics",
    "Monitoring",
    "Off",
    "Outliers",
    "Paths",
    "PersonaKey",
    "Profiling",
    "RFM",
    "RFMColumn",
    "RFMRegion",
    "Recommend",
    "RecommendGroup",
    "Report",
    "ReportGroup",
    "Rules",
    "RulesGroup",
    "Sar",
    "Scaler",
    "SearchSpec",
    "Segment",
    "SegmentSpec",
    "Selection",
    "Significance",
    "Source",
    "SparkEngine",
    "Stability",
    "TableData",
    "Tables",
    "ThreeTableData",
    "Tracking",
    "Tuning",
    "TuningGroup",
    "Validation",
    "ValueQuantity",
    "ValueQuantityColumn",
    "ValueQuantityPrice",
    "Visits",
    "VisitsColumn",
]
