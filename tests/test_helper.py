"""The helper process: it runs jobs in another process, and a run starts one only with work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
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


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie waits for init; it runs nothing)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_helpers_leave_when_their_run_is_killed():
    """SIGKILL gives a run no chance to close its helpers: they (and the fork server, which
    lives while any helper does) notice within seconds and exit instead of staying forever."""
    code = ("import os; from custseg.helper import Helper; h = Helper(2); "
            "print(h.submit(os.getpid).result(), h.submit(os.getppid).result(), flush=True); "
            "import time; time.sleep(600)")  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        worker, server = map(int, proc.stdout.readline().split())
        assert _running(worker) and _running(server) and server != proc.pid
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    deadline = time.monotonic() + 20
    while (_running(worker) or _running(server)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _running(worker) and not _running(server)
