"""The value model on customers drawn from its own story: it must find what was planted."""

from __future__ import annotations

import copy

import cloudpickle
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from custseg.config.value import Value
from custseg.notices import collecting
from custseg.value import Holdout, ValueModel, validate
from tests.conftest import make_config
from tests.value.planted import PURCHASE, SPEND, Planted, simulate

pytestmark = pytest.mark.slow  # pymc-marketing's import alone takes seconds

COLUMNS = ["frequency", "recency", "T", "monetary_value", "p_alive", "expected_purchases"]


@pytest.fixture(scope="module")
def spec() -> Value:
    # a quarter held out of the planted year: three quarters to learn the rates from
    value = make_config("value=bgnbd", "value.holdout_days=90").value
    assert isinstance(value, Value)
    return value


@pytest.fixture(scope="module")
def planted() -> Planted:
    return simulate(n=5000)


@pytest.fixture(scope="module")
def fitted(spec: Value, planted: Planted) -> ValueModel:
    return ValueModel(spec).fit(planted.lines)


@pytest.fixture(scope="module")
def predicted(fitted: ValueModel, planted: Planted) -> pd.DataFrame:
    return fitted.predict(planted.lines)


def test_planted_parameters_are_recovered(fitted: ValueModel, planted: Planted) -> None:
    assert fitted.end_ == planted.end and fitted.skipped_ == {}
    assert fitted.spend_params_ is not None
    for name, truth in PURCHASE.items():
        assert fitted.purchase_params_[name] == pytest.approx(truth, rel=0.15), name
    for name, truth in SPEND.items():
        assert fitted.spend_params_[name] == pytest.approx(truth, rel=0.15), name


def test_p_alive_tells_the_living_from_the_dead(predicted: pd.DataFrame, planted: Planted) -> None:
    alive = planted.alive.reindex(predicted.index)
    assert alive.notna().all() and len(predicted) == len(planted.alive)
    p = predicted["p_alive"]
    assert p.between(0.0, 1.0).all()
    assert (p[predicted["frequency"] == 0] == 1.0).all()  # BG/NBD: no repeat, no dropout yet
    repeat = predicted["frequency"] > 0  # where P(alive) has evidence to weigh
    assert roc_auc_score(alive[repeat], p[repeat]) > 0.8
    assert p[alive].mean() > p[~alive].mean() + 0.3


def test_predictions_are_complete_and_add_up(
    spec: Value, fitted: ValueModel, predicted: pd.DataFrame, planted: Planted
) -> None:
    assert list(predicted.columns) == [*COLUMNS, "expected_order_value", "clv"]
    assert predicted.drop(columns="monetary_value").notna().all().all()
    assert (predicted[["expected_purchases", "expected_order_value", "clv"]] > 0).all().all()
    # undiscounted, the CLV is the order value times the purchases of clv_months of 30 days
    flat = copy.copy(fitted)
    flat.spec = spec.model_copy(update={"discount_rate": 0.0, "horizon_days": 30 * spec.clv_months})
    plain = flat.predict(planted.lines)
    np.testing.assert_allclose(
        plain["clv"], plain["expected_order_value"] * plain["expected_purchases"], rtol=1e-9
    )
    assert (predicted["clv"] < plain["clv"]).all()  # discounting lowers every value


def test_a_served_customer_gets_the_batch_answer(
    fitted: ValueModel, predicted: pd.DataFrame, planted: Planted
) -> None:
    some = predicted.index[::50]
    lines = planted.lines[planted.lines["customer_id"].isin(some)]
    pd.testing.assert_frame_equal(fitted.predict(lines, end=planted.end), predicted.loc[some])


def test_fit_predict_is_fit_then_predict_on_one_summary(
    spec: Value, fitted: ValueModel, predicted: pd.DataFrame, planted: Planted
) -> None:
    once = ValueModel(spec)
    pd.testing.assert_frame_equal(once.fit_predict(planted.lines), predicted)
    assert once.purchase_params_ == fitted.purchase_params_ and once.end_ == fitted.end_


def test_pickled_model_is_small_and_predicts_the_same(
    fitted: ValueModel, predicted: pd.DataFrame, planted: Planted
) -> None:
    blob = cloudpickle.dumps(fitted)
    assert len(blob) < 100_000
    again = cloudpickle.loads(blob)
    assert not [k for k, v in vars(again).items() if isinstance(v, pd.DataFrame)]
    pd.testing.assert_frame_equal(again.predict(planted.lines), predicted)


def test_holdout_beats_the_naive_rate(spec: Value, planted: Planted) -> None:
    holdout = validate(spec, planted.lines)
    assert isinstance(holdout, Holdout)
    assert holdout.cutoff == planted.end - pd.Timedelta(days=spec.holdout_days)
    m = holdout.metrics
    first = planted.lines.groupby("customer_id")["invoice_date"].min()
    assert m["customers"] == (first.dt.normalize() <= holdout.cutoff).sum()
    assert m["holdout_days"] == spec.holdout_days
    assert m["mae"] < 0.85 * m["mae_naive"]
    assert m["predicted_total"] == pytest.approx(m["actual_total"], rel=0.1)
    assert m["correlation"] > 0.4
    table = holdout.calibration
    assert list(table.index) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert table["customers"].sum() == m["customers"]
    weighted = (table["predicted"] * table["customers"]).sum()
    assert weighted == pytest.approx(m["predicted_total"], rel=1e-9)
    assert table.loc["0", "naive"] == 0.0  # no repeat purchase, no rate to carry on


def test_priceless_lines_give_purchases_but_no_clv(
    spec: Value, fitted: ValueModel, predicted: pd.DataFrame, planted: Planted
) -> None:
    lines = planted.lines.drop(columns="amount")
    warned: dict[str, str] = {}
    with collecting(warned):
        model = ValueModel(spec).fit(lines)
    assert model.spend_params_ is None
    assert model.skipped_["clv"].startswith("no amount column")
    assert "no expected order value or CLV: no amount column" in warned["value.clv_skipped"]
    assert model.purchase_params_ == pytest.approx(fitted.purchase_params_, rel=1e-9)
    got = model.predict(lines)
    assert list(got.columns) == COLUMNS
    pd.testing.assert_series_equal(got["p_alive"], predicted["p_alive"])
