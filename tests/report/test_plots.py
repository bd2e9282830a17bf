"""Every segment figure writes a real, readable PNG; colours stay fixed per segment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pytest

from custseg.report import colors, plots
from tests.report.conftest import (
    FEATURES,
    fake_mix,
    fake_summary,
    fake_top_products,
)


@pytest.fixture
def titles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every title (suptitle and axes titles) of each figure as it is saved."""
    seen: list[str] = []
    real = plots._save

    def spy(fig: plt.Figure, path: Path) -> Path:
        parts = [fig._suptitle.get_text()] if fig._suptitle is not None else []
        seen.append("\n".join(parts + [ax.get_title() for ax in fig.axes]))
        return real(fig, path)

    monkeypatch.setattr(plots, "_save", spy)
    return seen


def assert_png(path: Path) -> None:
    assert path.exists()
    assert path.stat().st_size > 5_000, f"{path} suspiciously small"
    image = mpimg.imread(path)
    assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 200


def test_segment_colors_fixed_per_label() -> None:
    a = colors.segment_colors(["2", "0", "-1", "5"])
    b = colors.segment_colors(np.array([5, 2, 7]))
    assert a["2"] == b["2"] and a["5"] == b["5"]
    assert a["-1"] == colors.UNASSIGNED_COLOR
    assert len({a["0"], a["2"], a["5"], b["7"]}) == 4
    assert list(a) == ["0", "2", "5", "-1"]  # numeric order, unassigned last


def test_palette_is_matplotlibs_tab10_and_tab20b() -> None:
    """The report's palette is written out (no matplotlib in the main process): it must stay
    the colormaps the figures were designed with."""
    import matplotlib

    def hexes(name: str) -> tuple[str, ...]:
        return tuple(matplotlib.colors.to_hex(c) for c in matplotlib.colormaps[name].colors)

    assert hexes("tab10") == colors.TAB10
    assert hexes("tab20b") == colors.TAB20B
    got = colors.segment_colors(range(12))
    assert got["7"] == colors.SEVENTH and got["3"] == hexes("tab10")[3]
    assert got["11"] == hexes("tab20b")[1]


@pytest.mark.parametrize("max_points", [1000, 10_000])
def test_segment_scatter_pca(
    tmp_path: Path, blobs: tuple, titles: list[str], max_points: int
) -> None:
    X, y = blobs
    out = plots.segment_scatter(X, y, FEATURES, tmp_path / "s.png", "Segments", max_points)
    assert_png(out)
    note = "(1,000 of 4,000 customers shown)"
    assert (note in titles[-1]) == (max_points < len(y))


def test_segment_scatter_two_features(tmp_path: Path, blobs: tuple) -> None:
    X, y = blobs
    assert_png(plots.segment_scatter(X[:, :2], y, FEATURES[:2], tmp_path / "s2.png", "Two"))


def test_pca_biplot(tmp_path: Path, blobs: tuple, titles: list[str]) -> None:
    X, y = blobs
    assert_png(plots.pca_biplot(X, y, FEATURES, tmp_path / "b.png", "Biplot", max_points=2000))
    assert "(2,000 of 4,000 customers shown)" in titles[-1]


def test_feature_boxplots(tmp_path: Path, blobs: tuple) -> None:
    X, y = blobs
    assert_png(plots.feature_boxplots(X, y, FEATURES, tmp_path / "box.png", "Features"))


@pytest.mark.parametrize("with_names", [True, False])
def test_top_items_plot(tmp_path: Path, segment_labels: list[str], with_names: bool) -> None:
    top = fake_top_products(segment_labels[:-1], with_names=with_names)
    assert_png(plots.top_items_plot(top, tmp_path / "t.png", "Top products"))


def test_size_revenue_plot(tmp_path: Path, segment_labels: list[str]) -> None:
    summary = fake_summary(segment_labels)
    assert_png(plots.size_revenue_plot(summary, tmp_path / "sz.png", "Size vs revenue"))


def test_mix_heatmap_keeps_top_15(
    tmp_path: Path, segment_labels: list[str], titles: list[str]
) -> None:
    mix = fake_mix(segment_labels, 40, "category")
    assert_png(plots.mix_heatmap(mix, tmp_path / "m.png", "Category mix", "category"))
    assert "top 15 of 40 by overall share" in titles[-1]


def test_silhouette_plot_subsampled(tmp_path: Path, blobs: tuple, titles: list[str]) -> None:
    X, y = blobs
    assert_png(plots.silhouette_plot(X, y, tmp_path / "sil.png", "Silhouette", max_points=1500))
    n_assigned = int((y >= 0).sum())
    assert f"of {n_assigned:,} customers shown" in titles[-1]
    assert "unassigned" in titles[-1]


def test_stratified_sample_keeps_every_segment() -> None:
    labels = np.array(["0"] * 9900 + ["1"] * 100)
    idx = plots._subsample(labels, 1000, seed=0, stratified=True)
    assert 990 <= len(idx) <= 1010
    assert (labels[idx] == "1").sum() == 10
    again = plots._subsample(labels, 1000, seed=0, stratified=True)
    assert np.array_equal(idx, again)


@pytest.mark.parametrize(
    "draw",
    [
        lambda X, y, p: plots.segment_scatter(X, y, FEATURES, p, "t"),
        lambda X, y, p: plots.silhouette_plot(X, y, p, "t"),
    ],
)
def test_single_segment_does_not_crash(tmp_path: Path, blobs: tuple, draw: Callable) -> None:
    X, _ = blobs
    out = draw(X[:300], np.zeros(300, dtype=int), tmp_path / "one.png")
    assert out.exists()
