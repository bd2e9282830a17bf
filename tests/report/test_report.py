"""write_report: both files, a self-contained HTML, one section per segment, how to rerun."""

from __future__ import annotations

import base64
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custseg.report.figures import CAPTIONS
from custseg.report.render import md_table, md_text
from custseg.report.report import ReportInput, write_report


@pytest.fixture(scope="module")
def written(
    tmp_path_factory: pytest.TempPathFactory, report_input: ReportInput
) -> tuple[Path, Path]:
    return write_report(report_input, tmp_path_factory.mktemp("report"))


def test_writes_both_files_and_copies_figures(
    written: tuple[Path, Path], report_input: ReportInput
) -> None:
    md, page = written
    assert md.name == "report.md" and page.name == "report.html"
    assert md.parent == page.parent
    for fig in report_input.figures.values():
        assert (md.parent / "figures" / fig.name).is_file()


def test_html_is_self_contained(written: tuple[Path, Path], report_input: ReportInput) -> None:
    text = written[1].read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text, re.I)
    assert "http://" not in text and "https://" not in text
    assert "<link" not in text
    embedded = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(embedded) == len(report_input.figures)
    originals = {fig.read_bytes() for fig in report_input.figures.values()}
    assert {base64.b64decode(b) for b in embedded} == originals
    assert len(re.findall(r"<img\b", text)) == len(embedded)
    assert "document.body.dataset.imagesLoaded" in text


def test_one_section_per_segment_with_escaped_persona(
    written: tuple[Path, Path], report_input: ReportInput
) -> None:
    text = written[1].read_text(encoding="utf-8")
    sections = re.findall(r'<section class="segment" data-segment="([^"]+)"', text)
    assert sections == [str(i) for i in range(8)] + ["-1"]
    for label in map(str, range(8)):
        assert f"Persona &lt;{label}&gt; &amp; friends" in text
    assert "<b>" not in text  # product names with markup are escaped
    assert "Customer segments &lt;test&gt; &amp; co" in text


def test_markdown_content(written: tuple[Path, Path], report_input: ReportInput) -> None:
    md = written[0].read_text(encoding="utf-8")
    command = report_input.run["command"]
    assert f"```bash\n{command}\n```" in md
    assert "## How to reproduce" in md
    for fig in report_input.figures.values():
        assert f"(figures/{fig.name})" in md
    for label in map(str, range(8)):
        assert f"## Segment {label}: Persona &lt;{label}&gt; &amp; friends" in md
    assert "RFM label: RFM-0" in md and "RFM label: RFM-3" not in md
    assert "- Send offer 2" in md
    assert "hit_rate@10" in md and "391,234" in md and "n_clusters" in md
    assert "Top cross-sell pairs" in md and "Top products" in md
    # segment 0's strongest pair by lift appears with its product name
    rules = report_input.top_pairs
    best = rules[rules["segment"] == "0"].nlargest(1, "lift").iloc[0]
    assert f"({best['antecedent'][0]})" in md


def test_optional_parts_absent(tmp_path: Path, report_input: ReportInput) -> None:
    bare = replace(report_input, figures={}, top_pairs=None, evaluation=None, top_products=None,
                   personas=report_input.personas.iloc[0:0], product_names=None)  # fmt: skip
    md, page = write_report(bare, tmp_path)
    text = page.read_text(encoding="utf-8")
    assert text.count('class="segment"') == 9
    assert "<img" not in text
    assert "Segment 0: Segment 0" in md.read_text(encoding="utf-8")


def test_every_figure_shown_with_its_caption(
    written: tuple[Path, Path], report_input: ReportInput
) -> None:
    """Figures appear in the order given (draw_figures' report order), each with the caption
    of figures.FIGURES, in both files."""
    text = written[1].read_text(encoding="utf-8")
    expected = [CAPTIONS[name] for name in report_input.figures]
    assert re.findall(r"<figcaption>([^<]*)</figcaption>", text) == expected
    assert re.findall(r'<img alt="([^"]*)"', text) == expected
    md = written[0].read_text(encoding="utf-8")
    assert re.findall(r"!\[([^\]]*)\]\(figures/", md) == expected
    assert "Tuning trials" in expected  # pareto_front's caption, lost under the old key


def test_figure_without_caption_is_named_and_warned(
    tmp_path: Path, report_input: ReportInput, caplog: pytest.LogCaptureFixture
) -> None:
    extra = tmp_path / "custom.png"
    extra.write_bytes(next(iter(report_input.figures.values())).read_bytes())
    figs = {**report_input.figures, "my_custom_figure": extra}
    md, _ = write_report(replace(report_input, figures=figs), tmp_path / "out")
    assert "**my custom figure**" in md.read_text(encoding="utf-8")
    assert "has no caption" in caplog.text


