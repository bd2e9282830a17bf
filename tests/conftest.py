"""Shared fixtures: the public datasets folder, composed configs, a throwaway MLflow store."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from custseg.cli import conf_dir, project_root

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


def make_cfg(*overrides: str) -> DictConfig:
    """The app's config composed exactly as the command line would, with these overrides."""
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        return compose("config", overrides=list(overrides))


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
