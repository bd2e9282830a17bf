from __future__ import annotations

import re

from custseg.cli import expand_overrides
from custseg.config import project_root


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
