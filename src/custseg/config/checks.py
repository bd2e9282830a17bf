"""Rules across keys, checked right after the types: a value can be valid on its own and still
not work with the rest (a search space over a parameter the algorithm lacks, a blend without a
weight, thresholds no rule can meet, what the Spark engine cannot run). The study's own rules
live in `checks_tuning`, the inputs' in `checks_inputs`, the stores' in `stores`; `CHECKS`
lists them all in the order they run."""

from __future__ import annotations

from collections.abc import Callable

from custseg.config.checks_inputs import clean_rules, data_rules, rules_item
from custseg.config.checks_tuning import search_space_values, selection_reachable
from custseg.config.errors import ConfigError
from custseg.config.schema import (
    GMM,
    Choices,
    Config,
    IntRange,
    KMeans,
    Recommend,
    Rules,
    Tuning,
)
from custseg.config.stores import check_storage
from custseg.hints import did_you_mean

# what engine=spark implements (custseg.engine.spark); kept here so checking needs no pyspark
SPARK_FEATURES = ("value_quantity", "value_quantity_price", "rfm", "basket")
SPARK_SCALERS = ("standard",)
TRACKING_SCHEMES = ("sqlite", "http", "https", "postgresql", "mysql", "mssql", "databricks")
RULE_SOURCES = ("crosssell", "overall_rules")  # recommend.order sources built on the rules


def _search_space(c: Config) -> None:
    params = c.segment.params()
    for name, spec in c.segment.search_space.items():
        key = f"segment.search_space.{name}"
        if name not in params:
            raise ConfigError(
                f"{key}: segment={c.segment.name} has no parameter {name!r}"
                f"{did_you_mean(name, params)}; its parameters: {', '.join(params)}",
                key,
            )
        if not isinstance(spec, Choices) and spec.low > spec.high:
            raise ConfigError(f"{key}: low {spec.low} is above high {spec.high}", key)
    if isinstance(c.tuning, Tuning) and not c.segment.search_space:
        raise ConfigError(
            f"segment.search_space is empty for segment={c.segment.name}: tuning=optuna has "
            "nothing to search (add ranges, or use tuning=none)",
            "segment.search_space",
        )


def _selection(c: Config) -> None:
    """A trial the selection can never choose is a wasted trial: the searched number of
    segments starts at `min_segments`, and a stability gate needs trials that measure it."""
    if not isinstance(c.tuning, Tuning):
        return
    sel, k = c.tuning.selection, c.segment.search_space.get("n_clusters")
    if isinstance(k, IntRange) and k.low < sel.min_segments:
        key = "segment.search_space.n_clusters.low"
        raise ConfigError(
            f"{key}={k.low} is below tuning.selection.min_segments={sel.min_segments}: trials "
            f"with fewer segments can never be chosen; set {key}={sel.min_segments} (or lower "
            "tuning.selection.min_segments)",
            key,
        )
    if c.tuning.stability_rounds == 0 and sel.min_stability > 0:
        raise ConfigError(
            f"tuning.selection.min_stability={sel.min_stability} needs the trials' stability, "
            "but tuning.stability_rounds=0 measures none; set tuning.stability_rounds (e.g. 5) "
            "or tuning.selection.min_stability=0",
            "tuning.stability_rounds",
        )


def _metrics(c: Config) -> None:
    m = c.metrics
    if m.silhouette_sample_size > m.silhouette_max_exact:
        raise ConfigError(
            f"metrics.silhouette_sample_size={m.silhouette_sample_size} is above "
            f"metrics.silhouette_max_exact={m.silhouette_max_exact}: the sample meant to bound "
            "the silhouette's cost would cost more than the exact score it replaces; set "
            f"metrics.silhouette_sample_size to at most {m.silhouette_max_exact}",
            "metrics.silhouette_sample_size",
        )


def _rules(c: Config) -> None:
    """Thresholds that no rule can meet whatever the data: a rule's lift is at most
    1 / support of its consequent, and the consequent is itself frequent, so lift can never
    exceed 1 / rules.min_support; and an item both required and excluded as a consequent."""
    rules = c.rules
    if not isinstance(rules, Rules):
        return
    top = 1 / rules.min_support
    if rules.min_lift > top:
        raise ConfigError(
            f"rules.min_lift={rules.min_lift} can never be reached with rules.min_support="
            f"{rules.min_support}: a rule's lift is at most 1/min_support = {top:.4g}, so no "
            f"rule would be kept; set rules.min_lift to at most {top:.4g} (e.g. 1.0) or lower "
            "rules.min_support",
            "rules.min_lift",
        )
    cons = rules.constraints
    both = sorted(set(cons.consequent_include) & set(cons.consequent_exclude))
    if both:
        raise ConfigError(
            f"rules.constraints.consequent_include and consequent_exclude both name {both}: "
            "an item cannot be required and excluded; remove it from one of the two lists",
            "rules.constraints.consequent_include",
        )


