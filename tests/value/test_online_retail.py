"""The value stage on UCI Online Retail: the issue's bar (the held-out prediction beats the naive
"same rate as before" on MAE) and the fit the literature reports for this data."""

from __future__ import annotations

from pathlib import Path

import pytest

from custseg.clean import clean
from custseg.data.sources import load
from custseg.value import ValueModel, validate
from tests.conftest import make_config

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]


@pytest.fixture(scope="module")
def retail(online_retail_path: Path):
    cfg = make_config("data=online_retail", "value=bgnbd")
    tx, _ = clean(load(cfg.data, cfg.seed).transactions, cfg.clean)
    return cfg.value, tx


def test_the_holdout_prediction_beats_the_naive_rate(retail):
    spec, tx = retail
    check = validate(spec, tx)  # the default split: the last 180 days held out
    assert check is not None
    m = check.metrics
    assert m["holdout_days"] == 180 and m["customers"] > 2500
    assert m["mae"] < m["mae_naive"]
    assert m["correlation"] > 0.75
    cal = check.calibration
    assert cal["customers"].sum() == m["customers"]
    # the more a customer bought before, the more they buy later: actual and predicted agree
    assert cal["predicted"].is_monotonic_increasing
    assert cal["actual"].iloc[-1] > cal["actual"].iloc[0]


def test_online_retail_buyers_hardly_drop_out(retail):
    """BG/NBD by maximum likelihood on Online Retail's purchase days: a purchase rate of about
    one per 84 days (r / alpha with r 0.82, alpha 69) and almost no dropout (a near 0), so
    P(alive) stays near 1; recency, not P(alive), is what names its lapsed personas."""
    spec, tx = retail
    model = ValueModel(spec).fit(tx)
    p = model.purchase_params_
    assert p["r"] == pytest.approx(0.82, rel=0.05) and p["alpha"] == pytest.approx(69, rel=0.05)
    assert p["a"] < 0.05
    value = model.predict(tx)
    assert len(value) == tx["customer_id"].nunique()
    assert value["p_alive"].min() > 0.5
    assert (value["clv"] > 0).all()
