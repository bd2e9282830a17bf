"""Demo baskets and the shared datasets' cleaned lines, built once per package (slow)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from custseg.clean import clean
from custseg.data import sources
from custseg.rules.baskets import Baskets
from tests.conftest import make_config
from tests.rules.helpers import demo_baskets


@pytest.fixture(scope="package")
def demo30k() -> Baskets:
    return demo_baskets(30_000, 1)[0]


def _cleaned(data: str) -> pd.DataFrame:
    """A shared dataset's lines as a run cleans them (conf/data/<data>.yaml, conf/clean)."""
    cfg = make_config(f"data={data}")
    tx, _ = clean(sources.load(cfg.data, cfg.seed).transactions, cfg.clean)
    return tx


@pytest.fixture(scope="package")
def online_retail_lines(online_retail_path: Path) -> pd.DataFrame:
    return _cleaned("online_retail")


@pytest.fixture(scope="package")
def groceries_lines(groceries_path: Path) -> pd.DataFrame:
    return _cleaned("groceries")
