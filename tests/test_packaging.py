"""The default config ships inside the package: a built wheel, installed anywhere, runs the demo
job from an empty folder (no checkout, no editable install)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from custseg.config import groups, project_root
from tests.conftest import clean_env


@pytest.mark.slow
def test_a_wheel_runs_the_demo_job_from_an_empty_folder(tmp_path: Path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                    "-q", "-w", str(wheels), str(project_root())], check=True,
                   capture_output=True, timeout=600)  # fmt: skip
    (wheel,) = wheels.glob("custseg-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for group, options in groups().items():
        for option in options:
            assert f"custseg/conf/{group}/{option}.yaml" in names, (group, option)
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)  # what pip install puts in site-packages
    empty = tmp_path / "empty"
    empty.mkdir()
    # PYTHONPATH puts the wheel's custseg before this checkout's editable install
    env = clean_env(PYTHONPATH=str(site))
    where = subprocess.run(
        [sys.executable, "-c", "import custseg; print(custseg.__file__)"],
        cwd=empty, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert where.stdout.strip().startswith(str(site))
    proc = subprocess.run(
        [sys.executable, "-m", "custseg", "data.generator.n_rows=3000", "report=none",
         "recommend.evaluate.enabled=false"],
        cwd=empty, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    client = MlflowClient(f"sqlite:///{empty / 'mlflow.db'}")
    (run,) = client.search_runs([client.get_experiment_by_name("custseg").experiment_id])
    assert run.info.status == "FINISHED" and run.data.params["data.name"] == "demo"
