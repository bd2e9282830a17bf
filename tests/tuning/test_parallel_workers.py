"""Four processes running the same tuning command at once share one Optuna study and one MLflow
store: together they complete exactly the target number of trials, log each exactly once, and
all choose the same trial. Real subprocesses, real SQLite files, a real `mlflow server`."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import optuna
import pytest
from mlflow.tracking import MlflowClient
from optuna.trial import TrialState

from custseg.tuning.selection import Trial, select
from tests.conftest import clean_env, make_config

N_WORKERS = 4
SMALL = ("data=demo", "features=basket", "tuning=optuna", "data.generator.n_rows=20000")
TIMEOUT = 420  # seconds for a batch of processes; a scenario takes well under a minute when idle

Started = list[tuple[subprocess.Popen, IO[str]]]


@dataclass
class Worker:
    returncode: int
    log: str  # stdout and stderr


def worker_env() -> dict[str, str]:
    """The caller's environment without MLFLOW_* variables, one OpenMP/BLAS thread per worker:
    four workers on two cores with a thread per core each make KMeans ~100x slower (spinning
    OpenMP threads), which would only measure the oversubscription."""
    return clean_env(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")


def init_mlflow_store(uri: str) -> None:
    """Create the MLflow schema and the `custseg` experiment before the workers start. Both race
    in MLflow itself (tracking/logging.py should serialise them, see issue 8): on a fresh SQLite
    file the workers' unlocked schema migrations collide and they die in alembic, and a worker
    losing the create-experiment race gets `set_experiment` back without it being made active,
    so its runs land in the Default experiment (mlflow#12259, ergodicio/adept#292). Optuna's
    fresh file is left to the workers: custseg.tuning.storage serialises its creation."""
    MlflowClient(uri).create_experiment("custseg")


def start_workers(tmp: Path, overrides: list[str], n: int = N_WORKERS, name: str = "worker"):
    """Start `n` copies of `python -m custseg ...overrides` in `tmp`, each logging to a file."""
    started: Started = []
    for i in range(n):
        log = open(tmp / f"{name}-{i}.log", "w+")  # noqa: SIM115 - closed by wait_workers
        args = [sys.executable, "-m", "custseg", *overrides, f"hydra.run.dir={tmp / f'{name}-{i}'}"]
        proc = subprocess.Popen(args, cwd=tmp, env=worker_env(), stdout=log,
                                stderr=subprocess.STDOUT)  # fmt: skip
        started.append((proc, log))
    return started


def wait_workers(started: Started, timeout: float = TIMEOUT) -> list[Worker]:
    """Wait for every started process (all are killed on timeout); exit codes and logs."""
    deadline = time.time() + timeout
    workers = []
    try:
        for proc, log in started:
            proc.wait(timeout=max(1.0, deadline - time.time()))
            log.seek(0)
            workers.append(Worker(proc.returncode, log.read()))
    finally:
        for proc, log in started:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            log.close()
    return workers


def parents_and_children(uri: str) -> tuple[list, list]:
    """Every parent (pipeline) run and every nested trial run of the `custseg` experiment."""
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("custseg")
    runs = client.search_runs([exp.experiment_id], max_results=5000)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    return parents, children


def check_shared_study(workers: list[Worker], uri: str, storage: str, target: int):
    """Everything workers on one study must guarantee; returns the study and the parent runs."""
    for w in workers:
        assert w.returncode == 0, w.log[-4000:]
        assert "database is locked" not in w.log, w.log[-4000:]
        assert "Traceback" not in w.log, w.log[-4000:]

    parents, children = parents_and_children(uri)
    assert len(parents) == len(workers)  # all in the `custseg` experiment
    assert {p.info.status for p in parents} == {"FINISHED"}
    (name,) = {p.data.params["tuning.study_name"] for p in parents}

    study = optuna.load_study(study_name=name, storage=storage)
    states = Counter(t.state for t in study.trials)
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(complete) == target, states  # no overshoot, nothing lost
    assert not states[TrialState.RUNNING] and not states[TrialState.WAITING], states
    retried = {t.system_attrs.get("failed_trial") for t in study.trials}
    for t in study.trials:
        if t.state == TrialState.FAIL:  # only a stale trial, and it was retried
            assert t.number in retried, t
        if t.state == TrialState.PRUNED:  # a slot another worker had taken first
            assert t.user_attrs.get("surplus") is True, t

    # exactly one nested run per complete trial, each under one of the parents
    numbers = Counter(int(c.data.tags["optuna.trial"]) for c in children)
    assert numbers == Counter(t.number for t in complete)
    assert {c.data.tags["mlflow.parentRunId"] for c in children} <= {p.info.run_id for p in parents}
    assert {c.info.status for c in children} == {"FINISHED"}
    by_number = {t.number: t for t in complete}
    for c in children:
        t = by_number[int(c.data.tags["optuna.trial"])]
        assert c.data.metrics["silhouette"] == pytest.approx(t.user_attrs["metrics"]["silhouette"])
    # the workers shared the work: each trial was evaluated by exactly one of them
    assert sum(p.data.metrics["tuning.new_trials"] for p in parents) == target
    assert {p.data.metrics["tuning.n_complete"] for p in parents} == {target}

    # one consistent choice: the one the selection rule makes over the whole study
    chosen = {p.data.metrics["tuning.chosen_trial"] for p in parents}
    chosen_params = [{k: v for k, v in p.data.params.items() if k.startswith("chosen.")}
                     for p in parents]  # fmt: skip
    assert len(chosen) == 1 and chosen_params[0]
    assert all(cp == chosen_params[0] for cp in chosen_params)
    trials = [Trial(t.number, t.params, t.user_attrs["metrics"], t.user_attrs["sizes"])
              for t in complete]  # fmt: skip
    best, _ = select(trials, make_config("tuning=optuna").tuning.selection)
    assert chosen == {best.number}
    assert chosen_params[0] == {f"chosen.{k}": str(v) for k, v in best.params.items()}
    return study, parents


@pytest.mark.slow
@pytest.mark.parametrize("store", ["sqlite", "server"])
def test_four_workers_share_one_study_exactly(tmp_path, store, request):
    """TPE with 30 trials: the target is a count, so overshoot and lost trials would show."""
    if store == "server":
        uri = request.getfixturevalue("mlflow_server")
    else:
        uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    init_mlflow_store(uri)
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    overrides = [*SMALL, "report=none", "recommend=none", "rules=none", "tuning.elbow=false",
                 "tuning.sampler=tpe", "tuning.n_trials=30", f"tracking.uri={uri}",
                 f"tuning.storage={storage}"]  # fmt: skip
    t0 = time.perf_counter()
    workers = wait_workers(start_workers(tmp_path, overrides))
    print(f"{store}: {N_WORKERS} workers in {time.perf_counter() - t0:.1f} s")
    check_shared_study(workers, uri, storage, target=30)
    if store == "server":  # the artifacts went through the server, not to the workers' disk
        assert any((tmp_path / "server-artifacts").rglob("tuning_trials.parquet"))
        assert not (tmp_path / "mlruns").exists()