def test_missing_figure_is_left_out(tmp_path: Path, report_input: ReportInput) -> None:
    figs = {**report_input.figures, "ghost": tmp_path / "nope.png"}
    _, page = write_report(replace(report_input, figures=figs), tmp_path / "out")
    assert page.read_text(encoding="utf-8").count("<img") == len(report_input.figures)


def test_md_table_escapes_pipes() -> None:
    table = md_table(pd.DataFrame({"a": ["x|y"], "b": [1]}))
    assert table.splitlines() == ["| a | b |", "|---|---|", "| x\\|y | 1 |"]


def test_value_reaches_the_glance_table_each_segment_and_its_check(
    tmp_path: Path, report_input: ReportInput, segment_labels: list[str]
) -> None:
    from custseg.profiling.value import value_profile
    from tests.report.conftest import fake_value

    value = fake_value(np.repeat(np.array(segment_labels, dtype=int), 50))
    profile = value_profile(value, value["segment"], lapsed_below=0.5)
    check = {"mae": 1.49, "mae_naive": 1.57, "rmse": 2.5, "correlation": 0.82,
             "customers": 2819.0, "holdout_days": 180.0, "actual_total": 6785.0,
             "predicted_total": 6033.0}  # fmt: skip
    valued = replace(report_input, value_profile=profile, value_check=check,
                     value_horizon_days=90, currency="£")  # fmt: skip
    md, _ = write_report(valued, tmp_path)
    text = md.read_text()
    glance = text.split("## Segments at a glance")[1].split("##")[0]
    assert "share of future value" in glance and "likely lapsed" in glance
    share = f"{profile.loc['0', 'clv_share']:.1%}"
    assert share in glance
    assert text.count("### Customer value (what they are worth next)") == len(segment_labels)
    assert "expected purchases, next 90 days" in text
    assert f"£{profile.loc['all', 'clv_total']:,.0f}" in text
    section = text.split("## Customer value: predictions checked on held-out days")[1]
    assert "last 180 days" in section and "2,819 customers" in section
    assert "BG/NBD beats the naive rule" in section
    worse = replace(valued, value_check={**check, "mae": 1.6})
    md, _ = write_report(worse, tmp_path / "worse")
    assert "BG/NBD does not beat the naive rule" in md.read_text()


# a segment's section, in this order: persona, profile, value, offers, products, pairs, actions
SECTION = ["Profile (this segment vs all customers)", "Customer value (what they are worth next)",
           "Top offers by expected revenue", "Top products", "Top cross-sell pairs (by lift)",
           "Suggested actions"]  # fmt: skip


def _headings(md: str) -> list[tuple[int, str]]:
    """(level, text) of every Markdown heading, in order (code blocks hold none here)."""
    return [(len(m[1]), m[2]) for m in re.finditer(r"(?m)^(#{1,6}) (.*)$", md)]


@pytest.fixture(scope="module")
def full(
    tmp_path_factory: pytest.TempPathFactory, report_input: ReportInput,
    segment_labels: list[str],
) -> tuple[str, ReportInput]:  # fmt: skip
    """report.md of a run with everything: warnings, value, its check, offers."""
    from custseg.profiling.value import value_profile
    from tests.report.conftest import fake_offers, fake_value

    value = fake_value(np.repeat(np.array(segment_labels, dtype=int), 50))
    check = {"mae": 1.49, "mae_naive": 1.57, "rmse": 2.5, "correlation": 0.82,
             "customers": 2819.0, "holdout_days": 180.0, "actual_total": 6785.0,
             "predicted_total": 6033.0}  # fmt: skip
    inp = replace(report_input, warnings={"data.returns": "Returns were dropped"},
                  value_profile=value_profile(value, value["segment"], lapsed_below=0.5),
                  value_check=check, value_horizon_days=90, currency="£",
                  offers=fake_offers(segment_labels[:-1]))  # fmt: skip
    md, _ = write_report(inp, tmp_path_factory.mktemp("full"))
    return md.read_text(encoding="utf-8"), inp


def test_report_leads_with_the_segments_then_method_and_metrics(
    full: tuple[str, ReportInput],
) -> None:
    """Title and warnings, then what a marketer needs (segments at a glance, a section per
    segment, the figures they read), then the method and metrics."""
    md, _ = full
    segments = [(2, f"Segment {s}: Persona &lt;{s}&gt; &amp; friends") for s in range(8)]
    per_segment = {(3, t) for t in SECTION}
    outline = [h for h in _headings(md) if h not in per_segment]
    assert outline == [
        (1, "Customer segments &lt;test&gt; &amp; co"),
        (2, "Warnings"),
        (2, "Segments at a glance"),
        *segments,
        (2, "Segment -1: Unassigned"),
        (2, "The segments in figures"),
        (2, "Method and metrics"),
        (3, "What ran"),
        (4, "Chosen parameters"),
        (4, "Metrics"),
        (3, "How the segments were chosen"),
        (3, "Customer value: predictions checked on held-out days"),
        (3, "Recommendation evaluation (time split)"),
        (3, "How to reproduce"),
    ]
    first = md.split("## Segment 0:")[1].split("\n## ")[0]
    assert re.findall(r"(?m)^### (.*)$", first) == SECTION


