"""The one chain: load -> clean -> features -> scale -> [tune] -> segment -> metrics -> log.

Every stage is a plain function from the modules below; this file only orders them, reports
progress, and hands results to `tracking` (the only place that talks to MLflow).
"""

from __future__ import annotations

import logging
import os
import resource
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf
from sklearn.metrics import adjusted_rand_score
from sklearn.pipeline import Pipeline

from custseg.clustering import tuning
from custseg.clustering.algorithms import UNASSIGNED, get_algorithm
from custseg.clustering.fit import evaluate
from custseg.data import sources
from custseg.data.clean import CleaningReport, clean
from custseg.data.schema import has_column
from custseg.features import build_features
from custseg.features.scaling import make_transformer
from custseg.helper import Helper, workers_for
from custseg.monitoring import drift
from custseg.profiling.personas import assign_personas, personas_table
from custseg.profiling.profiles import Profiles, customer_descriptors, profile
from custseg.recommend import favourites
from custseg.recommend.common import histories
from custseg.recommend.holdout import baskets_of, evaluate_on_time_split, recommenders
from custseg.report import browser
from custseg.report.figures import Figures
from custseg.report.report import ReportInput, write_report
from custseg.rules.baskets import Baskets
from custseg.rules.mining import mine
from custseg.startup import HeadStart
from custseg.tracking.logging import Tracker, tracked_run
from custseg.tracking.model import bundle_from_run, input_example

log = logging.getLogger(__name__)
N_STAGES = 12


@dataclass
class PipelineResult:
    run_id: str
    run_name: str
    source: sources.Loaded  # what was loaded; its raw lines are let go after cleaning (layout kept)
    cleaning: CleaningReport
    transactions: pd.DataFrame  # the cleaned lines every later stage worked on
    features: pd.DataFrame  # raw features, one row per customer
    segments: pd.DataFrame  # customer_id -> segment (-1 = unassigned), plus the raw features
    metrics: dict[str, float]
    model: Pipeline  # fitted scaler + clusterer: apply to new customers' features
    params: dict[str, Any]  # the algorithm parameters of the final fit (tuned or configured)
    model_uri: str  # where MLflow keeps `model` (models:/...), linked to the run
    tuning: tuning.TuningResult | None = None
    rules: pd.DataFrame | None = None  # every scope's rules ("all" and each segment)
    recommendations: pd.DataFrame | None = None  # top-k per customer with their sources
    evaluation: pd.DataFrame | None = None  # recommenders and baselines on a time split
    profiles: Profiles | None = None
    personas: pd.DataFrame | None = None  # name, description, RFM label, actions per segment
    report: Path | None = None  # local report.html; only kept when run() was given output_dir


