"""What every Spark test needs: pyspark (the optional 'spark' extra), a Java runtime, one local
session, demo data, and one whole local run to hold a Spark run against."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from custseg.clean import clean
from custseg.data.sources import load
from custseg.result import RunResult
from tests.conftest import make_config, run_logged

# the demo run both engines make in the pipeline tests (report=none: a Spark run's figures are
# the local code's on the same tables, and drawing them costs minutes on two cores)
DATA = ("data.generator.n_rows=20000", "features=basket", "report=none")


def _missing() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (optional 'spark' extra)"
    home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (home and Path(home, "bin", "java").exists()):
        return "no Java runtime (java on PATH or JAVA_HOME) for Spark"
    return None


def require_spark() -> None:
    """Skip the calling test module without pyspark or Java; under CI=true their absence fails
    instead (CI must install both, or the Spark engine would go untested)."""
    why = _missing()
    if why is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{why} (CI=true: install the 'spark' extra and a Java 17 runtime)",
                    pytrace=False)  # fmt: skip
    pytest.skip(why, allow_module_level=True)


@pytest.fixture(scope="module")
def spark(request: pytest.FixtureRequest):  # -> SparkSession (pyspark may be absent here)
    """The process's local[2] session for this module (started again if a test stopped it, as
    the cluster test does), stopped at the end of the test session."""
    from custseg.engine.spark.session import get_session, stop_session

    session = get_session("local[2]", "custseg-tests")
    request.config.add_cleanup(stop_session)
    return session


def demo(n_rows: int, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    """Cleaned demo lines and the planted segment per customer (index customer_id, str)."""
    config = make_config(f"data.generator.n_rows={n_rows}", f"seed={seed}")
    source = load(config.data, config.seed)
    tx, _ = clean(source.transactions, config.clean)
    assert source.truth is not None
    truth = source.truth.customers.set_index("customer_id")["segment"]
    truth.index = truth.index.astype("str")
    return tx, truth


@dataclass
class Logged:
    uri: str  # the MLflow tracking URI it was logged to
    result: RunResult


def logged_run(tmp: Path, *overrides: str) -> Logged:
    """The whole pipeline with MLflow logging into tmp/mlflow.db, files under tmp/out."""
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    result = run_logged(make_config(*overrides, f"tracking.uri={uri}"), tmp / "out")
    return Logged(uri, result)


@pytest.fixture(scope="session")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> Logged:
    """engine=local on DATA, once for every module that compares a Spark run with it."""
    return logged_run(tmp_path_factory.mktemp("local"), "engine=local", *DATA)
