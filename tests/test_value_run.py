"""The value stage inside a whole run: fitted once into the customer model, validated on the
last days, logged, profiled per segment, drawn, reported and served; with the offers ranked by
expected value (recommend.rank_by=expected_value), which reads P(alive)."""

from __future__ import annotations

import mlflow
import mlflow.pyfunc
import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from custseg.tracking.pyfunc import to_model_input
from tests.conftest import make_config, run_logged

SMALL = "data.generator.n_rows=20000"


@pytest.fixture(scope="module")
def valued(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("value_run")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    config = make_config(f"tracking.uri={uri}", SMALL, "value=bgnbd", "value.holdout_days=60",
                         "recommend.rank_by=expected_value")  # fmt: skip
    return run_logged(config, tmp / "out"), uri, tmp


@pytest.mark.slow
def test_a_valued_run_logs_every_customers_value_and_its_check(valued):
    result, uri, _ = valued
    run = MlflowClient(uri).get_run(result.run_id)
    m = run.data.metrics
    for name in ("r", "alpha", "a", "b", "p", "q", "v"):
        assert m[f"value.param.{name}"] > 0, name
    assert m["value.customers"] == len(result.features)
    for name in ("mae", "mae_naive", "correlation"):
        assert np.isfinite(m[f"value.holdout.{name}"]), name
    names = {a.path for a in MlflowClient(uri).list_artifacts(result.run_id)}
    assert {"customer_value.parquet", "value_profile.parquet", "value_calibration.parquet",
            "clv_by_segment.png", "p_alive_matrix.png", "value_calibration.png"} <= names
    value = result.value
    assert value.index.equals(result.features.index.astype("str"))
    assert value["p_alive"].between(0, 1).all() and (value["clv"] >= 0).all()
    assert m["value.clv_total"] == pytest.approx(value["clv"].sum())


@pytest.mark.slow
def test_segment_value_adds_up_and_reaches_the_report(valued):
    result, _, _ = valued
    vp = result.profiles.value
    segments = vp.drop(index="all")
    assert segments["customers"].sum() == vp.loc["all", "customers"] == len(result.value)
    assert segments["clv_total"].sum() == pytest.approx(vp.loc["all", "clv_total"])
    assert segments["clv_share"].sum() == pytest.approx(1.0)
    lapsed = (result.value["p_alive"] < 0.5).mean()
    assert vp.loc["all", "lapsed_share"] == pytest.approx(lapsed)
    html = result.report.read_text()
    assert "Customer value (what they are worth next)" in html
    assert "share of future value" in html and "predictions checked on held-out days" in html
    assert all("P(alive)" in d for d in result.personas["description"])


@pytest.mark.slow
def test_the_served_model_answers_each_customers_value(valued):
    result, uri, _ = valued
    mlflow.set_tracking_uri(uri)
    model = mlflow.pyfunc.load_model(result.model_uri)
    tx = result.transactions
    some = tx["customer_id"].astype(str).drop_duplicates().head(5)
    lines = tx[tx["customer_id"].astype(str).isin(some)]
    scored = model.predict(to_model_input(lines)).set_index("customer_id")
    fitted = result.model.value(lines, clean=False)
    fitted.index = fitted.index.astype(str)
    for column in ("p_alive", "expected_purchases", "clv"):
        np.testing.assert_allclose(scored[column].to_numpy(dtype=float),
                                   fitted.loc[scored.index, column].to_numpy(dtype=float))
    assert scored["p_alive"].dtype == np.float64


@pytest.mark.slow
def test_offers_ranked_by_expected_value_are_logged_reported_and_served(valued):
    result, uri, _ = valued
    recs = result.recommendations
    assert {"expected_value", "rank"} <= set(recs.columns)
    # each offer's worth: P(purchase at its relevance place) x the item's value x P(alive)
    p_alive = result.value["p_alive"].reindex(recs["customer_id"].astype(str)).to_numpy()
    ev = result.model.expected_
    own = ev.chance_at(recs["relevance_rank"].to_numpy()) * ev.value_of(recs["item"])
    np.testing.assert_allclose(recs["expected_value"].to_numpy(), own * p_alive, rtol=1e-12)
    assert (recs["relevance_rank"] > recs["rank"]).any()  # the value ranking moved offers up
    m = MlflowClient(uri).get_run(result.run_id).data.metrics
    assert m["eval.custseg.revenue_at_10"] > m["eval.custseg_relevance.revenue_at_10"]
    names = {a.path for a in MlflowClient(uri).list_artifacts(result.run_id)}
    assert {"segment_offers.parquet", "expected_value.json"} <= names
    offers = result.offers
    assert set(offers["segment"]) == set(result.segments["segment"])
    html = result.report.read_text()
    assert html.count("Top offers by expected revenue") == offers["segment"].nunique()
    assert "custseg_relevance is the same blend in relevance order" in html
    mlflow.set_tracking_uri(uri)
    model = mlflow.pyfunc.load_model(result.model_uri)
    tx = result.transactions
    some = tx["customer_id"].astype(str).drop_duplicates().head(5)
    scored = model.predict(to_model_input(tx[tx["customer_id"].astype(str).isin(some)]))
    served = recs[recs["customer_id"].astype(str).isin(some)].sort_values(["customer_id", "rank"])
    logged = served.groupby(served["customer_id"].astype(str))["item"].agg(list)
    for customer, items in zip(scored["customer_id"], scored["recommendations"], strict=True):
        assert list(items) == logged[str(customer)], customer

