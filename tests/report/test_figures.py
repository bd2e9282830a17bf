"""draw_figures: every figure of a run by direct calls, in report order, each with a caption."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

from custseg.report.figures import (
    CAPTIONS,
    FIGURES,
    MARKETING,
    METHOD,
    PARTS,
    SAMPLE_FACTOR,
    VALUE_CHECK,
    FigureInput,
    draw_figures,
)

# the figures of the segments and their customers (titled "<what>: ...")
SEGMENT_FIGURES = ["scatter", "biplot", "boxplots", "sizes", "silhouette", "region_mix",
                   "category_mix", "top_items"]  # fmt: skip
# report order: what a marketer reads, then the method's figures, then the value check's
MARKETING_FIGURES = ["sizes", "scatter", "boxplots", "region_mix", "category_mix", "top_items",
                     "top_rules", "clv", "p_alive"]  # fmt: skip
METHOD_FIGURES = ["biplot", "silhouette", "elbow", "pareto_front"]
EVERY_RUN = ["sizes", "scatter", "boxplots", "biplot", "silhouette"]  # in report order
# the file names every run has written (the pipeline test and MLflow users rely on them)
FILES = {"scatter": "segments_scatter.png", "biplot": "pca_biplot.png",
         "boxplots": "feature_boxplots.png", "sizes": "segment_sizes.png",
         "silhouette": "silhouette.png", "region_mix": "region_mix.png",
         "category_mix": "category_mix.png", "top_items": "top_items.png",
         "elbow": "elbow.png", "pareto_front": "pareto_front.png",
         "top_rules": "top_rules.png", "clv": "clv_by_segment.png",
         "p_alive": "p_alive_matrix.png", "value_calibration": "value_calibration.png"}  # fmt: skip


def test_every_figure_is_drawn_in_report_order(drawn: dict[str, Path]) -> None:
    """With every optional part present, every figure of FIGURES is drawn, in report order:
    the figures a marketer reads first, then the method's, then the value check's."""
    assert list(drawn) == [spec.name for spec in FIGURES]
    assert list(drawn) == [*MARKETING_FIGURES, *METHOD_FIGURES, "value_calibration"]
    assert [PARTS[name] for name in drawn] == (
        [MARKETING] * len(MARKETING_FIGURES) + [METHOD] * len(METHOD_FIGURES) + [VALUE_CHECK]
    )
    assert {name: path.name for name, path in drawn.items()} == FILES
    for path in drawn.values():
        assert path.stat().st_size > 5_000
        assert mpimg.imread(path).shape[0] > 200


def test_every_figure_has_a_caption(drawn: dict[str, Path]) -> None:
    """The report's captions and the figures come from one list: no figure without one."""
    assert len({spec.name for spec in FIGURES}) == len(FIGURES)
    assert len({spec.file for spec in FIGURES}) == len(FIGURES)
    for spec in FIGURES:
        assert spec.caption.strip() and CAPTIONS[spec.name] == spec.caption
    assert set(drawn) <= set(CAPTIONS)
    assert CAPTIONS["pareto_front"] == "Tuning trials"  # the caption the old key "pareto" lost


def bare(inp: FigureInput, **changes: object) -> FigureInput:
    """`inp` without any optional part: only the five figures every run has."""
    return replace(inp, region_mix=None, category_mix=None, top_products=None,
                   tuning_table=None, elbow=None, rules=None, value=None,
                   value_calibration=None, **changes)  # fmt: skip


@pytest.mark.slow
def test_optional_figures_left_out(tmp_path: Path, figure_input: FigureInput) -> None:
    X, y = figure_input.X[:600], figure_input.labels[:600]
    bare_input = bare(figure_input, X=X, labels=y)
    assert list(draw_figures(bare_input, tmp_path)) == EVERY_RUN
    no_rules = replace(bare_input, rules=figure_input.rules.iloc[0:0])
    assert "top_rules" not in draw_figures(no_rules, tmp_path / "again")


def test_titles_start_with_what(
    drawn_titled: tuple[dict[str, Path], list[str]], figure_input: FigureInput
) -> None:
    drawn, titles = drawn_titled
    assert len(titles) == len(drawn)  # one saved figure per name, in the same order
    seen = {name: title.split("\n")[0] for name, title in zip(drawn, titles, strict=True)}
    for name in SEGMENT_FIGURES:
        assert seen[name].startswith(f"{figure_input.what}: "), (name, seen[name])
    shown = "(1,500 of 4,000 customers shown)"
    assert seen["scatter"] == f"{figure_input.what}: customers by segment {shown}"
    assert seen["pareto_front"] == figure_input.tuning_title
    assert seen["elbow"] == f"{figure_input.tuning_title} (chosen k = 8, dashed)"
    assert seen["top_rules"] == (
        f"{figure_input.what}: strongest rules per segment vs all customers"
    )


@pytest.mark.slow
def test_many_customers_are_sampled_first(
    tmp_path: Path, figure_input: FigureInput, titles: list[str]
) -> None:
    """Above SAMPLE_FACTOR * max_points customers the customer figures see a seeded sample of
    that size: the same figures for the same seed, drawing time flat in the customer count."""
    rng = np.random.default_rng(1)
    n = SAMPLE_FACTOR * 100 + 500
    X = rng.normal(size=(n, 3)) + np.repeat(np.eye(3) * 4, -(-n // 3), axis=0)[:n]
    labels = np.repeat([0, 1, 2], -(-n // 3))[:n]
    inp = bare(figure_input, X=X, labels=labels, feature_names=["a", "b", "c"], max_points=100)
    a = draw_figures(inp, tmp_path / "a")
    # the sample is what the figures see (so their counts are of the sample, as before)
    scatter = next(t for t in titles if "customers by segment" in t)
    assert f"(100 of {SAMPLE_FACTOR * 100:,} customers shown)" in scatter
    b = draw_figures(inp, tmp_path / "b")
    for name in ("scatter", "biplot", "boxplots", "silhouette"):
        assert a[name].read_bytes() == b[name].read_bytes(), name
