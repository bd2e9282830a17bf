"""Outputs appear whole or not at all, even when the writer fails or is killed mid-write."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from custseg.atomic import atomic_dir, atomic_path, umask
from custseg.config.schema import Tracking
from custseg.report.report import ReportInput, write_report
from custseg.tracking.run import tracked_run


def _visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def test_failed_write_keeps_the_earlier_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old,complete\n")
    with pytest.raises(RuntimeError, match="disk full"), atomic_path(target) as tmp:
        tmp.write_text("new,half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old,complete\n"
    assert os.listdir(tmp_path) == ["table.csv"]
    with atomic_path(target) as tmp:
        tmp.write_text("new,complete\n")
    assert target.read_text() == "new,complete\n"
    assert os.listdir(tmp_path) == ["table.csv"]


def test_failed_folder_write_keeps_the_earlier_folder(tmp_path):
    target = tmp_path / "report"
    target.mkdir()
    (target / "report.md").write_text("old")
    with pytest.raises(ValueError), atomic_dir(target) as tmp:
        (tmp / "report.md").write_text("new, half")
        raise ValueError("rendering failed")
    assert (target / "report.md").read_text() == "old"
    assert os.listdir(tmp_path) == ["report"]
    with atomic_dir(target) as tmp:
        (tmp / "report.md").write_text("new")
    assert (target / "report.md").read_text() == "new"
    assert os.listdir(tmp_path) == ["report"]


@pytest.mark.parametrize(("mask", "file_mode", "dir_mode"),
                         [(0o022, 0o644, 0o755), (0o027, 0o640, 0o750)])  # fmt: skip
@pytest.mark.slow
def test_outputs_get_the_modes_a_plain_write_would_give(tmp_path, tracking_uri, mask, file_mode,
                                                        dir_mode):  # fmt: skip
    # mkstemp/mkdtemp make private 0600/0700 files: colleagues could not read the artifacts
    old = os.umask(mask)
    try:
        assert umask() == mask
        with atomic_path(tmp_path / "t.csv") as tmp:
            tmp.write_text("a\n")
        with atomic_dir(tmp_path / "report") as tmp:
            (tmp / "report.md").write_text("r")
        out = tmp_path / "artifacts"
        store = Tracking(uri=tracking_uri, experiment="modes", register_as=None, timeout=30)
        with tracked_run(store, "modes", out) as tracker:
            tracker.table(pd.DataFrame({"x": [1.0]}), "segments")
        plain = tmp_path / "plain.txt"
        plain.write_text("p")
    finally:
        os.umask(old)
    for path in (tmp_path / "t.csv", out / "segments.parquet", out / "segments.csv",
                 tmp_path / "report" / "report.md", plain):  # fmt: skip
        assert os.stat(path).st_mode & 0o777 == file_mode, path
    assert os.stat(tmp_path / "report").st_mode & 0o777 == dir_mode


def test_tracker_table_that_cannot_be_written_leaves_the_earlier_table(tmp_path, tracking_uri):
    out = tmp_path / "artifacts"
    good = pd.DataFrame({"segment": [0, 1], "x": [1.0, 2.0]})
    store = Tracking(uri=tracking_uri, experiment="atomic", register_as=None, timeout=30)
    with tracked_run(store, "first", out) as tracker:
        tracker.table(good, "segments")
    bad = pd.DataFrame({"segment": [0, 1], "x": [1.0, {"not": "a number"}]})  # Arrow refuses
    with (
        pytest.raises(Exception, match="Conversion failed|Could not convert|object"),
        tracked_run(store, "second", out) as tracker,
    ):
        tracker.table(bad, "segments")
    pd.testing.assert_frame_equal(pd.read_parquet(out / "segments.parquet"), good)
    assert pd.read_csv(out / "segments.csv", index_col=0)["x"].tolist() == [1.0, 2.0]
    assert _visible(out) == ["segments.csv", "segments.parquet"]
    client = mlflow.MlflowClient(tracking_uri)
    runs = client.search_runs([client.get_experiment_by_name("atomic").experiment_id])
    assert sorted(r.info.status for r in runs) == ["FAILED", "FINISHED"]


def test_report_is_replaced_only_when_complete(tmp_path):
    summary = pd.DataFrame({"customers": [2.0, 2.0]}, index=pd.Index(["0", "all"], name="segment"))
    personas = pd.DataFrame({"segment": [0], "name": ["Regular"], "description": ["d"],
                             "actions": [["call"]]})  # fmt: skip
    inp = ReportInput("t", {"data": "demo"}, summary, personas, {}, None, None, None)
    md, html = write_report(inp, tmp_path / "report")
    first = html.read_text()
    broken = ReportInput("t", {"data": "demo"}, None, personas, {}, None, None, None)  # type: ignore[arg-type]
    with pytest.raises((AttributeError, TypeError)):
        write_report(broken, tmp_path / "report")
    assert html.read_text() == first and md.exists()
    assert _visible(tmp_path) == ["report"]


WRITER = """
import sys, numpy as np, pandas as pd
from pathlib import Path
from custseg.config.schema import Tracking
from custseg.tracking.run import tracked_run
out, uri = Path(sys.argv[1]), sys.argv[2]
store = Tracking(uri=uri, experiment="kill", register_as=None, timeout=30)
with tracked_run(store, "writer", out) as tracker:
    tracker.table(pd.DataFrame({"v": np.zeros(10)}), "big")
    print("ready", flush=True)
    rng = np.random.default_rng(0)
    while True:  # rewrite a large table until killed
        tracker.table(pd.DataFrame({"v": rng.random(3_000_000)}), "big")
"""


@pytest.mark.slow
def test_sigkill_mid_write_never_leaves_a_truncated_table(tmp_path, tracking_uri):
    out = tmp_path / "artifacts"
    for delay in (0.3, 1.1, 2.3):  # land the kill at different points of the write loop
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(out), tracking_uri],
                                stdout=subprocess.PIPE, text=True)  # fmt: skip
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        table = pd.read_parquet(out / "big.parquet")  # always a complete file
        assert len(table) in (10, 3_000_000)
        assert np.isfinite(table["v"]).all()
        assert set(_visible(out)) <= {"big.parquet", "big.csv"}
    client = mlflow.MlflowClient(tracking_uri)
    runs = client.search_runs([client.get_experiment_by_name("kill").experiment_id])
    assert len(runs) == 3 and all(r.info.status != "FINISHED" for r in runs)
