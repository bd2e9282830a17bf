"""Every figure writes a real, readable PNG; colours stay fixed per segment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import matplotlib
import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from custseg.report import palette, profile_plots, segment_plots, study_plots
from custseg.report.migration_plot import migration_plot
from custseg.report.plotting import subsample
from custseg.report.rules_plot import top_rules_plot
from tests.report.conftest import (
    FEATURES,
    PRODUCTS,
    fake_elbow,
    fake_mix,
    fake_rules,
    fake_summary,
    fake_top_products,
    fake_trials,
)

# matplotlib's tab10 and tab20b, the colours the figures were designed with
TAB10 = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
         "#7f7f7f", "#bcbd22", "#17becf")  # fmt: skip
TAB20B = ("#393b79", "#5254a3", "#6b6ecf", "#9c9ede", "#637939", "#8ca252", "#b5cf6b",
          "#cedb9c", "#8c6d31", "#bd9e39", "#e7ba52", "#e7cb94", "#843c39", "#ad494a",
          "#d6616b", "#e7969c", "#7b4173", "#a55194", "#ce6dbd", "#de9ed6")  # fmt: skip


def assert_png(path: Path) -> None:
    assert path.exists()
    assert path.stat().st_size > 5_000, f"{path} suspiciously small"
    image = mpimg.imread(path)
    assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 200


def test_segment_colors_fixed_per_label() -> None:
    a = palette.segment_colors(["2", "0", "-1", "5"])
    b = palette.segment_colors(np.array([5, 2, 7]))
    assert a["2"] == b["2"] and a["5"] == b["5"]
    assert a["-1"] == palette.UNASSIGNED_COLOR
    assert len({a["0"], a["2"], a["5"], b["7"]}) == 4
    assert list(a) == ["0", "2", "5", "-1"]  # numeric order, unassigned last


def test_palette_is_matplotlibs_tab10_and_tab20b() -> None:
    """Segment colours come from matplotlib's colormaps; they must stay the colours the figures
    were designed with, tab10's grey (index 7) replaced so grey only means unassigned."""

    def hexes(name: str) -> tuple[str, ...]:
        return tuple(to_hex(c) for c in matplotlib.colormaps[name].colors)

    assert hexes("tab10") == TAB10
    assert hexes("tab20b") == TAB20B
    got = palette.segment_colors(range(-1, 30))
    seventh = TAB20B[0]
    expected = [seventh if i == 7 else c for i, c in enumerate(TAB10)]
    expected += [TAB20B[i % 20] for i in range(20)]
    assert [got[str(i)] for i in range(30)] == expected
    assert got["7"] == seventh and got["3"] == TAB10[3] and got["11"] == TAB20B[1]
    assert got["-1"] == palette.UNASSIGNED_COLOR
    assert TAB10[7] not in got.values()
    assert palette.segment_colors(["x"])["x"] == palette.OTHER_COLOR


@pytest.mark.parametrize("max_points", [1000, 10_000])
def test_segment_scatter_pca(
    tmp_path: Path, blobs: tuple, titles: list[str], max_points: int
) -> None:
    X, y = blobs
    out = segment_plots.segment_scatter(X, y, FEATURES, tmp_path / "s.png", "Segments",
                                        max_points)  # fmt: skip
    assert_png(out)
    note = "(1,000 of 4,000 customers shown)"
    assert (note in titles[-1]) == (max_points < len(y))


def test_segment_scatter_two_features(tmp_path: Path, blobs: tuple) -> None:
    X, y = blobs
    out = segment_plots.segment_scatter(X[:, :2], y, FEATURES[:2], tmp_path / "s2.png", "Two")
    assert_png(out)


def test_pca_biplot(tmp_path: Path, blobs: tuple, titles: list[str]) -> None:
    X, y = blobs
    assert_png(segment_plots.pca_biplot(X, y, FEATURES, tmp_path / "b.png", "Biplot",
                                        max_points=2000))  # fmt: skip
    assert "(2,000 of 4,000 customers shown)" in titles[-1]


def test_feature_boxplots(tmp_path: Path, blobs: tuple) -> None:
    X, y = blobs
    assert_png(segment_plots.feature_boxplots(X, y, FEATURES, tmp_path / "box.png", "Features"))


@pytest.mark.parametrize("with_names", [True, False])
def test_top_items_plot(tmp_path: Path, segment_labels: list[str], with_names: bool) -> None:
    top = fake_top_products(segment_labels[:-1], with_names=with_names)
    assert_png(profile_plots.top_items_plot(top, tmp_path / "t.png", "Top products"))