def _recommend(c: Config) -> None:
    rec = c.recommend
    if not isinstance(rec, Recommend):
        return
    repeated = sorted({s for s in rec.order if rec.order.count(s) > 1})
    if repeated:
        raise ConfigError(f"recommend.order names {repeated} twice", "recommend.order")
    if not isinstance(c.rules, Rules) and set(rec.order) <= set(RULE_SOURCES):
        raise ConfigError(
            f"recommend.order={list(rec.order)} lists only sources built on association rules, "
            "but rules=none mines none: every list would be empty; add a source that needs no "
            "rules (e.g. recommend.order=[ease,similarity,popular]) or choose rules=eclat",
            "recommend.order",
        )
    if rec.rank_by == "expected_value" and rec.blend != "learned":
        raise ConfigError(
            f"recommend.rank_by=expected_value needs recommend.blend=learned (got "
            f"{rec.blend}): the chance of a purchase at each list position is measured on the "
            "learned blend's validation window; set recommend.blend=learned or "
            "recommend.rank_by=relevance",
            "recommend.rank_by",
        )
    if rec.rank_by == "expected_value" and rec.candidates < rec.k:
        raise ConfigError(
            f"recommend.candidates={rec.candidates} is below recommend.k={rec.k}: the value "
            f"ranking picks k items from the candidates; set recommend.candidates={3 * rec.k}",
            "recommend.candidates",
        )
    ev = rec.evaluate
    if ev.cutoff is not None and ev.split == "per_customer":
        raise ConfigError(
            f"recommend.evaluate.cutoff={ev.cutoff} is used by split=global only; with "
            "recommend.evaluate.split=per_customer each customer's last shopping day is the "
            "test; set recommend.evaluate.cutoff=null or recommend.evaluate.split=global",
            "recommend.evaluate.cutoff",
        )
    twice = sorted({k for k in ev.ks if ev.ks.count(k) > 1})
    if twice:
        raise ConfigError(f"recommend.evaluate.ks names {twice} twice; list each k once, e.g. "
                          "[5,10,20]", "recommend.evaluate.ks")  # fmt: skip
    if rec.blend in ("weights", "learned"):  # learned falls back to them without validation
        missing = [s for s in rec.order if s not in rec.weights]
        if missing:
            raise ConfigError(
                f"recommend.weights has no weight for {missing} (named in recommend.order); "
                f"add e.g. recommend.weights.{missing[0]}=0.5",
                "recommend.weights",
            )
    if rec.blend == "weights" and not any(rec.weights.get(s, 0.0) > 0 for s in rec.order):
        raise ConfigError(
            f"recommend.weights: every source of recommend.order has weight 0 with "
            "recommend.blend=weights, so no item would score; give one a weight above 0, e.g. "
            f"recommend.weights.{rec.order[0]}=1.0",
            "recommend.weights",
        )


def _scheme(uri: str) -> str:
    return uri.split(":", 1)[0].split("+", 1)[0].lower() if ":" in uri else ""


def _stores(c: Config) -> None:
    scheme = _scheme(c.tracking.uri)
    if scheme not in TRACKING_SCHEMES:
        raise ConfigError(
            f"tracking.uri: {scheme or c.tracking.uri!r} is not a store this MLflow opens; use "
            "sqlite:///mlflow.db (the default), http://HOST:PORT for a tracking server, or a "
            f"database URL ({', '.join(TRACKING_SCHEMES)})",
            "tracking.uri",
        )
    if isinstance(c.tuning, Tuning):
        check_storage(c.tuning.storage)


def _spark(c: Config) -> None:
    if c.engine.name != "spark":
        return
    if isinstance(c.tuning, Tuning):
        raise ConfigError(
            "tuning=optuna runs on the local engine only: with engine=spark use tuning=none and "
            "set segment.n_clusters",
            "tuning",
        )
    if not isinstance(c.segment, KMeans | GMM):
        raise ConfigError(
            f"segment: {c.segment.name!r} does not run on engine=spark; use kmeans or gmm (or "
            f"engine=local for {c.segment.name})",
            "segment",
        )
    if isinstance(c.segment, GMM) and c.segment.covariance_type != "full":
        raise ConfigError(
            f"segment.covariance_type: {c.segment.covariance_type!r} does not run on "
            "engine=spark (Spark's GaussianMixture fits full covariances); use "
            "segment.covariance_type=full (or engine=local)",
            "segment.covariance_type",
        )
    if c.features.name not in SPARK_FEATURES:
        raise ConfigError(
            f"features: {c.features.name!r} has no Spark implementation; use one of "
            f"{list(SPARK_FEATURES)} with engine=spark (or engine=local)",
            "features",
        )
    if c.features.scaler not in SPARK_SCALERS:
        raise ConfigError(
            f"features.scaler: {c.features.scaler!r} is not available on engine=spark; use "
            "standard (or engine=local)",
            "features.scaler",
        )


CHECKS: tuple[Callable[[Config], None], ...] = (
    data_rules, clean_rules, _search_space, search_space_values, _selection,
    selection_reachable, _metrics, _rules, rules_item, _recommend, _stores, _spark,
)  # fmt: skip


def check(config: Config) -> None:
    """Raise a ConfigError for the first rule the config breaks."""
    for rule in CHECKS:
        rule(config)
