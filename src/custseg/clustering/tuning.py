"""Optuna inside the app: multi-objective search (max silhouette, min Davies-Bouldin) with a
documented rule that picks one trial, so degenerate answers (a giant segment, dust clusters,
mostly noise) are never chosen just because they score well.

The study lives in RDB storage under a name derived from the config, so a killed run resumes
where it stopped and several processes can share one study. Trial logging is a callback: this
module never talks to MLflow.
"""

from __future__ import annotations

import hashlib
import json
import logging
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
import pandas as pd

from custseg.clustering.algorithms import UNASSIGNED, fit_labels, get_algorithm
from custseg.clustering.metrics import segmentation_metrics

log = logging.getLogger(__name__)
WORST = (-1.0, 1e6)  # objective values of a degenerate trial (one segment or no segment)

SAMPLERS: dict[str, Callable[[int], optuna.samplers.BaseSampler]] = {
    "tpe": lambda seed: optuna.samplers.TPESampler(seed=seed, multivariate=True),
    "nsga2": lambda seed: optuna.samplers.NSGAIISampler(seed=seed),
    "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
}


@dataclass
class Trial:
    number: int
    params: dict[str, Any]  # the searched parameters only
    metrics: dict[str, float]
    sizes: list[int] = field(default_factory=list)  # customers per segment, unassigned last
    on_front: bool = False
    eligible: bool = False
    why_not: str = ""


@dataclass
class TuningResult:
    study_name: str
    trials: list[Trial]
    chosen: Trial
    params: dict[str, Any]  # full algorithm config with the chosen trial's parameters
    new_trials: int = 0
    notes: list[str] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        rows = [
            {"trial": t.number, **{f"param.{k}": v for k, v in t.params.items()},
             **t.metrics, "on_front": t.on_front, "eligible": t.eligible,
             "chosen": t.number == self.chosen.number, "why_not": t.why_not}
            for t in self.trials
        ]  # fmt: skip
        return pd.DataFrame(rows).set_index("trial")


def study_name(resolved: Mapping[str, Any]) -> str:
    """Readable prefix plus a hash of everything that changes what a trial computes.

    n_trials is left out on purpose: asking for more trials continues the same study.
    """
    tuning = {k: v for k, v in resolved["tuning"].items() if k not in {"n_trials", "storage"}}
    key = {k: resolved[k] for k in ("data", "clean", "features", "algorithm", "seed", "metrics")}
    digest = hashlib.sha1(
        json.dumps({**key, "tuning": tuning}, sort_keys=True, default=str).encode()
    ).hexdigest()[:10]
    d, f, a = resolved["data"]["name"], resolved["features"]["name"], resolved["algorithm"]["name"]
    return f"{d}-{f}-{a}-{digest}"


