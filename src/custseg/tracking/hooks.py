"""Everything a run logs to MLflow, in one place: one logger per pipeline stage, called with
the run's result as each stage finishes (kedro-mlflow's hooks, without kedro)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from custseg.profiling.personas import personas_table
from custseg.recommend.evaluate import headline
from custseg.report import browser
from custseg.result import RunResult
from custseg.tracking.pyfunc import input_example, log_model
from custseg.tracking.run import Tracker, tracked_run
from custseg.tuning.selection import Trial

log = logging.getLogger(__name__)


def _clean(t: Tracker, r: RunResult) -> None:
    assert r.cleaning is not None
    t.metrics(r.cleaning.as_metrics())
    t.json(r.cleaning.__dict__, "cleaning.json")


def _tuning(t: Tracker, r: RunResult) -> None:
    seg = r.model.training_.segmentation  # type: ignore[union-attr]
    search = seg.tuning
    if search is None:
        return
    table = search.table()
    t.table(table, "tuning_trials")
    if seg.elbow is not None:
        t.table(seg.elbow, "elbow")
    # the searched parameters under the config's own names, with the values the run used
    # (`running` left them out: an MLflow param is written once)
    chosen = {f"segment.{k}": getattr(seg.algorithm, k) for k in r.config.segment.search_space}
    t.params({"tuning.study_name": search.study_name, "tuning.sampler_used": search.sampler,
              **chosen, **{f"chosen.{k}": v for k, v in search.chosen.params.items()}})  # fmt: skip
    t.metrics({"tuning.chosen_trial": search.chosen.number,
               "tuning.n_complete": len(search.trials),
               "tuning.new_trials": search.new_trials,
               "tuning.front_size": int(table["on_front"].sum()),
               "tuning.eligible": int(table["eligible"].sum())})  # fmt: skip
    if search.notes:
        t.tags({"tuning.note": " | ".join(search.notes)})


def _fit(t: Tracker, r: RunResult) -> None:
    model = r.model
    assert model is not None
    t.tags({"mlflow.runName": r.run_name})
    _tuning(t, r)
    metrics = r.metrics
    t.metrics(metrics)
    stability = model.training_.segmentation.stability
    if stability is not None:
        t.metrics(stability.as_metrics())
        log.info("Stability (bootstrap, %d rounds): ARI %.3f, Jaccard per segment %s",
                 stability.rounds, stability.ari_mean,
                 {s: round(j, 3) for s, j in stability.jaccard_means.items()})  # fmt: skip
    t.metrics({f"spark.seconds.{k}": v for k, v in model.training_.segmentation.seconds.items()})
    t.table(r.segments, "segments")
    log.info("Metrics: %s", {k: round(v, 4) for k, v in metrics.items()})
    prof = model.profiles_
    t.table(prof.summary, "profile_summary")
    t.table(personas_table(model.personas_), "personas")
    for name in ("region_mix", "category_mix", "top_products"):
        if getattr(prof, name) is not None:
            t.table(getattr(prof, name), name)
    for stage, why in model.skipped_.items():
        log.warning("Skipping %s: %s", stage, why)
    if model.skipped_:
        t.tags({f"skipped.{k}": v for k, v in model.skipped_.items()})
    if model.rules_ is not None:
        _rules(t, r)
    _blend(t, r)
    _value(t, r)


def _value(t: Tracker, r: RunResult) -> None:
    """The value models' parameters, every customer's value and each segment's share of it."""
    fitted = r.model.value_  # type: ignore[union-attr]
    if fitted is None or r.value is None:
        return
    params = {**fitted.purchase_params_, **(fitted.spend_params_ or {})}
    t.metrics({f"value.param.{k}": float(v) for k, v in params.items()})
    t.metrics({"value.customers": len(r.value),
               "value.p_alive_mean": float(r.value["p_alive"].mean())})  # fmt: skip
    if "clv" in r.value.columns:
        t.metrics({"value.clv_total": float(r.value["clv"].sum())})
    t.table(r.value, "customer_value")
    if r.profiles.value is not None:
        t.table(r.profiles.value, "value_profile")
    if fitted.skipped_:
        t.tags({f"skipped.value.{k}": v for k, v in fitted.skipped_.items()})
    log.info("Value models: %s", {k: round(float(v), 4) for k, v in params.items()})


