"""Shared fixtures: the public datasets folder, composed configs, a throwaway MLflow store."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from custseg.config import Config, load, project_root
from custseg.result import RunResult

SHARED = Path(os.environ.get("CUSTSEG_SHARED_DATA", project_root().parent / "shared" / "data"))


def shared_file(*parts: str) -> Path:
    """Path under ../shared/data; skip when absent, fail instead under CI=true."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        msg = f"public dataset {path} not found"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg + " (CI=true: shared data must be present)")
        pytest.skip(msg)
    return path


def make_config(*overrides: str) -> Config:
    """The app's typed config, composed and checked exactly as the command line does."""
    return load(list(overrides))


def run_logged(config: Config, out: Path) -> RunResult:
    """The pipeline as the CLI runs it: every stage, logged to MLflow, files under `out`."""
    from custseg.pipeline import run
    from custseg.tracking.hooks import MlflowHooks

    return run(config, out, MlflowHooks(out))


@pytest.fixture
def tracking_uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


@pytest.fixture(scope="session")
def online_retail_path() -> Path:
    return shared_file("online_retail", "online_retail.csv.gz")


@pytest.fixture(scope="session")
def zeotap_dir() -> Path:
    shared_file("zeotap", "Transactions.csv")
    return SHARED / "zeotap"


@pytest.fixture(scope="session")
def groceries_path() -> Path:
    return shared_file("groceries_kaggle", "Groceries_dataset.csv")


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without MLFLOW_* settings, with this venv's scripts on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")} | extra
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(
    url: str, proc: subprocess.Popen, timeout: float = 180, log: Path | None = None
) -> None:
    """Poll `url` until it answers 200; fail with the server's stderr (or its `log` file, for a
    server writing there) if it exits first."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            said = log.read_text() if log is not None else proc.stderr.read()
            raise AssertionError(f"server exited early: {said[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} not up after {timeout} s")


@pytest.fixture
def mlflow_server(tmp_path: Path) -> Iterator[str]:
    """A real tracking server on 127.0.0.1 (SQLite backend, artifacts in
    tmp_path/server-artifacts), stopped after the test; yields its URL."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}",
         "--artifacts-destination", str(tmp_path / "server-artifacts"), "--workers", "2"],
        env=clean_env(), cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health", server)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)
