"""engine=spark on a real standalone Spark cluster, not local[N]: a master and one worker started
from pyspark's own `bin/spark-class` on 127.0.0.1, the whole pipeline run against it as a user
would (`engine.master=spark://...`), then the cluster stopped with nothing left running.

The fitted model must be the local run's class with local parts only (it is unpickled and
served here, in a process whose Spark session has gone), its segments must agree with the local
engine's and its overall rules must equal them.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pytest

from custseg.tracking.pyfunc import load_model, to_model_input
from tests.conftest import free_port
from tests.spark.conftest import DATA, Logged, logged_run, require_spark
from tests.spark.test_spark_pipeline import (
    assert_all_rules_equal,
    assert_same_model,
    assert_segments_agree,
)

require_spark()

import pyspark  # noqa: E402

from custseg.engine.spark.session import get_session, stop_session  # noqa: E402

STARTUP_SECONDS = 300  # JVMs start slowly on a busy two-core runner


@dataclass
class Cluster:
    url: str  # spark://127.0.0.1:PORT
    ui: str  # the master's web UI (JSON at /json)
    logs: Path

    def state(self) -> dict:
        with urllib.request.urlopen(f"{self.ui}/json", timeout=5) as r:
            return json.load(r)

    def tail(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
            for p in sorted(self.logs.glob("*.log"))
        )


def _spark_class(cls: str, args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen:
    """One Spark daemon in the foreground, in a process group of its own (the worker's
    executors join it), so stopping the group stops everything it started."""
    cmd = [str(Path(pyspark.__file__).parent / "bin" / "spark-class"), cls, *args]
    with open(log, "wb") as out:
        return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip


def _stop(procs: list[subprocess.Popen]) -> None:
    """SIGTERM each daemon's process group (the worker stops its executors), SIGKILL what is
    still there after a minute; returns when no process of those groups remains."""
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    for proc in procs:  # an executor may outlive the worker that started it by a moment
        for _ in range(300):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                break
            time.sleep(0.1)


def _wait_for_worker(cluster: Cluster, procs: list[subprocess.Popen]) -> None:
    deadline = time.time() + STARTUP_SECONDS
    while time.time() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                raise AssertionError(f"a Spark daemon exited early:\n{cluster.tail()}")
        try:
            state = cluster.state()
            if state.get("status") == "ALIVE" and int(state.get("aliveworkers", 0)) >= 1:
                return
        except OSError:
            pass
        time.sleep(1)
    raise AssertionError(f"no worker registered in {STARTUP_SECONDS} s:\n{cluster.tail()}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A master and one worker (2 cores, 2 GB) on 127.0.0.1 at free ports. Only one
    SparkContext may exist per process: the shared local session is stopped first, and the
    cluster's session is stopped before the daemons (the next module starts local[2] again)."""
    stop_session()
    tmp = tmp_path_factory.mktemp("cluster")
    (tmp / "conf").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPARK_", "PYSPARK_"))}
    env |= {"SPARK_HOME": str(Path(pyspark.__file__).parent), "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_CONF_DIR": str(tmp / "conf"), "SPARK_LOCAL_DIRS": str(tmp / "local"),
            "SPARK_DAEMON_MEMORY": "512m", "PYSPARK_PYTHON": sys.executable,
            # no REST submission server: its fixed port 6066 may be taken on a shared runner
            "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false"}  # fmt: skip
    port, ui, worker_port, worker_ui = (free_port() for _ in range(4))
    cluster = Cluster(f"spark://127.0.0.1:{port}", f"http://127.0.0.1:{ui}", tmp)
    procs = [_spark_class("org.apache.spark.deploy.master.Master",
                          ["--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui)],
                          tmp / "master.log", env)]  # fmt: skip
    try:
        procs.append(_spark_class(
            "org.apache.spark.deploy.worker.Worker",
            ["--host", "127.0.0.1", "--port", str(worker_port), "--webui-port", str(worker_ui),
             "--cores", "2", "--memory", "2g", "--work-dir", str(tmp / "work"), cluster.url],
            tmp / "worker.log", env,
        ))  # fmt: skip
        _wait_for_worker(cluster, procs)
        yield cluster
    finally:
        stop_session()
        _stop(procs)
        for proc in procs:
            assert proc.poll() is not None
            with pytest.raises(ProcessLookupError):
                os.killpg(proc.pid, 0)  # nothing of the group left


@pytest.mark.slow
def test_whole_pipeline_on_a_standalone_cluster(
    cluster: Cluster, local_run: Logged, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)  # executors' Python, if they need one
    t0 = time.perf_counter()
    run = logged_run(
        tmp_path, "engine=spark", f"engine.master={cluster.url}", *DATA,
        "+engine.conf={spark.executor.memory: 1g, spark.driver.host: 127.0.0.1}",
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    print(f"\nwhole demo run on the standalone cluster: {seconds:.1f} s")
    r = run.result

    # it ran on the cluster: the session is the cluster's and the master lists the application
    # with the worker's cores
    assert get_session(cluster.url).sparkContext.master == cluster.url
    apps = cluster.state()["activeapps"]
    assert [a["name"] for a in apps] == ["custseg"] and apps[0]["cores"] >= 1, apps
    assert r.model is not None and r.model.training_.segmentation.seconds["clustering"] > 0

    assert_same_model(r, local_run.result)
    assert_segments_agree(r, local_run.result)
    assert_all_rules_equal(r, local_run.result)

    # the logged MLflow model, loaded and scoring transactions here
    mlflow.set_tracking_uri(run.uri)
    model = load_model(r.model_uri)
    tx = r.transactions
    assert tx is not None
    some = r.segments.index[:30]
    scored = model.score(to_model_input(tx[tx["customer_id"].astype("str").isin(some)]))
    scored = scored.set_index("customer_id").loc[some]
    assert (scored["segment"].to_numpy() == r.segments.loc[some, "segment"].to_numpy()).all()
    assert scored["persona"].ne("").all()
