"""The HTML report in a real headless Chromium: every embedded image decodes, every segment shows.

Skipped when Chromium is not installed, except under CI=true where it must be.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import matplotlib.image as mpimg
import pytest

from custseg.report.browser import find_chromium, render
from custseg.report.report import ReportInput, write_report

pytestmark = pytest.mark.slow  # a real browser

@pytest.fixture(scope="module")
def chromium() -> str:
    exe = find_chromium()
    if exe is None:
        msg = "chromium not installed (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg + " (CI=true: the browser test must run)")
        pytest.skip(msg)
    return exe


def test_report_renders_in_chromium(
    chromium: str, tmp_path: Path, report_input: ReportInput
) -> None:
    _, page = write_report(report_input, tmp_path / "report")
    shot = tmp_path / "shot.png"
    dom = render(page, screenshot=shot)
    body = re.search(r"<body([^>]*)>", dom)
    assert body, dom[:500]
    loaded = re.search(r'data-images-loaded="(\d+)"', body.group(1))
    total = re.search(r'data-images-total="(\d+)"', body.group(1))
    assert loaded and total, f"load script did not run: {body.group(0)}"
    assert int(total.group(1)) == len(report_input.figures) > 0
    assert loaded.group(1) == total.group(1)
    sections = re.findall(r'<section class="segment" data-segment="([^"]+)"', dom)
    assert sections == [str(i) for i in range(8)] + ["-1"]
    assert shot.stat().st_size > 5_000
    image = mpimg.imread(shot)
    assert image.shape[:2] == (900, 1280)
