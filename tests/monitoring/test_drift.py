"""Segment drift: counting by hand, the split date, planted truth on demo data, Online Retail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from custseg.data import sources
from custseg.data.clean import clean
from custseg.data.schema import validate
from custseg.data.synthetic import DemoParams, generate
from custseg.monitoring.drift import (
    DriftResult,
    drift,
    migration_plot,
    migration_table,
    size_shares,
    split_date,
)
from tests.conftest import make_cfg


def _cfgs(*overrides: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    cfg = make_cfg(*overrides)
    return (
        OmegaConf.to_container(cfg.features, resolve=True),  # type: ignore[return-value]
        OmegaConf.to_container(cfg.algorithm, resolve=True),
        OmegaConf.to_container(cfg.metrics, resolve=True),
    )


@pytest.fixture(scope="module")
def demo() -> tuple[pd.DataFrame, pd.DataFrame]:
    data = generate(DemoParams(n_rows=100_000), seed=42)
    clean_cfg = OmegaConf.to_container(make_cfg().clean)
    tx, _ = clean(validate(data.transactions, "demo"), clean_cfg)  # type: ignore[arg-type]
    return tx, data.truth.customers


@pytest.fixture(scope="module")
def demo_drift(demo: tuple[pd.DataFrame, pd.DataFrame]) -> DriftResult:
    features, algorithm, metrics = _cfgs("features=basket")
    assert algorithm["name"] == "kmeans" and algorithm["n_clusters"] == 5
    return drift(demo[0], features, algorithm, None, 42, metrics)


def test_migration_table_by_hand() -> None:
    a = pd.Series([0, 0, 1, 1, 2], index=["c1", "c2", "c3", "c4", "c5"])
    b = pd.Series([0, 1, 1, 1, 0], index=["c1", "c2", "c3", "c4", "c9"])  # c5 gone, c9 new
    table, moved = migration_table(a, b)
    assert list(table.index) == [0, 1, 2] and list(table.columns) == [0, 1, 2]
    expected = np.array([[1, 1, 0], [0, 2, 0], [0, 0, 0]])
    assert (table.to_numpy() == expected).all()
    assert table.to_numpy().sum() == 4  # customers in both periods only
    assert moved == pytest.approx(1 / 4)  # c2 moved from 0 to 1

    sizes = size_shares(a, b)
    assert sizes.loc[0, "share_a"] == pytest.approx(0.4)
    assert sizes.loc[2, "share_a"] == pytest.approx(0.2) and sizes.loc[2, "share_b"] == 0.0
    assert sizes.loc[1, "shift"] == pytest.approx(0.6 - 0.4)


def test_migration_table_puts_unassigned_last() -> None:
    a = pd.Series([-1, 0, 1], index=["x", "y", "z"])
    table, moved = migration_table(a, pd.Series([0, 0, -1], index=["x", "y", "z"]))
    assert list(table.index) == [0, 1, -1]
    assert moved == pytest.approx(2 / 3)


def test_split_date_default_is_midpoint_and_out_of_range_fails() -> None:
    tx = pd.DataFrame(
        {
            "invoice_date": pd.to_datetime(
                ["2011-01-01 06:00", "2011-01-03 00:00", "2011-01-11 18:00"]
            )
        }
    )  # range 10.5 days: midpoint 2011-01-06 12:00, normalized to midnight
    assert split_date(tx, None) == pd.Timestamp("2011-01-06")
    assert split_date(tx, "2011-01-03") == pd.Timestamp("2011-01-03")
    for bad in ("2010-12-01", "2011-01-01", "2011-01-12"):
        with pytest.raises(ValueError, match="drift.split"):
            split_date(tx, bad)


def test_drift_on_demo(demo_drift: DriftResult, demo: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    r = demo_drift
    tx, truth = demo
    dates = pd.to_datetime(tx["invoice_date"])
    mid = (dates.min() + (dates.max() - dates.min()) / 2).normalize()
    assert r.split == mid
    assert r.migration.to_numpy().sum() == r.customers_both
    assert r.customers_both <= min(r.customers_a, r.customers_b)
    assert r.sizes["share_a"].sum() == pytest.approx(1.0)
    assert r.sizes["share_b"].sum() == pytest.approx(1.0)
    assert np.allclose(r.sizes["shift"], r.sizes["share_b"] - r.sizes["share_a"])
    assert r.ari_refit > 0.8
    assert 0.0 <= r.moved_share <= 1.0
    assert len(r.labels_b_by_a) == len(r.labels_b_by_b) == r.customers_b

    # planted truth: lapsed customers buy only in the first 40% of the year, so not in B
    lapsed = set(truth.loc[truth["segment"] == "lapsed", "customer_id"])
    in_b = set(r.labels_b_by_a.index)
    assert len(lapsed) > 100
    assert len(lapsed & in_b) <= 0.01 * len(lapsed)


def test_drift_too_few_customers_names_the_setting(
    demo: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    tx = demo[0]
    features, algorithm, metrics = _cfgs("features=basket")
    last = pd.to_datetime(tx["invoice_date"]).max()  # period B: the last invoice's customers
    with pytest.raises(ValueError, match="drift.split.*period B.*fewer than"):
        drift(tx, features, algorithm, str(last), 42, metrics)


def test_migration_plot_writes_png(demo_drift: DriftResult, tmp_path: Path) -> None:
    path = migration_plot(demo_drift, tmp_path / "drift" / "migration.png", "demo / basket")
    assert path.exists() and path.stat().st_size > 5_000


@pytest.mark.slow
def test_drift_on_online_retail(online_retail_path: Path, tmp_path: Path) -> None:
    cfg = make_cfg("data=online_retail", "features=rfm")
    data_cfg = OmegaConf.to_container(cfg.data, resolve=True)
    tx, _ = clean(
        sources.load(data_cfg).transactions,  # type: ignore[arg-type]
        OmegaConf.to_container(cfg.clean, resolve=True),  # type: ignore[arg-type]
    )
    features, algorithm, metrics = _cfgs("features=rfm")
    r = drift(tx, features, algorithm, "2011-07-01", 42, metrics)
    assert r.split == pd.Timestamp("2011-07-01")
    assert r.migration.to_numpy().sum() == r.customers_both > 0
    assert r.sizes["share_a"].sum() == pytest.approx(1.0)
    assert -1.0 <= r.ari_refit <= 1.0
    title = "Online Retail / rfm / kmeans-k5: segments before and after 2011-07-01"
    png = migration_plot(r, tmp_path / "online_retail_migration.png", title)
    assert png.stat().st_size > 5_000
    print(
        f"\nOnline Retail drift: ARI {r.ari_refit:.3f}, moved {r.moved_share:.3f}, "
        f"A {r.customers_a}, B {r.customers_b}, both {r.customers_both}\n"
        f"{r.migration}\n{r.sizes.round(3)}"
    )
