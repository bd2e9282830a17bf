"""Data cannot become code: spreadsheet formulas in exported CSVs (cells, index, headers) and
markup in the Markdown and HTML reports (product names, personas, labels, tables, headings,
list items, the command line) stay text."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custseg.report.render import md_block, md_table, md_text
from custseg.report.report import ReportInput, write_report
from custseg.tracking.run import csv_safe
from tests.conftest import make_config, run_logged

SCRIPT = "<script>alert(1)</script>"
LINK = '=HYPERLINK("http://evil.example/x","click")'
REGION = "=cmd|' /C calc'!A0"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _cells(text: str) -> list[str]:
    """Every cell of a CSV file, headers and index included, as a spreadsheet reads them."""
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _formulas(text: str) -> list[str]:
    return [c for c in _cells(text) if c.startswith(FORMULA_START) and not NUMBER.fullmatch(c)]


# --- csv_safe ---------------------------------------------------------------------------------


def test_csv_safe_quotes_index_and_headers_and_keeps_numbers():
    df = pd.DataFrame(
        {LINK: [0.5, 0.25, 0.25], "North": [0.1, 0.2, 0.3], "label": ["-1", "2.5", "+SUM(1)"]},
        index=pd.Index(["=1+1", "-1", "@me"], name="=id"),
    )  # fmt: skip
    df.columns.name = "+regions"
    text = csv_safe(df).to_csv()
    assert _formulas(text) == []
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["'=id", "'" + LINK, "North", "label"]
    assert [r[0] for r in rows[1:]] == ["'=1+1", "-1", "'@me"]  # "-1" is a segment label
    assert [r[3] for r in rows[1:]] == ["-1", "2.5", "'+SUM(1)"]
    assert list(df.index) == ["=1+1", "-1", "@me"] and df.columns[0] == LINK  # input untouched


def test_csv_safe_multiindex_levels_and_names():
    cols = pd.MultiIndex.from_tuples([(REGION, "share"), ("South", "@count"), ("South", "n")],
                                     names=["-region", "what"])  # fmt: skip
    idx = pd.MultiIndex.from_tuples([("=seg", -1), ("ok", 2)], names=["@segment", "k"])
    df = pd.DataFrame([[0.5, 1, 2], [0.5, 3, 4]], index=idx, columns=cols)
    safe = csv_safe(df)
    assert list(safe.columns.get_level_values(0)) == ["'" + REGION, "South", "South"]
    assert list(safe.columns.get_level_values(1)) == ["share", "'@count", "n"]
    assert list(safe.columns.names) == ["'-region", "what"]
    assert list(safe.index.get_level_values(0)) == ["'=seg", "ok"]
    assert list(safe.index.get_level_values(1)) == [-1, 2]  # numbers stay numbers
    assert list(safe.index.names) == ["'@segment", "k"]
    assert _formulas(safe.to_csv()) == []
    assert safe.to_numpy().tolist() == df.to_numpy().tolist()


def test_csv_safe_leaves_numeric_and_datetime_indexes_and_repeated_headers():
    df = pd.DataFrame([[1, 2], [3, 4]], index=pd.Index([-1, 5]), columns=["=a", "=a"])
    safe = csv_safe(df)
    assert safe.index.dtype == np.int64 and list(safe.index) == [-1, 5]
    assert list(safe.columns) == ["'=a", "'=a"]
    when = pd.DataFrame({"v": ["\tx", "\ry"]}, index=pd.to_datetime(["2024-01-01", "2024-01-02"]))
    safe = csv_safe(when)
    assert safe.index.equals(when.index) and safe["v"].tolist() == ["'\tx", "'\ry"]


# --- Markdown and HTML escaping ----------------------------------------------------------------


def test_md_text_neutralises_html_links_pipes_and_block_starts():
    assert md_text(SCRIPT) == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert md_text("a|b & c") == "a\\|b &amp; c"
    assert md_text("x\\|y") == "x\\\\\\|y"  # a data backslash cannot undo the pipe's escape
    assert md_text("[click](javascript:alert(1))") == "\\[click\\](javascript:alert(1))"
    assert md_text("line\nbreak") == "line break"
    assert md_text("n_clusters") == "n_clusters"  # snake_case names stay readable
    assert md_block("# heading") == "\\# heading" and md_block("- item") == "\\- item"
    assert md_block("1. first") == "1\\. first"
    table = md_table(pd.DataFrame({"a|b": [SCRIPT], "c": ["x\ny"]}))
    assert table.splitlines() == ["| a\\|b | c |", "|---|---|",
                                  "| &lt;script&gt;alert(1)&lt;/script&gt; | x y |"]  # fmt: skip


class _Page(HTMLParser):
    """The tags and text of an HTML page as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _outside_fences(md: str) -> str:
    return re.sub(r"(?ms)^(`{3,})bash\n.*?\n\1$", "", md)


@pytest.fixture
def hostile(report_input: ReportInput) -> ReportInput:
    """The report's stand-in run, with markup and formulas wherever data reaches the report."""
    personas = report_input.personas.copy()
    personas["name"] = [f"{SCRIPT} {i}" for i in range(len(personas))]
    personas["description"] = "# Buys <img src=x onerror=alert(2)> | [x](javascript:alert(3))"
    personas["rfm_label"] = "<b>RFM</b>"
    personas["actions"] = [["- <iframe src=//evil>", LINK]] * len(personas)
    top = report_input.top_products.copy()
    top["product_name"] = [SCRIPT if i % 2 else LINK for i in range(len(top))]
    run = {**report_input.run, "run_name": "<b>run</b> https://u:RunPw123@h.example/x",
           "command": f"custseg data=csv run_name='{SCRIPT}' "
                      "tracking.uri=http://ann:CmdPw4567@mlflow.example:5000",
           "params": {"<i>k</i>": "=1+1"}}  # fmt: skip
    evaluation = report_input.evaluation.rename(index={"blend": SCRIPT})
    return replace(report_input, title=f"custseg: {SCRIPT}", run=run, personas=personas,
                   top_products=top, product_names={"P000": SCRIPT}, evaluation=evaluation,
                   figures={}, warnings={"data.x": f"region {REGION} <u>odd</u>"})  # fmt: skip