def _holdout(t: Tracker, r: RunResult) -> None:
    """How well the value models predicted each customer's purchases on the last days."""
    h = r.value_holdout
    if h is None:  # too little data to hold out: the reason is the tag warning.value.holdout
        return
    t.metrics({f"value.holdout.{k}": float(v) for k, v in h.metrics.items()})
    t.table(h.calibration, "value_calibration")
    log.info("Value models on the last %d days: MAE %.3f purchases per customer (naive rate "
             "%.3f), correlation %.3f", h.metrics["holdout_days"], h.metrics["mae"],
             h.metrics["mae_naive"], h.metrics["correlation"])  # fmt: skip


def _blend(t: Tracker, r: RunResult) -> None:
    """The learned blend's weights, each source's validation score and every weighting tried."""
    choice = getattr(r.model, "blend_", None)
    if choice is None or not (choice.weights or choice.window):
        return
    t.json({"weights": choice.weights, "validation": choice.window, "score": choice.score,
            "singles": choice.singles, "trials": choice.trials}, "blend.json")  # fmt: skip
    ev = getattr(r.model, "expected_", None)
    if ev is not None:  # recommend.rank_by=expected_value: what an offer is worth, and why
        t.json({"value_basis": ev.basis, "items_valued": len(ev.values),
                "purchase_by_position": [float(p) for p in ev.purchase],
                "validation": ev.window}, "expected_value.json")  # fmt: skip
    if choice.weights:
        t.metrics({**{f"blend.weight.{s}": w for s, w in choice.weights.items()},
                   **{f"blend.validation.{s}": v for s, v in choice.singles.items()},
                   "blend.validation.chosen": choice.score})  # fmt: skip
        log.info("Blend weights learned on %s: %s (validation %s %.4f; best single %.4f)",
                 choice.window.get("cutoff"), {s: w for s, w in choice.weights.items() if w},
                 choice.window.get("metric"), choice.score,
                 max(choice.singles.values()))  # fmt: skip
    else:
        log.warning("Blend: configured weights used: %s", choice.window.get("skipped"))


def _rules(t: Tracker, r: RunResult) -> None:
    model = r.model
    assert model is not None and model.rules_ is not None
    train = model.training_
    for scope, part in model.rules_.groupby("segment", sort=True):
        name = "rules_all" if scope == "all" else f"rules_segment_{scope}"
        t.table(part.reset_index(drop=True), name)
    counts = model.rules_["segment"].value_counts()
    t.metrics({"rules.baskets": train.baskets, "rules.dropped_items": train.dropped_items,
               **{f"rules.count.{s}": int(counts.get(s, 0)) for s in train.rule_seconds},
               **{f"rules.seconds.{s}": v for s, v in train.rule_seconds.items()}})  # fmt: skip


def _recommend(t: Tracker, r: RunResult) -> None:
    recs = r.recommendations
    assert recs is not None
    t.table(recs, "recommendations")
    if r.offers is not None:
        t.table(r.offers, "segment_offers")
    names = r.product_names
    if names:  # what the explorer shows beside the ids
        t.table(pd.DataFrame({"product_id": list(names), "product_name": list(names.values())}),
                "products")
    t.metrics({"recommend.customers": recs["customer_id"].nunique()})


def _evaluate(t: Tracker, r: RunResult) -> None:
    assert r.evaluation is not None
    table, split = r.evaluation.table, r.evaluation.split
    t.json(split, "evaluation_split.json")
    if "skipped" in split:  # holdout.skipped(): the reason is the tag warning.evaluation.skipped
        return
    t.table(table, "recommendation_evaluation")
    if len(r.evaluation.detail):
        t.table(r.evaluation.detail, "recommendation_evaluation_detail")
    t.metrics({f"eval.{name}.{col.replace('@', '_at_')}": float(v)
               for name, row in table.iterrows() for col, v in row.items()})  # fmt: skip
    t.metrics({"eval.test_customers": split["test_customers"],
               "eval.excluded_customers": split["excluded_customers"],
               "eval.test_items_unseen_in_training":
                   split["test_items_unseen_in_training"]})  # fmt: skip
    k = r.config.recommend.k  # type: ignore[union-attr]
    log.info("Recommendation evaluation at k=%d (new items; repeat.* = bought before; all k "
             "in recommendation_evaluation.csv, by segment in its _detail):\n%s", k,
             headline(table, k).round(4).to_string())  # fmt: skip


def _report(t: Tracker, r: RunResult) -> None:
    for path in r.figures.values():
        t.file(path)
    if r.report is None:
        return
    t.folder(r.report.parent, "report")  # report.md, report.html and figures/
    log.info("Report: %s", r.report)


