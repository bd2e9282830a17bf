"""The same config and seed give the same segments, metrics, rules and recommendations: in two
separate processes with separate stores, and whether one process runs the whole study or four
workers share it (with `sampler: auto` the small discrete space is a grid, so the evaluated
points, and hence the choice, do not depend on who ran which trial)."""

from __future__ import annotations

import itertools
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from optuna.trial import TrialState

from tests.tuning.test_parallel_workers import (
    SMALL,
    check_shared_study,
    init_mlflow_store,
    start_workers,
    wait_workers,
)

OVERRIDES = [*SMALL, "report=none", "recommend.evaluate.enabled=false"]  # rules and recs on
BOOKKEEPING = ("tuning.new_trials",)  # who ran which trial: differs by design between workers


def _stores(root: Path) -> list[str]:
    root.mkdir()
    uri = f"sqlite:///{root / 'mlflow.db'}"
    init_mlflow_store(uri)
    return [f"tracking.uri={uri}", f"tuning.storage=sqlite:///{root / 'optuna.db'}"]


def _tables(uri: str, run_id: str, dst: Path) -> dict[str, pd.DataFrame]:
    """Every Parquet table the run logged (segments, rules_*, recommendations, tuning, ...)."""
    local = mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=str(dst), tracking_uri=uri)
    return {p.stem: pd.read_parquet(p) for p in sorted(Path(local).glob("*.parquet"))}


def _metrics(run) -> dict[str, float]:
    """Every metric except timings and bookkeeping."""
    return {k: v for k, v in run.data.metrics.items()
            if "seconds" not in k and k not in BOOKKEEPING}  # fmt: skip


@pytest.mark.slow
def test_same_seed_same_results_across_processes_and_parallel_workers(tmp_path):
    # two sequential runs and four workers on a third store, all started at once
    roots = {name: tmp_path / name for name in ("seq-a", "seq-b", "parallel")}
    stores = {name: _stores(root) for name, root in roots.items()}
    started = [
        *start_workers(roots["seq-a"], [*OVERRIDES, *stores["seq-a"]], n=1),
        *start_workers(roots["seq-b"], [*OVERRIDES, *stores["seq-b"]], n=1),
        *start_workers(roots["parallel"], [*OVERRIDES, *stores["parallel"]], n=4),
    ]
    workers = wait_workers(started)
    seq_a, seq_b, parallel = workers[:1], workers[1:2], workers[2:]

    runs = {}  # label -> (uri, parent run)
    for name, group in (("seq-a", seq_a), ("seq-b", seq_b), ("parallel", parallel)):
        uri = stores[name][0].removeprefix("tracking.uri=")
        storage = stores[name][1].removeprefix("tuning.storage=")
        # kmeans' k in 3..10 is 8 points <= 30 trials: auto evaluates each exactly once
        study, parents = check_shared_study(group, uri, storage, target=8)
        complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
        assert sorted(t.params["n_clusters"] for t in complete) == list(range(3, 11))
        assert all("grid_id" in t.system_attrs for t in complete)
        for i, parent in enumerate(parents):
            runs[f"{name}-{i}"] = (uri, parent)
    assert len(runs) == 6

    tables = {label: _tables(uri, run.info.run_id, tmp_path / "dl" / label)
              for label, (uri, run) in runs.items()}  # fmt: skip
    ref = tables["seq-a-0"]
    assert {"segments", "rules_all", "recommendations", "tuning_trials"} <= set(ref)
    assert any(name.startswith("rules_segment_") for name in ref)
    assert len(ref["rules_all"]) > 0 and len(ref["recommendations"]) > 0  # not vacuous
    ref_metrics = _metrics(runs["seq-a-0"][1])
    ref_params = {k: v for k, v in runs["seq-a-0"][1].data.params.items()
                  if k.startswith("chosen.")}  # fmt: skip
    for label, (_, run) in itertools.islice(runs.items(), 1, None):
        assert set(tables[label]) == set(ref), label
        for name, frame in ref.items():
            pd.testing.assert_frame_equal(tables[label][name], frame, obj=f"{label}: {name}")
        assert _metrics(run) == ref_metrics, label
        assert {k: v for k, v in run.data.params.items() if k.startswith("chosen.")} == ref_params