def test_report_keeps_hostile_data_as_text(hostile: ReportInput, tmp_path: Path):
    md_path, html_path = write_report(hostile, tmp_path / "report")
    page, md = html_path.read_text(encoding="utf-8"), md_path.read_text(encoding="utf-8")
    parsed = _Page()
    parsed.feed(page)
    # HTML: the page's own script is the only one; the data's tags never became elements
    assert parsed.tags.count("script") == 1 and "alert(1)" not in page.split("<script>")[-1]
    assert not {"img", "iframe", "b", "i", "u"} & set(parsed.tags)
    assert not any(name.startswith("on") for name, _ in parsed.attrs)
    text = "".join(parsed.text)
    assert f"{SCRIPT} 0" in text and LINK in text and REGION in text  # shown as text
    assert "<img src=x onerror=alert(2)>" in text and "- <iframe src=//evil>" in text
    # Markdown: outside the command's code block, no raw '<' at all and every table row whole
    body = _outside_fences(md)
    assert "<" not in body and "&lt;script&gt;alert(1)&lt;/script&gt; 0" in body
    assert "\\# Buys &lt;img src=x onerror=alert(2)&gt; \\| \\[x\\](javascript:alert(3))" in body
    assert "- \\- &lt;iframe src=//evil&gt;" in body
    for table in re.findall(r"(?m)(?:^\|.*\|\n?)+", body):
        widths = {len(re.findall(r"(?<!\\)\|", row)) for row in table.strip().splitlines()}
        assert len(widths) == 1, table
    # the command: verbatim in a code block (copyable), its password masked in both files
    assert "tracking.uri=http://ann:***@mlflow.example:5000" in md
    assert "tracking.uri=http://ann:***@mlflow.example:5000" in text
    for secret in ("CmdPw4567", "RunPw123"):
        assert secret not in md and secret not in page


@pytest.mark.slow
def test_pipeline_exports_hostile_ids_regions_and_names_safely(tmp_path: Path, tracking_uri):
    """A real run on a file whose customer ids, regions, categories and product names are
    formulas and markup: every CSV the run writes (cells, index, headers) and both reports."""
    rng = np.random.default_rng(0)
    ids = [LINK, "+SUM(1,1)", "@cmd", "-2+3", "\tTAB"] + [f"c{i:03d}" for i in range(85)]
    regions = [REGION, "<b>South</b>", "North"]
    products = {f"p{i:02d}": name for i, name in enumerate(
        [SCRIPT, LINK, "Tea | Coffee", "[x](javascript:alert(1))"]
        + [f"Product {i}" for i in range(4, 30)])}  # fmt: skip
    rows = []
    for n, customer in enumerate(ids):
        kind = n % 3
        for v in range(3 + 4 * kind):
            day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(rng.integers(0, 300)))
            for pid in rng.choice(list(products)[kind * 8 : kind * 8 + 14], 3, replace=False):
                rows.append({"customer_id": customer, "invoice_id": f"i{n}-{v}",
                             "invoice_date": day.strftime("%Y-%m-%d"), "product_id": pid,
                             "quantity": int(rng.integers(1, 4 + 5 * kind)),
                             "unit_price": round(float(rng.uniform(1, 10 + 20 * kind)), 2),
                             "product_name": products[pid], "region": regions[n % 3],
                             "category": ["+evil", "@home", "Food"][int(pid[1:]) % 3]})
    path = tmp_path / "hostile.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    cfg = make_config(f"tracking.uri={tracking_uri}", "data=csv", f"data.path={path}",
                      "data.columns.product_name=product_name", "data.columns.region=region",
                      "data.columns.category=category", "data.columns.amount=null",
                      "segment.n_clusters=3", "stability.rounds=0", "report.screenshot=false",
                      "rules.min_support=0.05")  # fmt: skip
    result = run_logged(cfg, tmp_path / "out")
    exports = sorted((tmp_path / "out").glob("*.csv"))
    names = {p.stem for p in exports}
    assert {"segments", "region_mix", "category_mix", "top_products", "recommendations"} <= names
    for path in exports:
        assert _formulas(path.read_text(encoding="utf-8")) == [], path.name
    segments = list(csv.reader(io.StringIO((tmp_path / "out" / "segments.csv").read_text())))
    # (ids are stripped of surrounding whitespace on load, so the tab id arrives as 'TAB')
    assert {"'" + LINK, "'+SUM(1,1)", "'@cmd", "'-2+3"} <= {r[0] for r in segments}
    assert "'" + REGION in _cells((tmp_path / "out" / "region_mix.csv").read_text())
    # the Parquet copies keep the exact values
    exact = pd.read_parquet(tmp_path / "out" / "segments.parquet")
    assert LINK in set(exact.index) | set(exact.get("customer_id", pd.Series(dtype=str)))
    md = result.report.with_name("report.md").read_text(encoding="utf-8")
    assert "<" not in _outside_fences(md) and "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    parsed = _Page()
    parsed.feed(result.report.read_text(encoding="utf-8"))
    assert parsed.tags.count("script") == 1 and "b" not in parsed.tags
    assert SCRIPT in "".join(parsed.text)
