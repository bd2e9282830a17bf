from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from custseg.cli import expand_overrides
from custseg.config import project_root
from tests.conftest import clean_env, make_config, run_logged


def test_mlflow_run_overrides_parameter_is_split_like_a_shell():
    argv = ["--overrides", "data=csv data.path='/my dir/a.csv' seed=3", "features=basket"]
    assert expand_overrides(argv) == [
        "data=csv", "data.path=/my dir/a.csv", "seed=3", "features=basket"
    ]  # fmt: skip
    assert expand_overrides(["--overrides", ""]) == []
    assert expand_overrides(["a=1"]) == ["a=1"]


def test_ci_runs_exactly_the_readme_test_command():
    readme = (project_root() / "README.md").read_text()
    commands = re.findall(r"```bash\n(.+?)\n```", readme)
    install_and_run, install_and_test = commands[0], commands[1]
    assert install_and_run.endswith("python -m custseg")
    assert install_and_test.endswith("pytest")
    ci = (project_root() / ".ci" / "run").read_text().splitlines()
    assert install_and_test in ci


# --- the real command line --------------------------------------------------------------------


def _custseg(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "custseg", *args], cwd=cwd,
                          env=env or clean_env(), capture_output=True, text=True, timeout=600,
                          check=False)  # fmt: skip


def _all_runs(uri: str) -> list:
    client = MlflowClient(uri)
    return [r for e in client.search_experiments() for r in client.search_runs([e.experiment_id])]