def _memory() -> str:
    """Resident memory now and at its peak so far: at a million customers the question after
    "how long" is "how much", and the answer belongs next to the stage that spent it."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    try:
        with open("/proc/self/statm") as fh:
            now = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # not Linux: the peak alone
        return f"peak {peak:,.0f} MB"
    return f"{now:,.0f} MB, peak {peak:,.0f} MB"


@contextmanager
def _stage(i: int, what: str) -> Iterator[None]:
    log.info("[%d/%d] %s ...", i, N_STAGES, what)
    t0 = time.perf_counter()
    yield
    log.info("[%d/%d] %s done in %.1f s (memory %s)", i, N_STAGES, what,
             time.perf_counter() - t0, _memory())  # fmt: skip


@contextmanager
def _helper(resolved: dict[str, Any], given: Helper | None) -> Iterator[Helper]:
    """The run's helper processes (the caller's, if it started them early), closed with the run."""
    helper = given or Helper(workers_for(resolved))
    try:
        yield helper
    finally:
        helper.close()


def _skipped_stages(tx: pd.DataFrame) -> dict[str, str]:
    """Stages that need product ids, and why they cannot run on this data."""
    skipped = {}
    if not has_column(tx, "product_id"):
        skipped["rules"] = "no product ids in this source"
        skipped["recommend"] = "no product ids in this source"
    return skipped


def run_name_for(resolved: dict[str, Any], params: dict[str, Any], tuned: bool) -> str:
    """What ran, readable in the MLflow run list: online_retail/rfm/kmeans-k5[-tuned]."""
    if resolved.get("run_name"):
        return str(resolved["run_name"])
    label = get_algorithm(params).label(params) + ("-tuned" if tuned else "")
    return f"{resolved['data']['name']}/{resolved['features']['name']}/{label}"


def _tune(
    X: np.ndarray, resolved: dict[str, Any], tracker: Tracker, figures: Figures, helper: Helper
) -> tuning.TuningResult:
    def on_trial(t: tuning.Trial) -> None:
        tags = {"optuna.trial": t.number, "segment_sizes": t.sizes}
        tracker.child(f"trial-{t.number}", t.params, t.metrics, tags)

    result = tuning.tune(X, resolved, on_trial, helper if helper.enabled else None)
    table = result.table()
    tracker.table(table, "tuning_trials")
    title = f"{resolved['data']['name']} / {resolved['features']['name']} / "
    title += f"{resolved['algorithm']['name']}: {len(table)} trials"
    out = tracker.artifact_dir
    figures.draw("pareto_front", "pareto_plot", table, out / "pareto_front.png", title)
    if resolved["tuning"].get("elbow"):
        curve = tuning.elbow(
            X, result.params, int(resolved["seed"]), resolved["metrics"], result.trials
        )
        if curve is not None:
            tracker.table(curve, "elbow")
            chosen_k = result.params.get("n_clusters")
            figures.draw("elbow", "elbow_plot", curve, out / "elbow.png", title, chosen_k)
    tracker.params({"tuning.study_name": result.study_name, "tuning.sampler_used": result.sampler,
                    **{f"chosen.{k}": v for k, v in result.chosen.params.items()}})  # fmt: skip
    tracker.metrics({"tuning.chosen_trial": result.chosen.number,
                     "tuning.n_complete": len(result.trials),
                     "tuning.new_trials": result.new_trials,
                     "tuning.front_size": int(table["on_front"].sum()),
                     "tuning.eligible": int(table["eligible"].sum())})  # fmt: skip
    if result.notes:
        tracker.tags({"tuning.note": " | ".join(result.notes)})
    return result


def _product_names(tx: pd.DataFrame) -> dict[str, str] | None:
    """Product id -> name (first seen), so plots and the report show names people know."""
    if not (has_column(tx, "product_name") and has_column(tx, "product_id")):
        return None
    first = tx.drop_duplicates("product_id")
    return dict(zip(first["product_id"].astype(str), first["product_name"].astype(str),
                    strict=True))  # fmt: skip


@dataclass(frozen=True)
class Evaluation:
    """Stage 10, started: `result()` waits for (or runs) it; `beside` says it ran on a thread."""

    result: Callable[[], tuple[pd.DataFrame, dict[str, Any]]]
    beside: bool


def _start_evaluation(
    tx: pd.DataFrame, feats_name: str, resolved: dict[str, Any], model: Pipeline
) -> Evaluation:
    """Stage 10 as a call that returns its result. It needs only the cleaned lines and the
    model, so on a table below `recommend.evaluate.concurrent_below` lines it starts now on a
    second thread and runs beside profiles, rules and recommendations (most of its time is
    numpy and sparse algebra, which let the other thread run); larger tables evaluate after
    the recommendations, so the two memory peaks never add up."""
    limit = resolved["recommend"]["evaluate"].get("concurrent_below") or 0
    if len(tx) >= limit:
        return Evaluation(
            lambda: evaluate_on_time_split(tx, feats_name, resolved, model), beside=False
        )
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="evaluate")
    # its own frame object over the same columns: no pandas cache is shared between threads
    job = pool.submit(evaluate_on_time_split, tx.copy(deep=False), feats_name, resolved, model)
    pool.shutdown(wait=False)
    return Evaluation(job.result, beside=True)


def _rules_and_recommendations(
    tx: pd.DataFrame, segments: pd.DataFrame, resolved: dict[str, Any],
    evaluation: Evaluation | None, tracker: Tracker, figures: Figures,
) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:  # fmt: skip
    rules_cfg, rec_cfg = resolved["rules"], resolved["recommend"]
    segment_of = segments["segment"]
    miner = "spark FP-growth" if resolved["engine"]["name"] == "spark" else rules_cfg["engine"]
    with _stage(8, f"mine rules ({miner}, support {rules_cfg['min_support']})"):
        baskets = baskets_of(tx, rules_cfg)
        rules, seconds = ENGINES[resolved["engine"]["name"]].mine(tx, baskets, segment_of, resolved)
        for scope, part in rules.groupby("segment", sort=True):
            name = "rules_all" if scope == "all" else f"rules_segment_{scope}"
            tracker.table(part.reset_index(drop=True), name)
        tracker.metrics({"rules.baskets": baskets.n_baskets,
                         "rules.dropped_items": baskets.dropped_items,
                         **{f"rules.count.{s}": int((rules["segment"] == s).sum())
                            for s in seconds},
                         **{f"rules.seconds.{s}": v for s, v in seconds.items()}})  # fmt: skip
        if len(rules):
            title = f"{resolved['data']['name']}: strongest rules per segment vs all customers"
            names = _product_names(tx) if rules_cfg["item"] == "product_id" else None
            png = tracker.artifact_dir / "top_rules.png"
            figures.draw("top_rules", "top_rules_plot", rules, png, title, names=names)
    if not rec_cfg["enabled"]:
        return rules, None, None
    with _stage(9, f"recommend top {rec_cfg['k']} per customer"):
        hist = histories(tx, item=rules_cfg["item"])
        final = recommenders(hist, baskets, rules, segment_of, hist, rec_cfg,
                              baselines=False)["custseg"]  # fmt: skip
        tracker.table(final, "recommendations")
        tracker.metrics({"recommend.customers": final["customer_id"].nunique()})
    table = None
    if evaluation is not None:
        beside = " (ran beside stages 7-9)" if evaluation.beside else ""
        with _stage(10, f"evaluate recommendations on a time split{beside}"):
            table, info = evaluation.result()
            tracker.table(table, "recommendation_evaluation")
            tracker.json(info, "evaluation_split.json")
            tracker.metrics(
                {
                    f"eval.{name}.{col.replace('@', '_at_')}": float(v)
                    for name, row in table.iterrows()
                    for col, v in row.items()
                }
            )
            tracker.metrics({"eval.test_customers": info["test_customers"],
                             "eval.excluded_customers": info["excluded_customers"]})  # fmt: skip
            log.info("Recommendation evaluation:\n%s", table.round(4).to_string())
    return rules, final, table


def _profile(
    tx: pd.DataFrame, segments: pd.DataFrame, X: np.ndarray, resolved: dict[str, Any],
    tracker: Tracker, figures: Figures,
) -> tuple[Profiles, pd.DataFrame]:  # fmt: skip
    """Profiles and personas (always: the model carries them), and with the report on, the
    segment plots, queued for the figure worker (stage 7)."""
    rep, book = resolved["report"], resolved["playbook"]
    seg_of = segments["segment"]
    feats = segments.drop(columns="segment")
    desc = customer_descriptors(tx)
    prof = profile(tx, seg_of, feats, int(rep.get("top_n", 10)), descriptors=desc)
    rfm = resolved["features"]["name"] in {"rfm", "rfm_region"}
    found = assign_personas(desc, seg_of, book["actions"], rfm=rfm, currency=book["currency"])
    personas = pd.DataFrame([asdict(p) for p in found])  # actions stay lists for the report
    tracker.table(prof.summary, "profile_summary")
    tracker.table(personas_table(found), "personas")
    for name in ("region_mix", "category_mix", "top_products"):
        part = getattr(prof, name)
        if part is not None:
            tracker.table(part, f"profile_{name}")
    if not rep["enabled"]:
        return prof, personas
    out, labels, names = tracker.artifact_dir, seg_of.to_numpy(), list(feats.columns)
    what = f"{resolved['data']['name']} / {resolved['features']['name']}"
    n_max = int(rep["max_points"])
    seed = int(resolved["seed"])
    # the worker gets at most the points a plot shows, not a million-row matrix
    pick = np.sort(np.random.default_rng(seed).permutation(len(X))[: 20 * n_max])
    Xs, ls = X[pick], labels[pick]
    figures.draw("scatter", "segment_scatter", Xs, ls, names, out / "segments_scatter.png",
                 f"{what}: customers by segment", n_max, seed)  # fmt: skip
    figures.draw("biplot", "pca_biplot", Xs, ls, names, out / "pca_biplot.png",
                 f"{what}: what separates the segments")  # fmt: skip
    title = f"{what}: standardized features per segment"
    figures.draw("boxplots", "feature_boxplots", Xs, ls, names, out / "feature_boxplots.png",
                 title)  # fmt: skip
    figures.draw("sizes", "size_revenue_plot", prof.summary, out / "segment_sizes.png",
                 f"{what}: customers and revenue per segment")  # fmt: skip
    figures.draw("silhouette", "silhouette_plot", Xs, ls, out / "silhouette.png",
                 f"{what}: silhouette per customer", n_max, seed)  # fmt: skip
    if prof.region_mix is not None:
        figures.draw("region_mix", "mix_heatmap", prof.region_mix, out / "region_mix.png",
                     f"{what}: region mix", "region")  # fmt: skip
    if prof.category_mix is not None:
        figures.draw("category_mix", "mix_heatmap", prof.category_mix,
                     out / "category_mix.png", f"{what}: category mix", "category")  # fmt: skip
    if prof.top_products is not None:
        title = f"{what}: top products per segment vs overall"
        figures.draw("top_items", "top_items_plot", prof.top_products, out / "top_items.png",
                     title)  # fmt: skip
    return prof, personas


def _report(
    result: PipelineResult, tx: pd.DataFrame, figures: dict[str, Path], resolved: dict[str, Any],
    command: str, tracker: Tracker,
) -> Path:  # fmt: skip
    """report.md + self-contained report.html (stage 11); the segment figures first, then the
    tuning and rules figures."""
    out = tracker.artifact_dir
    last = ("elbow", "pareto_front", "top_rules")
    figures = {k: v for k, v in figures.items() if k not in last} | {
        k: figures[k] for k in last if k in figures
    }
    names = _product_names(tx)
    assert result.profiles is not None and result.personas is not None
    inp = ReportInput(
        title=f"custseg: {result.run_name}",
        run={
            "data": resolved["data"]["name"],
            "rows_after_cleaning": result.cleaning.rows_out,
            "customers": len(result.segments),
            "features": resolved["features"]["name"],
            "algorithm": resolved["algorithm"]["name"],
            "params": {k: v for k, v in result.params.items() if k != "search_space"},
            "metrics": result.metrics,
            "command": command,
            "run_id": result.run_id,
            "run_name": result.run_name,
        },  # fmt: skip
        summary=result.profiles.summary,
        personas=result.personas,
        figures=figures,
        top_pairs=result.rules,
        evaluation=result.evaluation,
        top_products=result.profiles.top_products,
        product_names=names,
    )
    md, html = write_report(inp, out / "report")
    tracker.folder(md.parent, "report")  # report.md, report.html and figures/
    return html


def _screenshot(html: Path, report_cfg: dict[str, Any]) -> Future[Path] | None:
    """A headless-Chromium picture of the report, taken in a thread while the model is logged
    (Chromium is a separate process, so this costs no wall time)."""
    if not report_cfg["screenshot"] or not browser.find_chromium():
        return None
    shot = html.parent.parent / "report_screenshot.png"
    return ThreadPoolExecutor(max_workers=1).submit(browser.screenshot, html, shot)


def _log_model(
    result: PipelineResult, tx: pd.DataFrame, resolved: dict[str, Any], tracker: Tracker
) -> str:
    """Bundle what scoring needs into the pyfunc model and log (and maybe register) it."""
    item = resolved["rules"].get("item", "product_id")
    ranking = None
    if has_column(tx, item):
        ranking = favourites.segment_ranking(tx, result.segments["segment"], item, top=100)
    bundle = bundle_from_run(resolved, result.model, list(result.features.columns),
                             result.personas, result.rules, ranking)  # fmt: skip
    example = input_example(tx)
    return tracker.model(bundle, example, resolved["tracking"].get("register_as"))


@dataclass
class Segmentation:
    """What the features-to-segments stages hand on, whichever engine ran them."""

    features: pd.DataFrame  # raw features, one row per customer (index customer_id)
    X: np.ndarray  # the scaled features the clusterer saw
    labels: np.ndarray  # segment per row of `features` (-1 = unassigned)
    metrics: dict[str, float]
    model: Pipeline  # fitted transform + cluster; predicts segments from raw features
    params: dict[str, Any]  # algorithm parameters of the final fit
    tuning: tuning.TuningResult | None = None


def _segment_local(
    tx: pd.DataFrame, resolved: dict[str, Any], tracker: Tracker, figures: Figures,
    helper: Helper,
) -> Segmentation:  # fmt: skip
    """Stages 3-5 in this process: features, scaling, optional Optuna study, final fit."""
    seed, feats_cfg = int(resolved["seed"]), resolved["features"]
    with _stage(3, f"features {feats_cfg['name']}"):
        feats = build_features(tx, feats_cfg["name"], feats_cfg)
        transformer = make_transformer(
            list(feats.columns), list(feats_cfg["log1p"]), feats_cfg["scaler"], seed
        )
        X = transformer.fit_transform(feats)
    search = None
    params = dict(resolved["algorithm"])
    if resolved["tuning"]["enabled"]:
        n_trials = resolved["tuning"]["n_trials"]
        with _stage(4, f"tune {params['name']} (up to {n_trials} trials)"):
            search = _tune(X, resolved, tracker, figures, helper)
            params = search.params
    with _stage(5, f"segment with {get_algorithm(params).label(params)}"):
        # after a study, the chosen trial's own fit when this process made it
        fitted = search.fitted if search is not None else None
        metrics, labels, est = fitted or evaluate(X, params, seed, resolved["metrics"])
        metrics = dict(metrics)
        model = Pipeline([("transform", transformer), ("cluster", est)])
    return Segmentation(feats, X, np.asarray(labels), metrics, model, params, search)


def _segment_spark(
    tx: pd.DataFrame, resolved: dict[str, Any], tracker: Tracker, figures: Figures,
    helper: Helper,
) -> Segmentation:  # fmt: skip
    """Stages 3-5 on Spark (features in Spark SQL, pyspark.ml clustering)."""
    if resolved["tuning"]["enabled"]:
        raise ValueError("tuning=optuna runs on the local engine only: with engine=spark use "
                         "tuning=none and set algorithm.n_clusters")  # fmt: skip
    from custseg.spark import stages

    what = f"{resolved['features']['name']} features and {resolved['algorithm']['name']}"
    with _stage(3, f"{what} on Spark ({resolved['engine']['master']})"):
        seg = stages.segment(tx, resolved)
    tracker.metrics({f"spark.seconds.{k}": v for k, v in seg.seconds.items()})
    return Segmentation(seg.features, seg.X, seg.labels, seg.metrics, seg.model, seg.params)


def _mine_local(
    tx: pd.DataFrame, baskets: Baskets, segment_of: pd.Series, resolved: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, float]]:
    return mine(baskets, segment_of, resolved["rules"])


def _mine_spark(
    tx: pd.DataFrame, baskets: Baskets, segment_of: pd.Series, resolved: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, float]]:
    from custseg.spark import stages

    return stages.mine(tx, segment_of, resolved)


@dataclass(frozen=True)
class Engine:
    segment: Callable[[pd.DataFrame, dict[str, Any], Tracker, Figures, Helper], Segmentation]
    mine: Callable[
        [pd.DataFrame, Baskets, pd.Series, dict[str, Any]], tuple[pd.DataFrame, dict[str, float]]
    ]


ENGINES: dict[str, Engine] = {
    "local": Engine(_segment_local, _mine_local),
    "spark": Engine(_segment_spark, _mine_spark),
}


def run(
    cfg: DictConfig, output_dir: Path | None = None, command: str | None = None,
    head_start: HeadStart | None = None,
) -> PipelineResult:  # fmt: skip
    """Run the configured pipeline inside one MLflow run and return what it produced.

    `head_start`: the helper processes and the data load, started before this module was
    imported (the CLI does: they progress while the imports run); by default the run starts
    its own helper (`workers`) and loads at stage 1.
    """
    seed = int(cfg.seed)
    resolved: dict[str, Any] = OmegaConf.to_container(cfg, resolve=True)  # type: ignore[assignment]
    tuned = bool(resolved["tuning"]["enabled"])
    run_name = run_name_for(resolved, resolved["algorithm"], tuned)
    with (
        _helper(resolved, head_start.helper if head_start else None) as helper,
        tracked_run(resolved["tracking"], run_name, output_dir) as tracker,
    ):
        figures = Figures(helper)
        tracker.params(resolved)
        tracker.text(OmegaConf.to_yaml(cfg, resolve=True), "config.yaml")
        tracker.tags({"data": cfg.data.name, "features": cfg.features.name,
                      "algorithm": cfg.algorithm.name, "tuned": tuned,
                      "engine": cfg.engine.name})  # fmt: skip
        engine = ENGINES.get(str(resolved["engine"]["name"]))
        if engine is None:
            raise ValueError(f"engine.name: {resolved['engine']['name']!r} is not one of "
                             f"{sorted(ENGINES)}")  # fmt: skip

        with _stage(1, f"load {cfg.data.name}" + (" (read during start-up)" if head_start else "")):
            loaded = head_start.loaded() if head_start else sources.load(resolved["data"], seed)
        with _stage(2, "clean"):
            tx, report = clean(loaded.transactions, resolved["clean"])
            # the raw lines are not needed again (10M of them are 1.2 GB): keep their layout
            loaded = replace(loaded, transactions=loaded.transactions.iloc[:0])
        tracker.metrics(report.as_metrics())
        tracker.json(report.__dict__, "cleaning.json")
        skipped = _skipped_stages(tx)
        for stage, why in skipped.items():
            log.warning("Skipping %s: %s", stage, why)
        if skipped:
            tracker.tags({f"skipped.{k}": v for k, v in skipped.items()})

        seg = engine.segment(tx, resolved, tracker, figures, helper)
        feats, X, labels, metrics, model, params = (
            seg.features, seg.X, seg.labels, seg.metrics, seg.model, seg.params
        )  # fmt: skip
        search = seg.tuning
        if search is not None:
            run_name = run_name_for(resolved, params, tuned)
            tracker.tags({"mlflow.runName": run_name})
        if loaded.truth is not None:
            truth = loaded.truth.customers.set_index("customer_id")["segment"]
            truth = truth.reindex(feats.index).to_numpy()
            assigned = labels != UNASSIGNED
            metrics["truth_ari"] = float(adjusted_rand_score(truth[assigned], labels[assigned]))
        segments = feats.assign(segment=np.asarray(labels, dtype="int64"))
        segments = segments[["segment", *feats.columns]]
        with _stage(6, "log segments to MLflow"):
            tracker.metrics(metrics)
            tracker.table(segments, "segments")
        log.info("Metrics: %s", {k: round(v, 4) for k, v in metrics.items()})
        result = PipelineResult(
            tracker.run_id, run_name, loaded, report, tx, feats, segments, metrics, model,
            params, "", search,
        )  # fmt: skip
        rules_on = resolved["rules"]["enabled"] and "rules" not in skipped
        rec = resolved["recommend"]
        evaluation = None
        if rules_on and rec["enabled"] and rec["evaluate"]["enabled"]:
            evaluation = _start_evaluation(tx, cfg.features.name, resolved, model)
        with _stage(7, "profile segments and name personas"):
            result.profiles, result.personas = _profile(tx, segments, X, resolved, tracker, figures)
        if rules_on:
            result.rules, result.recommendations, result.evaluation = _rules_and_recommendations(
                tx, segments, resolved, evaluation, tracker, figures
            )
        with _stage(11, "finish the figures and write the report"):
            tracker.prepare_model()  # runs while this thread waits for the figures
            drawn = figures.collect()
            for path in drawn.values():
                tracker.file(path)
            shot = None
            if resolved["report"]["enabled"]:
                command = command or "python -m custseg  # overrides: see config.yaml"
                result.report = _report(result, tx, drawn, resolved, command, tracker)
                log.info("Report: %s", result.report)
                shot = _screenshot(result.report, resolved["report"])
        with _stage(12, "log the scoring model"):
            result.model_uri = _log_model(result, tx, resolved, tracker)
            log.info("Model: %s", result.model_uri)
        if shot is not None:
            tracker.file(shot.result())
        return result


def run_drift(cfg: DictConfig, output_dir: Path | None = None) -> drift.DriftResult:
    """`custseg drift`: how the segmentation holds up from one period to the next, as a run."""
    seed = int(cfg.seed)
    resolved: dict[str, Any] = OmegaConf.to_container(cfg, resolve=True)  # type: ignore[assignment]
    name = f"drift/{resolved['data']['name']}/{resolved['features']['name']}/"
    name += get_algorithm(resolved["algorithm"]).label(resolved["algorithm"])
    with tracked_run(resolved["tracking"], name, output_dir) as tracker:
        tracker.params(resolved)
        tracker.tags({"kind": "drift", "data": cfg.data.name, "features": cfg.features.name,
                      "algorithm": cfg.algorithm.name})  # fmt: skip
        with _stage(1, f"load and clean {cfg.data.name}"):
            tx, _ = clean(sources.load(resolved["data"], seed).transactions, resolved["clean"])
        with _stage(2, "fit on period A, score and refit period B"):
            res = drift.drift(tx, resolved["features"], resolved["algorithm"],
                              resolved["drift"]["split"], seed, resolved["metrics"])  # fmt: skip
        tracker.params({"drift.split_date": res.split.date().isoformat()})
        shift = float(res.sizes["shift"].abs().max())
        tracker.metrics({"drift.ari_refit": res.ari_refit, "drift.moved_share": res.moved_share,
                         "drift.customers_a": res.customers_a,
                         "drift.customers_b": res.customers_b,
                         "drift.customers_both": res.customers_both,
                         "drift.max_size_shift": shift})  # fmt: skip
        tracker.table(res.migration, "migration")
        tracker.table(res.sizes, "size_shift")
        title = f"{name}: segment migration across {res.split.date()}"
        tracker.file(drift.migration_plot(res, tracker.artifact_dir / "migration.png", title))
        log.info("Drift: ARI %.3f between model A and a refit on B; %.1f%% of %d repeat customers"
                 " moved", res.ari_refit, 100 * res.moved_share, res.customers_both)  # fmt: skip
        return res
