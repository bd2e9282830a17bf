"""Segment drift: counting by hand, the split date, planted truth on demo data, a given model,
Online Retail."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custseg.clean import clean
from custseg.config import Config
from custseg.data.sources import load
from custseg.model import CustomerModel
from custseg.monitoring.drift import (
    DriftResult,
    drift,
    migration_table,
    segmentation_only,
    size_shares,
    split_date,
    value_migration,
)
from custseg.report.migration_plot import migration_plot
from tests.conftest import make_config

SMALL = "data.generator.n_rows=20000"


@pytest.fixture(scope="module")
def config() -> Config:
    return make_config(SMALL, "features=basket", "report=none")


@pytest.fixture(scope="module")
def demo(config: Config) -> tuple[pd.DataFrame, pd.DataFrame]:
    loaded = load(config.data, config.seed)
    tx, _ = clean(loaded.transactions, config.clean)
    return tx, loaded.truth.customers


@pytest.fixture(scope="module")
def demo_drift(demo: tuple[pd.DataFrame, pd.DataFrame], config: Config) -> DriftResult:
    assert config.segment.name == "kmeans" and config.segment.n_clusters == 5
    return drift(demo[0], config)


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


def test_value_migration_by_hand() -> None:
    a = pd.Series([0, 0, 1, 1, 2], index=["c1", "c2", "c3", "c4", "c5"])
    b = pd.Series([0, 1, 1, 1, 0], index=["c1", "c2", "c3", "c4", "c9"])
    value = pd.Series([10.0, 30.0, 5.0, 5.0, 99.0], index=["c1", "c2", "c3", "c4", "c5"])
    table, moved = value_migration(a, b, value)
    expected = np.array([[10.0, 30.0, 0.0], [0.0, 10.0, 0.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(table.to_numpy(), expected)  # c5 left: its 99 is in no cell
    assert moved == pytest.approx(30 / 50)  # c2 moved, holding 30 of the 50 still there


@pytest.mark.slow
def test_drift_with_a_value_stage_says_how_much_value_moved(
    demo: tuple[pd.DataFrame, pd.DataFrame], demo_drift: DriftResult
) -> None:
    tx = demo[0]
    valued = make_config(SMALL, "features=basket", "report=none", "value=bgnbd")
    r = drift(tx, valued)
    assert r.value_measure == "clv"
    both = r.migration.to_numpy().sum()
    assert both == r.customers_both and r.value_migration.shape == r.migration.shape
    assert (r.value_migration.to_numpy() > 0).sum() == (r.migration.to_numpy() > 0).sum()
    diagonal = np.trace(r.value_migration.to_numpy()) / r.value_migration.to_numpy().sum()
    assert r.value_moved_share == pytest.approx(1 - diagonal)
    assert demo_drift.value_migration is None  # value=none: nothing to say


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
        with pytest.raises(ValueError, match="monitoring.split"):
            split_date(tx, bad)


def test_drift_on_demo(demo_drift: DriftResult, demo: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    r = demo_drift
    tx, truth = demo
    dates = pd.to_datetime(tx["invoice_date"])
    mid = (dates.min() + (dates.max() - dates.min()) / 2).normalize()
    assert r.split == mid
    assert r.migration.to_numpy().sum() == r.customers_both
    assert r.customers_both <= min(r.customers_a, r.customers_b)
    assert r.customers_a == tx.loc[dates < mid, "customer_id"].nunique()
    assert r.customers_b == tx.loc[dates >= mid, "customer_id"].nunique()
    assert r.sizes["share_a"].sum() == pytest.approx(1.0)
    assert r.sizes["share_b"].sum() == pytest.approx(1.0)
    assert np.allclose(r.sizes["shift"], r.sizes["share_b"] - r.sizes["share_a"])
    assert r.ari_refit > 0.8
    assert 0.0 <= r.moved_share <= 1.0
    assert len(r.labels_b_by_a) == len(r.labels_b_by_b) == r.customers_b

    # planted truth: lapsed customers buy only in the first 40% of the year, so not in B
    lapsed = set(truth.loc[truth["segment"] == "lapsed", "customer_id"].astype(str))
    in_b = set(r.labels_b_by_a.index)
    assert len(lapsed) >= 50
    assert len(lapsed & in_b) <= 0.01 * len(lapsed)


def test_drift_applies_model_a_to_period_b(
    demo_drift: DriftResult, demo: tuple[pd.DataFrame, pd.DataFrame], config: Config
) -> None:
    """Model A is a customer model fitted on period A alone: refitting it here and applying it
    to B gives B's labels; the migration rows are its labels on A."""
    tx = demo[0]
    r = demo_drift
    dates = pd.to_datetime(tx["invoice_date"])
    model_a = CustomerModel(segmentation_only(config)).fit(tx[dates < r.split])
    assert model_a.rules_ is None and not model_a.recommenders_  # segmentation only
    pd.testing.assert_series_equal(model_a.segment(tx[dates >= r.split], clean=False),
                                   r.labels_b_by_a, check_names=False)  # fmt: skip
    labels_a = model_a.segment(tx[dates < r.split], clean=False)
    expected, moved = migration_table(labels_a, r.labels_b_by_a)
    pd.testing.assert_frame_equal(r.migration, expected)
    assert r.moved_share == moved


def test_drift_with_a_given_model_scores_both_periods_with_it(
    demo: tuple[pd.DataFrame, pd.DataFrame], config: Config
) -> None:
    """A given model (here fitted on everything, with other parameters than the drift config's)
    labels both periods, and the refit on B uses that model's settings, not the config's."""
    tx = demo[0]
    other = make_config(SMALL, "features=rfm", "segment.n_clusters=3", "rules=none",
                        "recommend=none", "report=none")  # fmt: skip
    model = CustomerModel(other).fit(tx)
    r = drift(tx, config, model)
    dates = pd.to_datetime(tx["invoice_date"])
    pd.testing.assert_series_equal(r.labels_b_by_a, model.segment(tx[dates >= r.split],
                                                                  clean=False))  # fmt: skip
    a = model.segment(tx[dates < r.split], clean=False)
    assert r.customers_a == len(a) and r.sizes["share_a"].sum() == pytest.approx(1.0)
    assert set(r.labels_b_by_a) <= {0, 1, 2} and set(r.labels_b_by_b) <= {0, 1, 2}
    assert list(r.migration.index) == [0, 1, 2]


def test_drift_too_few_customers_names_the_setting(
    demo: tuple[pd.DataFrame, pd.DataFrame], config: Config
) -> None:
    tx = demo[0]
    last = pd.to_datetime(tx["invoice_date"]).max()  # period B: the last invoice's customers
    late = make_config(SMALL, "features=basket", f"monitoring.split='{last}'")
    with pytest.raises(ValueError, match=r"monitoring.split.*period B.*fewer than"):
        drift(tx, late)


def test_migration_plot_writes_png(demo_drift: DriftResult, tmp_path: Path) -> None:
    path = migration_plot(demo_drift, tmp_path / "drift" / "migration.png", "demo / basket")
    assert path.exists() and path.stat().st_size > 5_000


@pytest.mark.slow
def test_drift_on_online_retail(online_retail_path: Path, tmp_path: Path) -> None:
    cfg = make_config("data=online_retail", "features=rfm", "monitoring.split=2011-07-01")
    tx, _ = clean(load(cfg.data, cfg.seed).transactions, cfg.clean)
    r = drift(tx, cfg)
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
