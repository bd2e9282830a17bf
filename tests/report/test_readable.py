"""Figures a marketer can read: segments named by persona in legends, ticks and titles, and no
text under plotting.MIN_FONT (9 pt) at the saved size, whatever matplotlib's defaults say."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from custseg.report import plotting, profile_plots, segment_plots, study_plots
from custseg.report.figures import FigureInput
from custseg.report.migration_plot import migration_plot
from custseg.report.plotting import DPI, MIN_FONT, segment_name
from custseg.report.rules_plot import top_rules_plot
from tests.report.conftest import FEATURES, draw_keeping_figures, fake_rules, fake_summary

# figures that show each of the eight segments, and those that show the unassigned too
NAMING = ["sizes", "scatter", "boxplots", "region_mix", "category_mix", "top_items",
          "top_rules", "clv", "biplot", "silhouette"]  # fmt: skip
WITH_UNASSIGNED = ["sizes", "scatter", "boxplots", "region_mix", "category_mix", "clv", "biplot"]
# what matplotlib would draw from a matplotlibrc that shrinks every text
TINY = {"font.size": 5.0, "axes.titlesize": 5.0, "axes.labelsize": 5.0, "xtick.labelsize": 4.0,
        "ytick.labelsize": 4.0, "legend.fontsize": 4.0, "legend.title_fontsize": 4.0,
        "figure.titlesize": 5.0}  # fmt: skip
SEGMENT_N = re.compile(r"(?i)\bsegment \d")


def texts(fig: Figure) -> list[Text]:
    """Every text the figure would draw: visible and not empty (titles, labels, ticks, legend
    entries and titles, annotations, colorbar labels)."""
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def too_small(fig: Figure) -> list[tuple[str, float]]:
    return [(t.get_text(), t.get_fontsize()) for t in texts(fig) if t.get_fontsize() < MIN_FONT]


def test_min_font_is_nine_points_at_the_saved_size() -> None:
    assert MIN_FONT == 9
    # points are 1/72 inch at any resolution: a figure saved at DPI is printed at its own size
    assert DPI >= 100


def test_no_text_under_nine_points_in_any_figure(
    drawn_figures: tuple[dict[str, Path], list[Figure]],
) -> None:
    """The real figures draw_figures saved (all fourteen): every visible text at least 9 pt."""
    drawn, figures = drawn_figures
    assert len(figures) == len(drawn) == 14
    for name, fig in zip(drawn, figures, strict=True):
        assert len(texts(fig)) >= 8, name  # ticks, labels and titles were found
        assert too_small(fig) == [], name


@pytest.mark.slow
def test_fonts_stay_readable_under_a_matplotlibrc_with_small_sizes(
    tmp_path: Path, figure_input: FigureInput
) -> None:
    """A matplotlibrc (or a caller) with 4-5 pt defaults does not shrink the figures' text."""
    small = replace(figure_input, X=figure_input.X[:800], labels=figure_input.labels[:800],
                    value=figure_input.value.iloc[:800])  # fmt: skip
    with matplotlib.rc_context(TINY):
        drawn, figures = draw_keeping_figures(small, tmp_path)
        assert matplotlib.rcParams["font.size"] == 5.0  # restored after each figure
    assert len(figures) == len(drawn) == 14
    for name, fig in zip(drawn, figures, strict=True):
        assert too_small(fig) == [], name


def _drift() -> SimpleNamespace:
    """A stand-in with DriftResult's fields (the report does not import monitoring)."""
    order = [0, 1, 2, -1]
    counts = pd.DataFrame(np.random.default_rng(0).integers(0, 2000, (4, 4)), index=order,
                          columns=order)  # fmt: skip
    sizes = pd.DataFrame({"share_a": [0.4, 0.3, 0.25, 0.05], "share_b": [0.35, 0.35, 0.25, 0.05]},
                         index=order)  # fmt: skip
    return SimpleNamespace(split=pd.Timestamp("2011-06-01"), migration=counts, sizes=sizes,
                           ari_refit=0.7, moved_share=0.2, customers_a=9000, customers_b=8000,
                           customers_both=int(counts.to_numpy().sum()))  # fmt: skip


