"""The one chain: load -> clean -> features -> scale -> segment -> metrics -> log.

Every stage is a plain function from the modules below; this file only orders them, reports
progress, and hands results to `tracking` (the only place that talks to MLflow).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf
from sklearn.metrics import adjusted_rand_score
from sklearn.pipeline import Pipeline

from custseg.clustering.algorithms import build_algorithm
from custseg.clustering.metrics import segmentation_metrics
from custseg.data import sources
from custseg.data.clean import CleaningReport, clean
from custseg.data.schema import has_column
from custseg.features import build_features
from custseg.features.scaling import make_transformer
from custseg.tracking.logging import tracked_run

log = logging.getLogger(__name__)
N_STAGES = 6


@dataclass
class PipelineResult:
    run_id: str
    run_name: str
    source: sources.Loaded
    cleaning: CleaningReport
    features: pd.DataFrame  # raw features, one row per customer
    segments: pd.DataFrame  # customer_id -> segment, plus the raw features
    metrics: dict[str, float]
    model: Pipeline  # fitted scaler + clusterer: apply to new customers' features


@contextmanager
def _stage(i: int, what: str) -> Iterator[None]:
    log.info("[%d/%d] %s ...", i, N_STAGES, what)
    t0 = time.perf_counter()
    yield
    log.info("[%d/%d] %s done in %.1f s", i, N_STAGES, what, time.perf_counter() - t0)


def _skipped_stages(tx: pd.DataFrame) -> dict[str, str]:
    """Stages that need product ids or prices, and why they cannot run on this data."""
    skipped = {}
    if not has_column(tx, "product_id"):
        skipped["rules"] = "no product ids in this source"
        skipped["recommend"] = "no product ids in this source"
    return skipped


def run(cfg: DictConfig, output_dir: Path | None = None) -> PipelineResult:
    """Run the configured pipeline inside one MLflow run and return what it produced."""
    seed = int(cfg.seed)
    resolved: dict[str, Any] = OmegaConf.to_container(cfg, resolve=True)  # type: ignore[assignment]
    run_name = str(cfg.run_name)
    with tracked_run(resolved["tracking"], run_name, output_dir) as tracker:
        tracker.params(resolved)
        tracker.text(OmegaConf.to_yaml(cfg, resolve=True), "config.yaml")
        tracker.tags({"data": cfg.data.name, "features": cfg.features.name,
                      "algorithm": cfg.algorithm.name})  # fmt: skip

        with _stage(1, f"load {cfg.data.name}"):
            loaded = sources.load(resolved["data"], seed)
        with _stage(2, "clean"):
            tx, report = clean(loaded.transactions, resolved["clean"])
        tracker.metrics(report.as_metrics())
        tracker.json(report.__dict__, "cleaning.json")
        skipped = _skipped_stages(tx)
        for stage, why in skipped.items():
            log.warning("Skipping %s: %s", stage, why)
        if skipped:
            tracker.tags({f"skipped.{k}": v for k, v in skipped.items()})

        with _stage(3, f"features {cfg.features.name}"):
            feats = build_features(tx, cfg.features.name, resolved["features"])
        with _stage(4, f"segment with {cfg.algorithm.name}"):
            transformer = make_transformer(
                list(feats.columns), list(cfg.features.log1p), cfg.features.scaler, seed
            )
            model = Pipeline(
                [
                    ("transform", transformer),
                    ("cluster", build_algorithm(resolved["algorithm"], seed)),
                ]
            )
            labels = model.fit_predict(feats)
            X = model.named_steps["transform"].transform(feats).to_numpy()
        with _stage(5, "metrics"):
            metrics = segmentation_metrics(
                X, labels, max_exact=int(cfg.metrics.silhouette_max_exact),
                sample_size=int(cfg.metrics.silhouette_sample_size), seed=seed,
            )  # fmt: skip
            cluster = model.named_steps["cluster"]
            if hasattr(cluster, "inertia_"):
                metrics["inertia"] = float(cluster.inertia_)
            if loaded.truth is not None:
                truth = loaded.truth.customers.set_index("customer_id")["segment"]
                metrics["truth_ari"] = float(
                    adjusted_rand_score(truth.reindex(feats.index).to_numpy(), labels)
                )
        segments = feats.assign(segment=np.asarray(labels, dtype="int64"))
        segments = segments[["segment", *feats.columns]]
        with _stage(6, "log to MLflow"):
            tracker.metrics(metrics)
            tracker.table(segments, "segments")
        log.info("Metrics: %s", {k: round(v, 4) for k, v in metrics.items()})
        return PipelineResult(
            tracker.run_id, run_name, loaded, report, feats, segments, metrics, model
        )