def test_size_revenue_plot(tmp_path: Path, segment_labels: list[str]) -> None:
    summary = fake_summary(segment_labels)
    assert_png(profile_plots.size_revenue_plot(summary, tmp_path / "sz.png", "Size vs revenue"))


def test_mix_heatmap_keeps_top_15(
    tmp_path: Path, segment_labels: list[str], titles: list[str]
) -> None:
    mix = fake_mix(segment_labels, 40, "category")
    assert_png(profile_plots.mix_heatmap(mix, tmp_path / "m.png", "Category mix", "category"))
    assert "top 15 of 40 by overall share" in titles[-1]


def test_silhouette_plot_subsampled(tmp_path: Path, blobs: tuple, titles: list[str]) -> None:
    X, y = blobs
    assert_png(segment_plots.silhouette_plot(X, y, tmp_path / "sil.png", "Silhouette",
                                             max_points=1500))  # fmt: skip
    n_assigned = int((y >= 0).sum())
    assert f"of {n_assigned:,} customers shown" in titles[-1]
    assert "unassigned" in titles[-1]


def test_stratified_sample_keeps_every_segment() -> None:
    labels = np.array(["0"] * 9900 + ["1"] * 100)
    idx = subsample(labels, 1000, seed=0, stratified=True)
    assert 990 <= len(idx) <= 1010
    assert (labels[idx] == "1").sum() == 10
    again = subsample(labels, 1000, seed=0, stratified=True)
    assert np.array_equal(idx, again)


@pytest.mark.parametrize(
    "draw",
    [
        lambda X, y, p: segment_plots.segment_scatter(X, y, FEATURES, p, "t"),
        lambda X, y, p: segment_plots.silhouette_plot(X, y, p, "t"),
    ],
)
def test_single_segment_does_not_crash(tmp_path: Path, blobs: tuple, draw: Callable) -> None:
    X, _ = blobs
    out = draw(X[:300], np.zeros(300, dtype=int), tmp_path / "one.png")
    assert out.exists()


def test_pareto_plot_marks_the_chosen_trial(tmp_path: Path, titles: list[str]) -> None:
    assert_png(study_plots.pareto_plot(fake_trials(), tmp_path / "p.png", "Trials"))
    assert titles[-1] == "Trials"


@pytest.mark.parametrize("size_metric", ["inertia", "bic"])
def test_elbow_plot(tmp_path: Path, titles: list[str], size_metric: str) -> None:
    elbow = fake_elbow().rename(columns={"inertia": size_metric})
    assert_png(study_plots.elbow_plot(elbow, tmp_path / "e.png", "Elbow", chosen_k=5))
    assert "Elbow (chosen k = 5, dashed)" in titles[-1]


def test_compare_plot(tmp_path: Path) -> None:
    table = pd.DataFrame({"algorithm": ["kmeans"] * 3 + ["gmm"] * 2,
                          "eligible": [True, False, True, True, False], "rank": range(1, 6),
                          "silhouette": [0.5, 0.4, 0.3, 0.45, 0.2],
                          "davies_bouldin": [0.8, 1.0, 1.2, 0.9, 1.4]})  # fmt: skip
    assert_png(study_plots.compare_plot(table, tmp_path / "c.png", "Runs"))


def test_top_rules_plot_one_panel_per_scope(
    tmp_path: Path, segment_labels: list[str], titles: list[str]
) -> None:
    rules = fake_rules(segment_labels[:3])
    assert_png(top_rules_plot(rules, tmp_path / "r.png", "Rules", names=PRODUCTS))
    assert titles[-1].split("\n") == ["Rules", "all customers", "segment 0", "segment 1",
                                      "segment 2"]  # fmt: skip


def test_migration_plot(tmp_path: Path, titles: list[str]) -> None:
    """Any object with DriftResult's fields will do (the report does not import monitoring)."""
    order = [0, 1, 2, -1]
    counts = pd.DataFrame(np.random.default_rng(0).integers(0, 200, (4, 4)), index=order,
                          columns=order)  # fmt: skip
    sizes = pd.DataFrame({"share_a": [0.4, 0.3, 0.25, 0.05], "share_b": [0.35, 0.35, 0.25, 0.05]},
                         index=order)  # fmt: skip
    drift = SimpleNamespace(split=pd.Timestamp("2011-06-01"), migration=counts, sizes=sizes,
                            ari_refit=0.7, moved_share=0.2, customers_a=900, customers_b=800,
                            customers_both=int(counts.to_numpy().sum()))  # fmt: skip
    assert_png(migration_plot(drift, tmp_path / "m.png", "demo / basket"))
    assert titles[-1].startswith("demo / basket\nWhere each segment's customers went")
    assert "ARI 0.70" in titles[-1]