@pytest.mark.parametrize("flag", ["--help", "-h", "help"])
def test_help_lists_every_command_with_an_example(flag, tmp_path):
    proc = _custseg(flag, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    lines = [line.strip() for line in out.splitlines()]
    for command, example in (("run [OVERRIDES]", "custseg data="), ("score ARGS", "custseg score"),
                             ("drift [OVERRIDES]", "custseg drift"),
                             ("inspect [OVERRIDES | FILE]", "custseg inspect data="),
                             ("custseg-compare [ARGS]", "custseg-compare --")):  # fmt: skip
        (i,) = [i for i, line in enumerate(lines) if line.startswith(command)]
        assert any(line.startswith(example) for line in lines[i + 1 : i + 4]), command
    assert "custseg run --help" in out and "--cfg job" in out
    assert "== Configuration groups ==" not in out  # ours, not Hydra's


@pytest.mark.slow
def test_hydra_help_for_the_run_stays_reachable(tmp_path):
    proc = _custseg("run", "--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "== Configuration groups ==" in proc.stdout and "data: csv, demo" in proc.stdout
    proc = _custseg("run", "--cfg", "job", "data=groceries", cwd=tmp_path)
    assert proc.returncode == 0 and "name: groceries" in proc.stdout


def test_a_column_map_that_cannot_load_exits_2_before_any_run(tmp_path):
    path = tmp_path / "sales.csv"
    pd.DataFrame({"Cust": ["a", "b"], "Day": ["2024-01-02", "2024-01-03"], "Sku": ["x", "y"],
                  "Units": [1, 2], "Price": [1.0, 2.0]}).to_csv(path, index=False)  # fmt: skip
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    start = time.perf_counter()
    proc = _custseg("data=csv", f"data.path={path}", "data.columns.customer_id=Customer",
                    "data.columns.invoice_date=Day", "data.columns.product_id=SKU",
                    "data.columns.quantity=Units", "data.columns.unit_price=Day",
                    "data.columns.invoice_id=null", "data.columns.amount=null",
                    f"tracking.uri={uri}", f"hydra.run.dir={tmp_path / 'out'}", cwd=tmp_path)
    elapsed = time.perf_counter() - start
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    err = proc.stderr
    assert err.count("custseg: error: ") == 1 and "4 problem(s)" in err
    assert "(1) data.columns.customer_id='Customer'" in err and "did you mean 'Cust'?" in err
    assert "(2) data.columns.product_id='SKU'" in err and "did you mean 'Sku'?" in err
    assert "(3) data.columns.invoice_date='Day': data.columns.invoice_date and " in err
    assert "(4) data.columns.unit_price='Day': non-numeric values" in err
    # no run at all, let alone a FAILED one, and no pipeline stage started
    assert not (tmp_path / "mlflow.db").exists() or _all_runs(uri) == []
    assert "[1/7] load" not in proc.stdout + err
    print(f"bad map refused in {elapsed:.1f} s (process start included)")


@pytest.fixture(scope="module")
def logged_model(tmp_path_factory) -> dict:
    """A run on a small demo, logged with its model into a fresh store; its lines as a file."""
    tmp = tmp_path_factory.mktemp("score")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    result = run_logged(make_config(f"tracking.uri={uri}", "data.generator.n_rows=20000",
                                    "report=none"), tmp / "out")  # fmt: skip
    path = tmp / "next.csv"
    result.transactions.head(4000).to_csv(path, index=False)
    return {"tmp": tmp, "uri": uri, "model": result.model_uri, "data": path}


def _score(m: dict, out: Path) -> subprocess.CompletedProcess:
    return _custseg("score", "--model", m["model"], "--data", str(m["data"]), "--out", str(out),
                    "--tracking-uri", m["uri"], cwd=m["tmp"])  # fmt: skip


@pytest.mark.slow
def test_score_writes_the_format_its_out_suffix_names(logged_model):
    m = logged_model
    assert _score(m, m["tmp"] / "scores.parquet").returncode == 0
    proc = _score(m, m["tmp"] / "scores.csv")
    assert proc.returncode == 0, proc.stderr[-3000:]
    exact = pd.read_parquet(m["tmp"] / "scores.parquet")
    people = pd.read_csv(m["tmp"] / "scores.csv", dtype=str, keep_default_na=False)
    assert list(people.columns) == list(exact.columns) and len(people) == len(exact) > 0
    assert people["customer_id"].tolist() == exact["customer_id"].astype(str).tolist()
    for col in ("recommendations", "sources"):  # lists become one readable cell each
        assert people[col].tolist() == [";".join(map(str, v)) for v in exact[col]]
    assert people["recommendations"].str.contains(";").any()
    # an unknown suffix is a usage error before any run opens
    client = MlflowClient(m["uri"])
    before = len(client.search_runs([client.get_experiment_by_name("custseg-scoring")
                                     .experiment_id]))  # fmt: skip
    proc = _score(m, m["tmp"] / "scores.xlsx")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "custseg score: error: --out" in proc.stderr and "'.xlsx'" in proc.stderr
    assert not (m["tmp"] / "scores.xlsx").exists()
    after = client.search_runs([client.get_experiment_by_name("custseg-scoring").experiment_id])
    assert len(after) == before == 2


def _mlflow_run(folder: Path, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mlflow", "run", ".", "--env-manager", "local", *flags, "-P",
         "overrides=report=none recommend=none rules=none data.generator.n_rows=3000"],
        cwd=folder, env=clean_env(), capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip


@pytest.mark.slow
def test_mlflow_run_logs_into_the_configured_experiment(tmp_path):
    # the project file alone: the command runs the installed custseg
    (tmp_path / "MLproject").write_text((project_root() / "MLproject").read_text())
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    proc = _mlflow_run(tmp_path)  # no --experiment-name: mlflow opens its run in Default
    assert proc.returncode == 0, proc.stderr[-3000:]
    client = MlflowClient(uri)
    (run,) = client.search_runs([client.get_experiment_by_name("custseg").experiment_id])
    assert run.info.status == "FINISHED" and run.data.metrics  # the results are in 'custseg'
    assert run.data.tags["mlflow.source.type"] == "PROJECT"  # and say mlflow run started them
    (stub,) = client.search_runs([client.get_experiment_by_name("Default").experiment_id])
    assert stub.data.metrics == {} and stub.data.tags["custseg.run_id"] == run.info.run_id
    assert run.data.tags["custseg.launcher_run"] == stub.info.run_id
    assert "--experiment-name custseg" in stub.data.tags["mlflow.note.content"]
    # as documented in MLproject: one run, the launcher's own, in the configured experiment
    proc = _mlflow_run(tmp_path, "--experiment-name", "custseg")
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = client.search_runs([client.get_experiment_by_name("custseg").experiment_id])
    assert len(runs) == 2 and all(r.info.status == "FINISHED" and r.data.metrics for r in runs)
    assert len(_all_runs(uri)) == 3  # no second placeholder
    assert "custseg.launcher_run" not in runs[0].data.tags  # the launcher's run was used