def suggest(trial: optuna.Trial, space: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Config search space -> concrete parameters for one trial."""
    out: dict[str, Any] = {}
    for name, spec in space.items():
        kind = spec.get("type")
        if kind == "int":
            out[name] = trial.suggest_int(
                name, int(spec["low"]), int(spec["high"]), log=bool(spec.get("log", False))
            )
        elif kind == "float":
            out[name] = trial.suggest_float(
                name, float(spec["low"]), float(spec["high"]), log=bool(spec.get("log", False))
            )
        elif kind == "categorical":
            out[name] = trial.suggest_categorical(name, list(spec["choices"]))
        else:
            raise ValueError(
                f"algorithm.search_space.{name}.type: {kind!r} is not int|float|categorical"
            )
    return out


def evaluate(
    X: np.ndarray, algo_cfg: Mapping[str, Any], seed: int, metrics_cfg: Mapping[str, Any]
) -> tuple[dict[str, float], np.ndarray, Any]:
    """Fit one configuration; return its metrics, labels and the fitted estimator."""
    algo = get_algorithm(algo_cfg)
    est = algo.build(algo_cfg, seed)
    labels = fit_labels(est, X)
    metrics = segmentation_metrics(
        X,
        labels,
        max_exact=int(metrics_cfg["silhouette_max_exact"]),
        sample_size=int(metrics_cfg["silhouette_sample_size"]),
        seed=seed,
    )
    metrics |= algo.metrics(est, X)
    return metrics, labels, est


def segment_sizes(labels: np.ndarray) -> list[int]:
    """Customers per segment, largest first; unassigned (-1) customers last."""
    assigned = labels[labels != UNASSIGNED]
    sizes = sorted(np.bincount(assigned).tolist(), reverse=True) if assigned.size else []
    return [s for s in sizes if s] + [int((labels == UNASSIGNED).sum())]


def pareto_front(values: np.ndarray) -> np.ndarray:
    """Mask of non-dominated rows of (silhouette: max, davies_bouldin: min)."""
    s, d = values[:, 0], values[:, 1]
    front = np.ones(len(values), dtype=bool)
    for i in range(len(values)):
        dominated = (s >= s[i]) & (d <= d[i]) & ((s > s[i]) | (d < d[i]))
        front[i] = not dominated.any()
    return front


def _eligibility(m: Mapping[str, float], sel: Mapping[str, Any]) -> str:
    if "silhouette" not in m:
        return "fewer than two segments"
    if m["min_segment_share"] < float(sel["min_segment_share"]):
        return f"a segment below {sel['min_segment_share']:.0%} of customers"
    if m["max_segment_share"] > float(sel["max_segment_share"]):
        return f"a segment above {sel['max_segment_share']:.0%} of customers"
    if m.get("noise_share", 0.0) > float(sel["max_noise_share"]):
        return f"more than {sel['max_noise_share']:.0%} unassigned"
    return ""


def _pick_front_best_silhouette(trials: list[Trial], sel: Mapping[str, Any]) -> Trial:
    pool = [t for t in trials if t.eligible and t.on_front] or [t for t in trials if t.eligible]
    return max(pool, key=lambda t: (t.metrics["silhouette"], -t.number))


def _pick_parsimonious(trials: list[Trial], sel: Mapping[str, Any]) -> Trial:
    pool = [t for t in trials if t.eligible]
    best = max(t.metrics["silhouette"] for t in pool)
    near = [t for t in pool if t.metrics["silhouette"] >= best - float(sel["silhouette_tolerance"])]
    return min(near, key=lambda t: (t.metrics["n_segments"], t.metrics["davies_bouldin"], t.number))


RULES: dict[str, Callable[[list[Trial], Mapping[str, Any]], Trial]] = {
    "parsimonious": _pick_parsimonious,
    "front_best_silhouette": _pick_front_best_silhouette,
}


def select(trials: list[Trial], sel: Mapping[str, Any]) -> tuple[Trial, list[str]]:
    """Mark front and eligibility on every trial and pick one by the configured rule."""
    rule = sel.get("rule")
    if rule not in RULES:
        raise ValueError(f"tuning.selection.rule: {rule!r} is not one of {list(RULES)}")
    values = np.array(
        [(t.metrics.get("silhouette", WORST[0]), t.metrics.get("davies_bouldin", WORST[1]))
         for t in trials]
    )  # fmt: skip
    for t, on in zip(trials, pareto_front(values), strict=True):
        t.on_front = bool(on)
        t.why_not = _eligibility(t.metrics, sel)
        t.eligible = not t.why_not
    notes = []
    if not any(t.eligible for t in trials):
        notes.append("no trial met the selection constraints; chose the best silhouette overall")
        scored = [t for t in trials if "silhouette" in t.metrics] or trials
        return max(scored, key=lambda t: t.metrics.get("silhouette", -1.0)), notes
    return RULES[rule](trials, sel), notes


def _storage(url: str) -> optuna.storages.RDBStorage:
    with warnings.catch_warnings():  # heartbeats are marked experimental; we rely on them
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RDBStorage(
            url,
            heartbeat_interval=5,  # a killed process's RUNNING trial goes stale ...
            grace_period=15,
            heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                max_retry=1
            ),  # ... and is retried by the next process working on the study
        )


def tune(
    X: np.ndarray,
    resolved: Mapping[str, Any],
    on_trial: Callable[[Trial], None] | None = None,
) -> TuningResult:
    """Run (or continue) the study until it holds `tuning.n_trials` complete trials."""
    tuning, algo_cfg = resolved["tuning"], dict(resolved["algorithm"])
    seed, metrics_cfg = int(resolved["seed"]), resolved["metrics"]
    space = algo_cfg.get("search_space") or {}
    if not space:
        raise ValueError(f"algorithm.search_space is empty for {algo_cfg['name']}: nothing to tune")
    name = study_name(resolved)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=name,
        storage=_storage(str(tuning["storage"])),
        directions=["maximize", "minimize"],
        sampler=SAMPLERS[tuning["sampler"]](seed),
        load_if_exists=True,
    )
    target = int(tuning["n_trials"])
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    log.info("Study %s: %d of %d trials complete", name, len(done), target)

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        params = suggest(trial, space)
        for old in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
            if old.params == params:  # same point again: reuse instead of refitting
                metrics, sizes = old.user_attrs["metrics"], old.user_attrs["sizes"]
                break
        else:
            metrics, labels, _ = evaluate(X, {**algo_cfg, **params}, seed, metrics_cfg)
            sizes = segment_sizes(labels)
        trial.set_user_attr("metrics", metrics)
        trial.set_user_attr("sizes", sizes)
        log.info(
            "trial %d/%d %s: silhouette %.3f, DBI %.3f, %d segments",
            trial.number + 1, target, params, metrics.get("silhouette", float("nan")),
            metrics.get("davies_bouldin", float("nan")), metrics["n_segments"],
        )  # fmt: skip
        if on_trial is not None:
            on_trial(Trial(trial.number, params, metrics, sizes))
        if "silhouette" not in metrics:
            return WORST
        return metrics["silhouette"], metrics["davies_bouldin"]

    new = max(0, target - len(done))
    if new:
        study.optimize(
            objective,
            n_trials=new,
            callbacks=[
                optuna.study.MaxTrialsCallback(target, states=(optuna.trial.TrialState.COMPLETE,))
            ],
        )
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    trials = [
        Trial(t.number, dict(t.params), dict(t.user_attrs["metrics"]), t.user_attrs["sizes"])
        for t in complete
    ]
    chosen, notes = select(trials, tuning["selection"])
    for note in notes:
        log.warning(note)
    log.info("Chose trial %d: %s", chosen.number, chosen.params)
    params = {**algo_cfg, **chosen.params}
    return TuningResult(name, trials, chosen, params, new, notes)


def elbow(
    X: np.ndarray,
    algo_cfg: Mapping[str, Any],
    seed: int,
    metrics_cfg: Mapping[str, Any],
    trials: list[Trial] | None = None,
) -> pd.DataFrame | None:
    """Quality per k over the searched k range (KMeans/GMM): the classic elbow, made honest by
    showing silhouette and Davies-Bouldin beside inertia or BIC. A k that a trial already fitted
    with the same other parameters is taken from the study instead of fitted again."""
    k_space = (algo_cfg.get("search_space") or {}).get("n_clusters")
    if not k_space or "n_clusters" not in algo_cfg:
        return None
    known: dict[int, dict[str, float]] = {}
    for t in trials or []:
        others = {p: v for p, v in t.params.items() if p != "n_clusters"}
        if "n_clusters" in t.params and all(algo_cfg.get(p) == v for p, v in others.items()):
            known[int(t.params["n_clusters"])] = t.metrics
    rows = []
    for k in range(int(k_space["low"]), int(k_space["high"]) + 1):
        metrics = known.get(k) or evaluate(X, {**algo_cfg, "n_clusters": k}, seed, metrics_cfg)[0]
        rows.append({"k": k, **metrics})
    return pd.DataFrame(rows).set_index("k")