def test_drift_and_compare_figures_are_readable_and_name_personas(
    tmp_path: Path, saved: list[Figure]
) -> None:
    """The figures drawn outside draw_figures (custseg drift, custseg compare), under small
    defaults too; the drift figure names model A's personas when given them."""
    personas = {"0": "Bulk buyers", "1": "Lapsed one-off buyers", "2": "Premium buyers"}
    runs = pd.DataFrame({"algorithm": ["kmeans"] * 3 + ["gmm"] * 2,
                         "eligible": [True, False, True, True, False], "rank": range(1, 6),
                         "silhouette": [0.5, 0.4, 0.3, 0.45, 0.2],
                         "davies_bouldin": [0.8, 1.0, 1.2, 0.9, 1.4]})  # fmt: skip
    with matplotlib.rc_context(TINY):
        migration_plot(_drift(), tmp_path / "m.png", "demo / basket", personas=personas)
        migration_plot(_drift(), tmp_path / "plain.png", "demo / basket")
        study_plots.compare_plot(runs, tmp_path / "c.png", "Runs")
    named, plain, compare = saved
    for fig in saved:
        assert too_small(fig) == []
    shown = [t.get_text() for t in texts(named)]
    for label, name in personas.items():
        assert f"{label} · {name}" in shown  # the sizes panel's ticks
        assert any(t.startswith(f"{label} · {name} (n=") for t in shown)  # the rows
    assert not [t for t in shown if SEGMENT_N.search(t)]
    assert "unassigned" in shown
    assert {"segment 0", "segment 1", "segment 2"} <= {t.get_text() for t in texts(plain)}


@pytest.fixture
def saved(monkeypatch: pytest.MonkeyPatch) -> list[Figure]:
    """The Figure objects saved during a test, in order (each still written to its PNG)."""
    seen: list[Figure] = []
    real = Figure.savefig

    def keep(fig: Figure, *args: object, **kwargs: object) -> None:
        seen.append(fig)
        real(fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keep)
    return seen


def test_figures_name_segments_by_persona(
    drawn_figures: tuple[dict[str, Path], list[Figure]], figure_input: FigureInput
) -> None:
    """Wherever a figure names a segment it leads with the persona and keeps the number
    ("3 · Persona 3"), so its colours and labels still match the report's tables; "segment N"
    is gone from every figure."""
    drawn, figures = drawn_figures
    by_name = dict(zip(drawn, figures, strict=True))
    personas = figure_input.persona_names
    assert personas is not None
    for name, fig in by_name.items():
        shown = [t.get_text() for t in texts(fig)]
        assert not [t for t in shown if SEGMENT_N.search(t)], name
        if name not in NAMING:
            continue
        for label in map(str, range(8)):
            want = f"{label} · {personas[label]}"
            assert any(t == want or t.startswith(want + " (n=") for t in shown), (name, want)
        if name in WITH_UNASSIGNED:
            assert any(t.startswith("unassigned") for t in shown), name


def test_segment_name() -> None:
    personas = {"3": "Bulk buyers", "4": " ", "-1": "Unassigned (outliers)"}
    assert segment_name("3", personas) == "3 · Bulk buyers"
    assert segment_name(3, personas) == "3 · Bulk buyers"
    assert segment_name("3") == "segment 3"  # personas off
    assert segment_name("5", personas) == "segment 5"  # no persona for this one
    assert segment_name("4", personas) == "segment 4"  # a blank name is no name
    assert segment_name("-1", personas) == segment_name("-1") == "unassigned"
    assert segment_name("-1") == plotting.UNASSIGNED_NAME


def test_figures_without_personas_keep_segment_numbers(
    tmp_path: Path, blobs: tuple[np.ndarray, np.ndarray], segment_labels: list[str],
    saved: list[Figure],
) -> None:  # fmt: skip
    """Personas off (no names): the figures say "segment N", as before."""
    X, y = blobs
    segment_plots.segment_scatter(X[:600], y[:600], FEATURES, tmp_path / "s.png", "t")
    profile_plots.size_revenue_plot(fake_summary(segment_labels), tmp_path / "z.png", "t")
    top_rules_plot(fake_rules(segment_labels[:2]), tmp_path / "r.png", "t")
    scatter, sizes, rules = ([t.get_text() for t in texts(fig)] for fig in saved)
    assert any(t.startswith("segment 0 (n=") for t in scatter)
    assert {"segment 0", "segment 7", "unassigned"} <= set(sizes)
    assert {"all customers", "segment 0", "segment 1"} <= set(rules)
