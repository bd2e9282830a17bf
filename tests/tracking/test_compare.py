"""Hydra multirun over feature sets x algorithms, then the compare table over its runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from custseg.tracking.compare import main as compare_main
from custseg.tracking.compare import runs_table

# segmentation only: rules, recommendations and reports have tests of their own
SWEEP = ["-m", "features=value_quantity,rfm,rfm_region", "segment=kmeans,gmm,hdbscan",
         "rules=none", "report=none"]  # fmt: skip


def _multirun(tmp_path: Path, *overrides: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    proc = subprocess.run(
        [sys.executable, "-m", "custseg", *SWEEP, *overrides,
         f"hydra.sweep.dir={tmp_path / 'multirun'}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1200, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


def _check_nine(table: pd.DataFrame, data: str) -> None:
    assert len(table) == 9
    combos = set(zip(table["features"], table["algorithm"], strict=True))
    assert combos == {(f, a) for f in ("value_quantity", "rfm", "rfm_region")
                      for a in ("kmeans", "gmm", "hdbscan")}  # fmt: skip
    assert (table["status"] == "FINISHED").all() and (table["data"] == data).all()
    for col in ("silhouette", "davies_bouldin", "calinski_harabasz", "n_segments"):
        assert table[col].notna().all(), col
    assert table["run_name"].str.startswith(f"{data}/").all()
    ranked = table[table["eligible"]]["silhouette"].tolist()
    assert ranked == sorted(ranked, reverse=True)  # eligible runs first, best silhouette first
    assert table["rank"].tolist() == list(range(1, 10))


@pytest.mark.slow
def test_multirun_on_demo_fills_one_experiment_and_compare_lists_all_nine(tmp_path, capsys):
    uri = _multirun(tmp_path, "data.generator.n_rows=20000")
    _check_nine(runs_table(uri, "custseg"), "demo")
    compare_main(["--tracking-uri", uri, "--out", str(tmp_path / "cmp")])
    printed = capsys.readouterr().out
    assert "demo/rfm_region/hdbscan" in printed and "demo/value_quantity/kmeans-k5" in printed
    csv = pd.read_csv(tmp_path / "cmp" / "compare.csv")
    assert len(csv) == 9
    assert (tmp_path / "cmp" / "compare.png").stat().st_size > 10_000


@pytest.mark.slow
def test_multirun_on_online_retail(tmp_path, online_retail_path):
    uri = _multirun(tmp_path, "data=online_retail")
    table = runs_table(uri, "custseg")
    _check_nine(table, "online_retail")
    assert (table["n_customers"] == 4_334).all()


def test_compare_on_a_missing_experiment_says_so(tmp_path):
    with pytest.raises(SystemExit, match="no experiment 'nope'"):
        runs_table(f"sqlite:///{tmp_path / 'm.db'}", "nope")