def test_each_figure_sits_in_its_part(full: tuple[str, ReportInput]) -> None:
    """Sizes, map, profiles, rules and value figures with the segments; PCA, silhouette and
    tuning figures under how the segments were chosen; the value check's with the check."""
    md, inp = full
    shown = md.split("## The segments in figures")[1].split("## Method and metrics")[0]
    chosen = md.split("### How the segments were chosen")[1].split("### Customer value")[0]
    checked = md.split("### Customer value: predictions")[1].split("### Recommendation")[0]

    def figures(part: str) -> list[str]:
        return re.findall(r"!\[[^\]]*\]\(figures/([^)]+)\)", part)

    files = {name: path.name for name, path in inp.figures.items()}
    assert figures(shown) == [files[n] for n in ("sizes", "scatter", "boxplots", "region_mix",
                                                 "category_mix", "top_items", "top_rules",
                                                 "clv", "p_alive")]  # fmt: skip
    assert figures(chosen) == [files[n] for n in ("biplot", "silhouette", "elbow",
                                                  "pareto_front")]  # fmt: skip
    assert figures(checked) == [files["value_calibration"]]
    assert len(figures(md)) == len(inp.figures)


def test_glance_names_personas_sizes_actions_and_top_offers(
    full: tuple[str, ReportInput],
) -> None:
    md, inp = full
    glance = md.split("## Segments at a glance")[1].split("\n## ")[0]
    header = [line for line in glance.splitlines() if line.startswith("| segment")][0]
    assert header == ("| segment | persona | customers | customer share | revenue share | "
                      "likely lapsed | share of future value | mean CLV | suggested actions | "
                      "top offers |")  # fmt: skip
    rows = {line.split(" | ")[0][2:]: line for line in glance.splitlines()
            if re.match(r"\| -?\d+ \|", line)}  # fmt: skip
    assert list(rows) == [*map(str, range(8)), "-1"]
    offers = inp.offers
    for s in range(8):
        row = rows[str(s)]
        assert f"| Persona &lt;{s}&gt; &amp; friends |" in row
        assert f"| Send offer {s}; Cross-sell bundles |" in row
        best = offers[offers["segment"] == s].head(2)
        names = [inp.product_names[i] for i in best["item"]]
        cell = "; ".join(f"{n} (£{v:,.0f})" for n, v in zip(names, best["expected_revenue"],
                                                            strict=True))  # fmt: skip
        assert row.endswith(f"| {md_text(cell)} |"), row
    assert rows["-1"].endswith("| – | – |")  # no persona and no offers for the unassigned


def test_tables_name_the_segment_by_persona(full: tuple[str, ReportInput]) -> None:
    """The profile and value tables' segment column is headed like the figures name it."""
    md, _ = full
    for s in range(8):
        section = md.split(f"## Segment {s}:")[1].split("\n## ")[0]
        name = f"{s} · Persona &lt;{s}&gt; &amp; friends"
        assert f"| measure | {name} | all customers | vs all |" in section
        assert f"| measure | {name} | all customers |\n" in section
    assert "| segment 0 |" not in md


def test_without_personas_or_offers_the_glance_and_tables_say_segment_n(
    tmp_path: Path, report_input: ReportInput
) -> None:
    bare = replace(report_input, personas=report_input.personas.iloc[0:0])
    md = write_report(bare, tmp_path)[0].read_text(encoding="utf-8")
    glance = md.split("## Segments at a glance")[1].split("\n## ")[0]
    assert "suggested actions" not in glance and "top offers" not in glance
    assert "| measure | segment 0 | all customers | vs all |" in md


def test_offers_say_what_their_worth_counts(tmp_path: Path, full: tuple[str, ReportInput]) -> None:
    """Offers valued by a margin column are called margin, never revenue; without a value
    stage the text does not claim P(alive) is in the worth."""
    md, inp = full
    first = md.split("## Segment 0:")[1].split("\n## ")[0]
    assert "times the customer's chance of still being active" in first
    evaluation = pd.DataFrame({"hit_rate@10": [0.49, 0.51], "revenue@10": [16.8, 15.4]},
                              index=["custseg", "custseg_relevance"])  # fmt: skip
    margin = replace(inp, offer_basis="margin", offers_p_alive=False, evaluation=evaluation)
    text = write_report(margin, tmp_path)[0].read_text(encoding="utf-8")
    first = text.split("## Segment 0:")[1].split("\n## ")[0]
    assert "### Top offers by expected margin" in first
    assert "| item | customers offered it | expected margin |" in first
    assert "times the item's margin, with every customer counted as active" in first
    assert "times the customer's chance" not in first
    method = text.split("## Method and metrics")[1]
    assert "ranked by expected margin" in method and "median margin" in method
    assert "expected revenue" not in text
