"""Every option of every config group, and every named experiment, composes and passes the
typed check; typos fail before any work, naming the key (as lightning-hydra-template's
test_configs.py guards its configs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from custseg.config import Config, ConfigError, groups, load, project_root
from custseg.config.schema import BasketColumn, RFMColumn, ValueQuantityColumn, VisitsColumn
from custseg.features import BUILDERS
from tests.conftest import clean_env

OPTIONS = [(g, o) for g, opts in sorted(groups().items()) if g != "experiment" for o in opts]
EXPERIMENTS = sorted(p.stem for p in (project_root() / "experiments").glob("*.yaml"))
NEEDS_A_PATH = {("data", "csv"): ["data.path=sales.csv"]}


def test_the_groups_are_the_packages():
    """conf/<group>/ names the package that implements it (experiment holds named runs)."""
    src = Path(__import__("custseg").__file__).parent
    for group in groups():
        if group != "experiment":
            assert (src / group).is_dir(), f"conf/{group} has no package custseg.{group}"


@pytest.mark.parametrize(("group", "option"), OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_every_group_option_composes_and_validates(group, option):
    extra = NEEDS_A_PATH.get((group, option), [])
    if group == "engine" and option == "spark":
        extra = ["segment=kmeans"]
    config = load([f"{group}={option}", *extra])
    assert isinstance(config, Config)
    block = getattr(config, group)
    assert getattr(block, "name", option) == option or not hasattr(block, "name")


def test_experiments_folder_is_the_experiment_group():
    assert sorted(groups()["experiment"]) == EXPERIMENTS


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_experiment_composes_and_validates(name):
    assert isinstance(load([f"+experiment={name}"]), Config)


def test_the_schema_knows_the_canonical_columns():
    from custseg.config.schema import Canonical
    from custseg.data.schema import CANONICAL

    assert Canonical.__args__ == CANONICAL


def test_the_schema_knows_the_columns_the_builders_build():
    """log1p choices are checked against the schema's column lists: they must be the sets'."""
    expected = {"value_quantity": ValueQuantityColumn, "rfm": RFMColumn, "basket": BasketColumn,
                "visits": VisitsColumn}
    for builder in BUILDERS:
        if builder.NAME in expected:
            assert set(builder.COLUMNS) == set(expected[builder.NAME].__args__), builder.NAME


@pytest.mark.parametrize(
    ("overrides", "key", "hint"),
    [
        (["rules.engine=fimm"], "rules.engine", "did you mean 'fim'"),
        (["segment=kmean"], "segment", "did you mean 'kmeans'"),
        (["rules.min_suport=0.1"], "rules.min_suport", "did you mean 'min_support'"),
        (["tuning=optuna", "tuning.selection.rule=parsimonius"], "tuning.selection.rule",
         "did you mean 'parsimonious'"),
        (["recommend.score=lfit"], "recommend.score", "did you mean 'lift'"),
        (["recommend.order=[crosssell,simlarity]"], "recommend.order[1]",
         "did you mean 'similarity'"),
        (["features=rfm", "features.log1p=[recency]"], "features.log1p[0]",
         "did you mean 'recency_days'"),
        (["seed=abc"], "seed", "not a whole number"),
        (["tuning=optuna", "tuning.n_trials=0"], "tuning.n_trials", "at least 1"),
        (["tuning=optuna", "tuning.storage=sqlit:///o.db"], "tuning.storage",
         "did you mean 'sqlite'"),
        (["rules.max_len=1"], "rules.max_len", "at least 2"),
        (["rules.min_support=2"], "rules.min_support", "at most 1"),
        (["data=csv", "data.path=x.csv", "data.encoding=utf8x"], "data.encoding",
         "did you mean 'utf-8'"),
        (["~recommend.weights.similarity"], "recommend.weights", "recommend.weights.similarity"),
        (["segment.search_space.n_clustrs={type: int, low: 2, high: 5}"], None,
         "did you mean 'n_clusters'"),
        (["engine=spark", "tuning=optuna"], "tuning", "local engine only"),
        (["data=csv"], "data.path", "required"),
    ],
)  # fmt: skip
def test_a_bad_value_names_its_key_and_what_would_work(overrides, key, hint):
    with pytest.raises(ConfigError) as err:
        load(overrides)
    message = str(err.value)
    if key is not None:
        assert message.startswith((key, overrides[-1])) or f"{key}:" in message, message
    assert hint in message, message


@pytest.mark.slow
def test_the_command_line_refuses_a_typo_before_reading_data(tmp_path):
    """The whole process, start to exit 2, on a key used only after the study (its time is
    measured in bench/, not asserted here)."""
    proc = subprocess.run(
        [sys.executable, "-m", "custseg", "tuning=optuna", "tuning.selection.rule=parsimonius"],
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "tuning.selection.rule" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "mlflow.db").exists()  # nothing started: no run, no store
