"""The helper process: it runs jobs in another process, and a run starts one only with work."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from omegaconf import OmegaConf

from custseg.helper import Helper, workers_for
from custseg.report.figures import Figures
from tests.conftest import make_cfg


def test_jobs_run_in_another_process_and_errors_come_back():
    helper = Helper(1)
    try:
        assert helper.enabled
        assert helper.submit(os.getpid).result(timeout=120) != os.getpid()
        with pytest.raises(ZeroDivisionError):
            helper.submit(divmod, 1, 0).result(timeout=60)
    finally:
        helper.close()
    assert not helper.enabled
    with pytest.raises(RuntimeError, match="no worker processes"):
        helper.submit(os.getpid)


def test_closing_at_once_is_clean():
    """A run that fails in its first millisecond closes a helper that is still starting."""
    Helper(1).close()


@pytest.mark.parametrize(
    ("overrides", "workers"),
    [((), 2), (("report=none",), 0), (("report=none", "tuning=optuna"), 2),
     (("workers=0",), 0), (("workers=3", "report=none", "tuning=optuna"), 3)],
)  # fmt: skip
def test_a_run_starts_helpers_only_when_it_has_work_for_them(overrides, workers):
    cfg = OmegaConf.to_container(make_cfg(*overrides), resolve=True)
    assert workers_for(cfg) == workers


def _trials() -> pd.DataFrame:
    return pd.DataFrame({"silhouette": [0.5, 0.4], "davies_bouldin": [0.8, 0.9],
                         "on_front": [True, False], "eligible": [True, True],
                         "chosen": [True, False], "n_segments": [2, 3]})  # fmt: skip


@pytest.mark.parametrize("workers", [0, 1])
def test_figures_are_drawn_here_or_in_the_helper(tmp_path: Path, workers: int):
    helper = Helper(workers)
    try:
        figures = Figures(helper)
        figures.draw("pareto_front", "pareto_plot", _trials(), tmp_path / "p.png", "title")
        drawn = figures.collect()
    finally:
        helper.close()
    assert drawn == {"pareto_front": tmp_path / "p.png"}
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_unknown_plot_is_named():
    with pytest.raises(ValueError, match="no plot function 'pie_chart'"):
        Figures(None).draw("x", "pie_chart")