def _model(t: Tracker, r: RunResult) -> None:
    """The deployable model; Chromium pictures the report meanwhile (a program of its own)."""
    assert r.model is not None and r.transactions is not None
    shot = None
    wanted = r.report is not None and getattr(r.config.report, "screenshot", False)
    if wanted and browser.find_chromium():
        shot = browser.Screenshot(r.report, r.report.parent.parent / "report_screenshot.png")
    r.model_uri = log_model(r.model, input_example(r.transactions), r.config.tracking.register_as)
    log.info("Model: %s", r.model_uri)
    if shot is not None:
        t.file(shot.result())


LOGGERS: dict[str, Callable[[Tracker, RunResult], None]] = {
    "clean": _clean, "fit": _fit, "value": _holdout, "recommend": _recommend,
    "evaluate": _evaluate, "report": _report, "run": _model,
}  # fmt: skip


def _configured(plain: dict[str, Any], c: Any) -> dict[str, Any]:
    """The params logged as a run starts: the config, except, in a tuned run, the searched
    segment parameters, which the fit logs with the values the study chose (so a tuned run
    that used k=3 shows segment.n_clusters=3, not the configured 5)."""
    if not c.tuning.enabled:
        return plain
    segment = {k: v for k, v in plain["segment"].items() if k not in c.segment.search_space}
    return {**plain, "segment": segment}


class MlflowHooks:
    """Log a pipeline run into one MLflow parent run (trials as nested runs)."""

    def __init__(self, artifact_dir: Path | None = None) -> None:
        self.artifact_dir = artifact_dir
        self._tracker: Tracker | None = None

    @property
    def tracker(self) -> Tracker:
        if self._tracker is None:
            raise RuntimeError("no MLflow run is open")
        return self._tracker

    @contextmanager
    def running(self, r: RunResult) -> Iterator[None]:
        c = r.config
        with tracked_run(c.tracking, r.run_name, self.artifact_dir) as tracker:
            self._tracker = tracker
            r.run_id = tracker.run_id
            plain = c.dump()
            tracker.params(_configured(plain, c))
            tracker.text(yaml.safe_dump(plain, sort_keys=False, allow_unicode=True), "config.yaml")
            tracker.tags({"data": c.data.name, "features": c.features.name,
                          "algorithm": c.segment.name, "tuned": c.tuning.enabled,
                          "engine": c.engine.name})  # fmt: skip
            try:
                yield
            finally:
                self._tracker = None
                if r.warnings:  # failed runs too: a warning may explain the failure
                    tracker.tags({f"warning.{k}": v for k, v in r.warnings.items()})

    def on_trial(self, trial: Trial) -> None:
        tags: dict[str, Any] = {"optuna.trial": trial.number, "segment_sizes": trial.sizes}
        self.tracker.child(f"trial-{trial.number}", trial.params, trial.metrics, tags)

    def after(self, stage: str, result: RunResult) -> None:
        logger = LOGGERS.get(stage)
        if logger is not None:
            logger(self.tracker, result)


def log_drift(t: Tracker, config: Any, scored: Any, result: Any, name: str) -> None:
    """What `custseg drift` logs: the config, the split, how much moved, the migration.
    `scored` is the config of the segmentation that was scored (a logged model's own)."""
    from custseg.report.migration_plot import migration_plot

    plain = config.dump()
    t.params(plain)
    t.tags({"kind": "drift", "data": config.data.name, "features": scored.features.name,
            "algorithm": scored.segment.name})  # fmt: skip
    t.params({"drift.split_date": result.split.date().isoformat()})
    shift = float(result.sizes["shift"].abs().max())
    t.metrics({"drift.ari_refit": result.ari_refit, "drift.moved_share": result.moved_share,
               "drift.customers_a": result.customers_a, "drift.customers_b": result.customers_b,
               "drift.customers_both": result.customers_both,
               "drift.max_size_shift": shift})  # fmt: skip
    t.table(result.migration, "migration")
    t.table(result.sizes, "size_shift")
    if result.value_migration is not None:  # the value stage's measure, as the split found it
        t.metrics({"drift.value_moved_share": result.value_moved_share})
        t.params({"drift.value_measure": result.value_measure})
        t.table(result.value_migration, "value_migration")
    title = f"{name}: segment migration across {result.split.date()}"
    t.file(migration_plot(result, t.artifact_dir / "migration.png", title,
                          personas=result.personas))
