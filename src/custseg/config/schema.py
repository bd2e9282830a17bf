"""The config's schema: one model per config group, assembled into `Config`.

Each group's options are a union told apart by a tag (`name`, `kind`, or `enabled` for on/off
groups), so `segment=hdbscan` is checked against HDBSCAN's keys and `rules=none` needs no
thresholds. The input groups live in `inputs`, the model's in `learning`; this module adds the
run's own groups and is the one place every schema class is imported from. Cross-field rules
(search spaces, blends, stores, the Spark engine's limits) live in `checks`.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Discriminator, Field, Tag

from custseg.config.base import Count, DateText, Int, Off, Section, Target, Text, switch
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
from custseg.config.value import Value, ValueGroup


# -- report, monitoring, tracking, engine ------------------------------------------------------
class Report(Section):
    enabled: Literal[True]
    max_points: Annotated[Int, Field(ge=100)]
    screenshot: bool


ReportGroup = Annotated[
    Annotated[Report, Tag("on")] | Annotated[Off, Tag("off")], Discriminator(switch)
]


# where MLflow loads a model from: its own URIs, a local path, or an artifact store's URL
MODEL_SCHEMES = ("runs", "models", "file", "s3", "gs", "wasbs", "abfss", "hdfs", "dbfs",
                 "mlflow-artifacts", "http", "https")  # fmt: skip


def _model_uri(value: str) -> str:
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]+):", value)  # one letter: a Windows drive
    if scheme and scheme.group(1).lower() not in MODEL_SCHEMES:
        raise ValueError(
            f"{value!r}: {scheme.group(1)!r} is not a place MLflow loads models from; use "
            "runs:/RUN_ID/model, models:/NAME/VERSION or a local folder"
        )
    if value.startswith(("runs:/", "models:/")) and not value.split(":/", 1)[1].strip("/"):
        raise ValueError(f"{value!r} names no run or model; e.g. runs:/RUN_ID/model or "
                         "models:/custseg/1")  # fmt: skip
    return value


class Monitoring(Section):
    split: DateText | None
    # a logged model (runs:/ID/model, models:/NAME/V) instead of fitting A
    model: Annotated[Text, AfterValidator(_model_uri)] | None


class Tracking(Section):
    uri: Annotated[str, Field(min_length=1)]
    experiment: Annotated[str, Field(min_length=1)]
    register_as: Text | None
    timeout: Count  # seconds a tracking server gets to answer: the check before a run, each request


class LocalEngine(Section):
    name: Literal["local"]
    target: Target


SPARK_MASTER = re.compile(r"local(\[(\*|[1-9][0-9]*)(,[0-9]+)?\])?|yarn|(spark|k8s|mesos)://\S+")


def _spark_master(value: str) -> str:
    if not SPARK_MASTER.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a Spark master; use local[N] (N cores here), local[*], "
            "spark://HOST:7077, yarn or k8s://HOST:PORT"
        )
    return value


class SparkEngine(Section):
    name: Literal["spark"]
    target: Target
    # spark.master: local, local[N], local[*], spark://HOST:PORT, yarn, k8s://..., mesos://...
    master: Annotated[str, AfterValidator(_spark_master)]
    app_name: Text
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
    value: ValueGroup
    profiling: Profiling
    rules: RulesGroup
    recommend: RecommendGroup
    report: ReportGroup
    monitoring: Monitoring
    tracking: Tracking
    engine: Engine
    seed: Annotated[Int, Field(ge=0, le=2**32 - 1)]
    run_name: Text | None  # null: the name custseg makes up (data/features/algorithm)
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
    "Value",
    "ValueGroup",
    "ValueQuantity",
    "ValueQuantityColumn",
    "ValueQuantityPrice",
    "Visits",
    "VisitsColumn",
]
