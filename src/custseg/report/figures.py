"""Every figure of a run, drawn by direct calls to the plot functions, in report order.

`FIGURES` is the one list of the figures a run can have: for each, the name the report knows
it by, its PNG file name, its caption, the part of the report it belongs to and the call that
draws it. The report takes its captions and parts from the same list (`CAPTIONS`, `PARTS`), so a
figure can never appear without one (the old string-keyed tables let "pareto_front" miss its
caption "pareto"). Every figure that names a segment names it by persona when one is known
(`FigureInput.persona_names`, `plotting.segment_name`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from custseg.report.profile_plots import mix_heatmap, size_revenue_plot, top_items_plot
from custseg.report.rules_plot import top_rules_plot
from custseg.report.segment_plots import (
    feature_boxplots,
    pca_biplot,
    segment_scatter,
    silhouette_plot,
)
from custseg.report.study_plots import elbow_plot, pareto_plot
from custseg.report.value_plots import clv_by_segment, holdout_calibration, p_alive_matrix

log = logging.getLogger(__name__)

# The customer figures see at most this many times `max_points` customers (a seeded sample, as
# every run has drawn them): the scatter and silhouette draw at most `max_points` anyway, PCA
# axes, centroids and quartiles of a sample that size match those of all customers to the eye,
# and drawing time stays flat in the number of customers. Above it, the counts in the legends
# and "N of M customers shown" notes are of the sample.
SAMPLE_FACTOR = 20


@dataclass(frozen=True, kw_only=True, eq=False)  # eq: arrays and frames do not compare
class FigureInput:
    """What a run's figures are drawn from. The optional parts are None when the run has no
    such data (no regions, no categories, no tuning study, no rules); their figures are then
    left out. Keyword-only: sixteen fields are too many to pass by position safely."""

    what: str  # title prefix, e.g. "demo / rfm / kmeans-k5"
    X: np.ndarray  # scaled features, customers x features (the matrix the model was fitted on)
    labels: np.ndarray  # segment per customer (row of X); negative = unassigned
    feature_names: list[str]  # columns of X
    summary: pd.DataFrame  # Profiles.summary: one row per segment label + "all"
    region_mix: pd.DataFrame | None = None  # Profiles.region_mix
    category_mix: pd.DataFrame | None = None  # Profiles.category_mix
    top_products: pd.DataFrame | None = None  # Profiles.top_products
    max_points: int = 5000  # scatter and silhouette draw at most this many customers
    seed: int = 0  # for every subsample, so a rerun draws the same points
    tuning_table: pd.DataFrame | None = None  # TuningResult.table(): the Pareto figure
    elbow: pd.DataFrame | None = None  # quality per k (tuning.elbow): the elbow figure
    chosen_k: int | None = None  # marked on the elbow figure
    tuning_title: str = ""  # title of the tuning figures; default "<what>: <n> trials"
    rules: pd.DataFrame | None = None  # mined rules (segment, antecedent, consequent, lift...)
    product_names: dict[str, str] | None = None  # item -> name on the rules figure
    value: pd.DataFrame | None = None  # the value stage's table, with each customer's segment
    value_calibration: pd.DataFrame | None = None  # Holdout.calibration: actual vs predicted
    persona_names: dict[str, str] | None = None  # segment label -> persona name (all figures)
    currency: str = ""


def _tuning_title(inp: FigureInput) -> str:
    if inp.tuning_title:
        return inp.tuning_title
    trials = len(inp.tuning_table) if inp.tuning_table is not None else 0
    return f"{inp.what}: {trials} trials" if trials else f"{inp.what}: tuning"


def _scatter(inp: FigureInput, path: Path) -> Path:
    title = f"{inp.what}: customers by segment"
    return segment_scatter(inp.X, inp.labels, inp.feature_names, path, title, inp.max_points,
                           inp.seed, personas=inp.persona_names)  # fmt: skip


def _biplot(inp: FigureInput, path: Path) -> Path:
    # the plot's own max_points and seed, as in every run so far (conf/report: max_points is
    # documented for the scatter and silhouette only)
    return pca_biplot(inp.X, inp.labels, inp.feature_names, path,
                      f"{inp.what}: what separates the segments",
                      personas=inp.persona_names)  # fmt: skip


def _boxplots(inp: FigureInput, path: Path) -> Path:
    return feature_boxplots(inp.X, inp.labels, inp.feature_names, path,
                            f"{inp.what}: standardized features per segment",
                            personas=inp.persona_names)  # fmt: skip


def _sizes(inp: FigureInput, path: Path) -> Path:
    return size_revenue_plot(inp.summary, path, f"{inp.what}: customers and revenue per segment",
                             personas=inp.persona_names)  # fmt: skip


def _silhouette(inp: FigureInput, path: Path) -> Path:
    return silhouette_plot(inp.X, inp.labels, path, f"{inp.what}: silhouette per customer",
                           inp.max_points, inp.seed, personas=inp.persona_names)  # fmt: skip


def _region_mix(inp: FigureInput, path: Path) -> Path | None:
    if inp.region_mix is None:
        return None
    return mix_heatmap(inp.region_mix, path, f"{inp.what}: region mix", "region",
                       personas=inp.persona_names)  # fmt: skip


def _category_mix(inp: FigureInput, path: Path) -> Path | None:
    if inp.category_mix is None:
        return None
    return mix_heatmap(inp.category_mix, path, f"{inp.what}: category mix", "category",
                       personas=inp.persona_names)  # fmt: skip


def _top_items(inp: FigureInput, path: Path) -> Path | None:
    if inp.top_products is None:
        return None
    title = f"{inp.what}: top products per segment vs overall"
    return top_items_plot(inp.top_products, path, title, personas=inp.persona_names)


def _elbow(inp: FigureInput, path: Path) -> Path | None:
    if inp.elbow is None:
        return None
    return elbow_plot(inp.elbow, path, _tuning_title(inp), inp.chosen_k)


def _pareto(inp: FigureInput, path: Path) -> Path | None:
    if inp.tuning_table is None:
        return None
    return pareto_plot(inp.tuning_table, path, _tuning_title(inp))


def _top_rules(inp: FigureInput, path: Path) -> Path | None:
    if inp.rules is None or not len(inp.rules):
        return None
    title = f"{inp.what}: strongest rules per segment vs all customers"
    return top_rules_plot(inp.rules, path, title, names=inp.product_names,
                          personas=inp.persona_names)  # fmt: skip


def _p_alive(inp: FigureInput, path: Path) -> Path | None:
    if inp.value is None:
        return None
    return p_alive_matrix(inp.value, path, f"{inp.what}: who is still active")


def _clv(inp: FigureInput, path: Path) -> Path | None:
    if inp.value is None or "clv" not in inp.value.columns:
        return None
    return clv_by_segment(inp.value, inp.value["segment"], inp.persona_names or {}, path,
                          f"{inp.what}: customer lifetime value per segment",
                          inp.currency)  # fmt: skip


def _calibration(inp: FigureInput, path: Path) -> Path | None:
    if inp.value_calibration is None:
        return None
    return holdout_calibration(inp.value_calibration, path,
                               f"{inp.what}: predicted vs actual purchases on held-out days")


# The parts of the report a figure can belong to (blocks.build_blocks places them):
MARKETING = "marketing"  # what the segments are and are worth: read by the marketing team
METHOD = "method"  # how the segments were found and how good they are
VALUE_CHECK = "value_check"  # shown with the value models' check on held-out days


@dataclass(frozen=True)
class FigureSpec:
    """One figure a run can have."""

    name: str  # key in draw_figures' result and in ReportInput.figures
    file: str  # PNG file name in the output folder
    caption: str  # shown with the figure in the report
    part: str  # MARKETING, METHOD or VALUE_CHECK: where the report shows it
    draw: Callable[[FigureInput, Path], Path | None]  # None: the run has no data for it


# Report order: what a marketer reads first (sizes, the map, profiles, what they buy, value),
# then how the segments were chosen, then the value models' check.
FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("sizes", "segment_sizes.png", "Customer share vs revenue share", MARKETING,
               _sizes),
    FigureSpec("scatter", "segments_scatter.png", "Segments in feature space", MARKETING,
               _scatter),
    FigureSpec("boxplots", "feature_boxplots.png", "Feature distributions per segment",
               MARKETING, _boxplots),
    FigureSpec("region_mix", "region_mix.png", "Region mix per segment", MARKETING, _region_mix),
    FigureSpec("category_mix", "category_mix.png", "Category mix per segment", MARKETING,
               _category_mix),
    FigureSpec("top_items", "top_items.png", "Top products per segment", MARKETING, _top_items),
    FigureSpec("top_rules", "top_rules.png", "Strongest cross-sell rules", MARKETING, _top_rules),
    FigureSpec("clv", "clv_by_segment.png", "Customer lifetime value per segment", MARKETING,
               _clv),
    FigureSpec("p_alive", "p_alive_matrix.png", "P(alive) by frequency and recency", MARKETING,
               _p_alive),
    FigureSpec("biplot", "pca_biplot.png", "PCA biplot: which features separate the segments",
               METHOD, _biplot),
    FigureSpec("silhouette", "silhouette.png", "Silhouette per customer", METHOD, _silhouette),
    FigureSpec("elbow", "elbow.png", "Choosing the number of segments", METHOD, _elbow),
    FigureSpec("pareto_front", "pareto_front.png", "Tuning trials", METHOD, _pareto),
    FigureSpec("value_calibration", "value_calibration.png",
               "Value model: predicted vs actual purchases on held-out days", VALUE_CHECK,
               _calibration),
)  # fmt: skip
CAPTIONS: dict[str, str] = {spec.name: spec.caption for spec in FIGURES}
PARTS: dict[str, str] = {spec.name: spec.part for spec in FIGURES}


def _sampled(inp: FigureInput) -> FigureInput:
    """`inp` with X and labels cut to a seeded sample of SAMPLE_FACTOR * max_points customers
    (sorted rows; the same sample every run used before)."""
    X = np.asarray(inp.X)
    limit = SAMPLE_FACTOR * int(inp.max_points)
    if len(X) <= limit:
        return inp
    pick = np.sort(np.random.default_rng(inp.seed).permutation(len(X))[:limit])
    return replace(inp, X=X[pick], labels=np.asarray(inp.labels)[pick])


def draw_figures(inp: FigureInput, out: Path) -> dict[str, Path]:
    """Draw every figure the run has data for into `out`; name -> PNG path in report order
    (FIGURES: the marketing figures, then the method's, then the value check's). A failing
    figure raises."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sampled = _sampled(inp)
    drawn: dict[str, Path] = {}
    for spec in FIGURES:
        start = time.perf_counter()
        path = spec.draw(sampled, out / spec.file)
        if path is not None:
            drawn[spec.name] = path
            log.debug("figure %s: %.2f s", spec.name, time.perf_counter() - start)
    return drawn
