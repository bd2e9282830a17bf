"""End to end: one command -> one MLflow run holding params, metrics and artifacts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import mlflow
import mlflow.pyfunc
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from sklearn.metrics import adjusted_rand_score

from custseg.config import project_root
from custseg.data.errors import SchemaError
from custseg.tracking.pyfunc import to_model_input
from tests.conftest import make_config, run_logged

SMALL = "data.generator.n_rows=20000"


def _runs(uri: str) -> list:
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("custseg")
    return [] if exp is None else client.search_runs([exp.experiment_id])


def _download(uri: str, run_id: str, name: str, dst: Path) -> Path:
    return Path(mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path=name, dst_path=str(dst), tracking_uri=uri
    ))  # fmt: skip


@pytest.mark.slow  # the whole pipeline, logged: an end-to-end case
def test_demo_run_logs_params_metrics_and_artifacts(tracking_uri, tmp_path):
    result = run_logged(make_config(f"tracking.uri={tracking_uri}", SMALL), tmp_path / "out")
    runs = _runs(tracking_uri)
    assert len(runs) == 1
    r = runs[0]
    assert r.info.run_id == result.run_id and r.info.status == "FINISHED"
    assert r.info.run_name == "demo/value_quantity/kmeans-k5"
    p = r.data.params
    assert p["data.name"] == "demo" and p["features.name"] == "value_quantity"
    assert p["segment.n_clusters"] == "5" and p["seed"] == "42"
    assert p["clean.cancellation_prefix"] == "C" and p["data.generator.n_rows"] == "20000"
    m = r.data.metrics
    expected = ("silhouette", "davies_bouldin", "calinski_harabasz", "inertia", "clean.rows_out",
                "clean.dropped.duplicates", "clean.dropped.cancellations")  # fmt: skip
    for key in expected:
        assert key in m, key
    assert m["clean.rows_out"] == result.cleaning.rows_out
    assert m["silhouette"] == pytest.approx(result.metrics["silhouette"])
    names = {a.path for a in MlflowClient(tracking_uri).list_artifacts(r.info.run_id)}
    assert {"config.yaml", "cleaning.json", "segments.parquet", "segments.csv"} <= names
    seg = pd.read_parquet(_download(tracking_uri, r.info.run_id, "segments.parquet", tmp_path))
    pd.testing.assert_frame_equal(seg, result.segments)
    assert seg["segment"].nunique() == 5
    model = mlflow.pyfunc.load_model(result.model_uri)
    scored = model.predict(result.features.reset_index())  # a features table in
    assert (scored["segment"].to_numpy() == seg["segment"].to_numpy()).all()
    # without a history, recommendations rest on the segment alone (its favourites)
    assert scored["recommendations"].map(len).eq(10).all()
    config = _download(tracking_uri, r.info.run_id, "config.yaml", tmp_path).read_text()
    assert "n_rows: 20000" in config and "uri: sqlite" in config


@pytest.mark.slow
def test_kmeans_recovers_planted_segments_from_basket_features(tracking_uri, tmp_path):
    result = run_logged(make_config(f"tracking.uri={tracking_uri}", "+experiment=demo_basket"),
                        tmp_path)
    truth = result.source.truth.customers.set_index("customer_id")["segment"]
    ari = adjusted_rand_score(truth.loc[result.segments.index], result.segments["segment"])
    assert ari >= 0.9
    assert result.metrics["truth_ari"] == pytest.approx(ari)


@pytest.mark.slow
def test_same_config_and_seed_give_the_same_segments_and_metrics(tracking_uri, tmp_path):
    a = run_logged(make_config(f"tracking.uri={tracking_uri}", SMALL), tmp_path / "a")
    b = run_logged(make_config(f"tracking.uri={tracking_uri}", SMALL), tmp_path / "b")
    pd.testing.assert_frame_equal(a.segments, b.segments)
    assert a.metrics == b.metrics
    pd.testing.assert_frame_equal(a.recommendations, b.recommendations)


@pytest.mark.slow
def test_another_seed_on_the_same_file_finds_the_same_segments(tracking_uri, tmp_path):
    """The seed drives the generator too, so the data is fixed first (a file): then only the
    algorithm's seed differs, and a stable segmentation does not depend on it."""
    path = tmp_path / "demo.parquet"
    first = run_logged(make_config(f"tracking.uri={tracking_uri}", SMALL, "report=none",
                                   "recommend=none", "rules=none"), tmp_path / "gen")  # fmt: skip
    first.transactions.to_parquet(path)
    file = ["data=csv", f"data.path={path}", "report=none", "recommend=none", "rules=none",
            f"tracking.uri={tracking_uri}"]  # fmt: skip
    a = run_logged(make_config(*file, "seed=1"), tmp_path / "a")
    b = run_logged(make_config(*file, "seed=2"), tmp_path / "b")
    again = run_logged(make_config(*file, "seed=1"), tmp_path / "again")
    pd.testing.assert_frame_equal(again.segments, a.segments)
    ari = adjusted_rand_score(a.segments["segment"], b.segments["segment"].loc[a.segments.index])
    assert ari > 0.8


@pytest.mark.slow
def test_failed_run_is_marked_failed_and_earlier_runs_stay(tracking_uri, tmp_path):
    good = run_logged(make_config(f"tracking.uri={tracking_uri}", SMALL), tmp_path / "good")
    # a fault only the full load sees (the preflight stops a missing file before any run)
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"customer_id": ["a", "b"], "invoice_id": ["1", "2"],
                  "invoice_date": ["2024-01-01", "2024-01-02"], "product_id": ["x", "y"],
                  "quantity": [1, 2], "unit_price": [1.0, float("inf")],
                  "amount": [1.0, 2.0]}).to_csv(bad, index=False)  # fmt: skip
    with pytest.raises(SchemaError):
        run_logged(make_config(f"tracking.uri={tracking_uri}", "data=csv", f"data.path={bad}"),
            tmp_path / "bad")  # fmt: skip
    runs = {r.info.run_id: r for r in _runs(tracking_uri)}
    assert len(runs) == 2
    assert runs[good.run_id].info.status == "FINISHED"
    failed = next(r for r in runs.values() if r.info.run_id != good.run_id)
    assert failed.info.status == "FAILED"
    assert "infinite values" in failed.data.tags["failure_reason"]
    assert str(bad) in failed.data.tags["failure_reason"]
    assert (tmp_path / "good" / "segments.parquet").exists()
    client = MlflowClient(tracking_uri)
    assert "segments.parquet" in {a.path for a in client.list_artifacts(good.run_id)}


@pytest.mark.slow
def test_data_without_products_still_segments(tracking_uri, tmp_path):
    path = tmp_path / "spend.csv"
    rows = [
        {"cust": f"c{i}", "day": f"2024-01-{1 + j:02d}", "units": 1 + (i % 7) * j,
         "spend": (1 + (i % 7) * j) * (1 + i % 3)}
        for i in range(60) for j in range(1 + i % 4)
    ]  # fmt: skip
    pd.DataFrame(rows).to_csv(path, index=False)
    cfg = make_config(
        f"tracking.uri={tracking_uri}", "data=csv", f"data.path={path}",
        "data.columns.customer_id=cust", "data.columns.invoice_date=day",
        "data.columns.quantity=units", "data.columns.amount=spend",
        "data.columns.invoice_id=null", "data.columns.product_id=null",
        "data.columns.unit_price=null", "segment.n_clusters=3",
    )  # fmt: skip
    result = run_logged(cfg, tmp_path / "out")
    assert len(result.segments) == 60 and result.segments["segment"].nunique() == 3
    assert result.cleaning.skipped["non_product_codes"] == "source has no product ids"
    (r,) = _runs(tracking_uri)
    assert r.data.tags["skipped.rules"] == "no product ids in this source"
    # the logged model scores product-less transactions too (segment and persona, no items)
    mlflow.set_tracking_uri(tracking_uri)
    scored = mlflow.pyfunc.load_model(result.model_uri).predict(to_model_input(result.transactions))
    seg = result.segments["segment"].loc[scored["customer_id"]].to_numpy()
    assert (scored["segment"].to_numpy() == seg).all()
    assert scored["recommendations"].map(len).eq(0).all()


@pytest.mark.slow
@pytest.mark.slow
def test_online_retail_run(tracking_uri, tmp_path, online_retail_path):
    result = run_logged(make_config(f"tracking.uri={tracking_uri}", "data=online_retail"), tmp_path)
    (r,) = _runs(tracking_uri)
    assert r.info.run_name == "online_retail/value_quantity/kmeans-k5"
    assert r.data.metrics["clean.rows_out"] == 391_150
    assert r.data.metrics["n_customers"] == 4_334 == len(result.segments)
    assert 0.3 < r.data.metrics["silhouette"] < 0.7


def _cli(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")} | env
    # `mlflow run` starts `python` from PATH: make it this interpreter, as in an active venv
    full_env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{full_env.get('PATH', '')}"
    return subprocess.run(
        args, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.mark.slow
@pytest.mark.slow
def test_cli_default_store_is_sqlite_in_the_working_directory(tmp_path):
    proc = _cli([sys.executable, "-m", "custseg", SMALL], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "mlflow.db").exists()
    (r,) = _runs(f"sqlite:///{tmp_path / 'mlflow.db'}")
    assert r.info.status == "FINISHED" and r.data.params["data.name"] == "demo"
    assert "[7/7] draw the figures and write the report done" in proc.stdout + proc.stderr


@pytest.mark.slow
@pytest.mark.slow
def test_cli_bad_input_exits_2_with_the_reason(tmp_path):
    proc = _cli([sys.executable, "-m", "custseg", "data=csv", "data.path=nope.csv"], tmp_path)
    assert proc.returncode == 2
    assert "nope.csv: table: file not found" in proc.stdout + proc.stderr
    db = tmp_path / "mlflow.db"  # the preflight refuses it before a run opens
    assert not db.exists() or _runs(f"sqlite:///{db}") == []


@pytest.mark.slow
@pytest.mark.slow
def test_mlflow_run_passes_overrides_through(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    overrides = f"{SMALL} features=basket hydra.run.dir={tmp_path / 'out'}"
    proc = _cli(
        [sys.executable, "-m", "mlflow", "run", str(project_root()), "--env-manager", "local",
         "--experiment-name", "custseg", "-P", f"overrides={overrides}"],
        tmp_path, MLFLOW_TRACKING_URI=uri,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    (r,) = _runs(uri)  # the launcher's run is the pipeline's run, not a second one
    assert r.info.status == "FINISHED"
    assert r.data.params["features.name"] == "basket"
    assert "silhouette" in r.data.metrics


def _artifacts(uri: str, run_id: str) -> set[str]:
    return {a.path for a in MlflowClient(uri).list_artifacts(run_id)}


@pytest.mark.slow
def test_rules_recommendations_and_evaluation_are_logged(tracking_uri, tmp_path):
    result = run_logged(make_config(f"tracking.uri={tracking_uri}", "+experiment=demo_basket"),
                        tmp_path)
    names = _artifacts(tracking_uri, result.run_id)
    scopes = {"all", *map(str, range(5))}
    assert {f"rules_{'all' if s == 'all' else 'segment_' + s}.parquet" for s in scopes} <= names
    assert {"recommendations.parquet", "recommendation_evaluation.csv", "top_rules.png",
            "evaluation_split.json", "recommendation_evaluation_detail.parquet",
            "blend.json"} <= names  # fmt: skip
    assert set(result.rules["segment"]) == scopes
    recs = result.recommendations
    assert set(recs["customer_id"]) == set(result.segments.index)  # every customer
    assert recs.groupby("customer_id").size().max() == 10
    ev = result.evaluation.table
    assert list(ev.index) == ["custseg", "ease", "sar", "similarity", "crosssell",
                              "overall_rules", "favourite", "popular", "buy_again"]  # fmt: skip
    m = MlflowClient(tracking_uri).get_run(result.run_id).data.metrics
    assert m["eval.custseg.hit_rate_at_10"] == pytest.approx(ev.loc["custseg", "hit_rate@10"])
    assert ev.loc["custseg", "hit_rate@10"] > ev.loc["popular", "hit_rate@10"]
    # segments buy differently: per-segment rules beat rules mined over everyone
    assert ev.loc["crosssell", "hit_rate@10"] > ev.loc["overall_rules", "hit_rate@10"]
    assert m["rules.count.all"] > 0 and "rules.seconds.0" in m
    assert m["blend.validation.chosen"] >= max(v for k, v in m.items()
                                               if k.startswith("blend.validation.") and
                                               k != "blend.validation.chosen")  # fmt: skip


@pytest.mark.slow
def test_planted_pairs_are_found_in_the_segments_the_pipeline_found(tracking_uri, tmp_path):
    result = run_logged(make_config(f"tracking.uri={tracking_uri}", "+experiment=demo_basket",
                          "recommend=none"), tmp_path)  # fmt: skip
    truth = result.source.truth
    found = result.segments["segment"]
    planted = truth.customers.set_index("customer_id")["segment"].loc[found.index]
    # each planted segment's customers mostly sit in one found segment
    where = pd.crosstab(planted, found).idxmax(axis=1).astype(str)
    rules = result.rules
    hits = 0
    for pair in truth.pairs.itertuples():
        scope = rules[rules["segment"] == where[pair.segment]]
        same = (scope["antecedent"] == (pair.antecedent,)) & (
            scope["consequent"] == (pair.consequent,)
        )
        match = scope[same & (scope["lift"] > 1)]
        hits += len(match) == 1
    assert hits / len(truth.pairs) >= 0.9


@pytest.mark.slow
def test_exploding_support_fails_fast_with_a_suggestion(tracking_uri, tmp_path):
    from custseg.rules.guard import MiningTooLarge

    def attempt(support: float, tag: str):
        cfg = make_config(
            f"tracking.uri={tracking_uri}", SMALL, f"rules.min_support={support}",
            "rules.max_itemsets=1000", "rules.min_item_count=1", "recommend=none",
        )  # fmt: skip
        return run_logged(cfg, tmp_path / tag)

    with pytest.raises(MiningTooLarge, match="rules.min_support") as err:
        attempt(0.0005, "first")
    (r,) = _runs(tracking_uri)
    assert r.info.status == "FAILED" and "rules.min_support" in r.data.tags["failure_reason"]
    # the suggestion is per scope (a segment is denser than all baskets): following the
    # suggestions converges in a few steps, each asking for a higher support
    support, exc, result = 0.0005, err.value, None
    for step in range(5):
        assert exc.suggested_support > support
        support = exc.suggested_support
        try:
            result = attempt(support, str(step))
            break
        except MiningTooLarge as again:
            exc = again
    assert result is not None and result.rules is not None


@pytest.mark.slow
@pytest.mark.slow
def test_online_retail_rules_recommendations_and_evaluation(tracking_uri, tmp_path,
                                                            online_retail_path):  # fmt: skip
    result = run_logged(make_config(f"tracking.uri={tracking_uri}", "data=online_retail",
                          "features=rfm"), tmp_path)  # fmt: skip
    assert set(result.rules["segment"]) == {"all", "0", "1", "2", "3", "4"}
    assert result.recommendations["customer_id"].nunique() == 4_334
    ev = result.evaluation.table
    assert ev.loc["custseg", "hit_rate@10"] > ev.loc["popular", "hit_rate@10"]
    assert ev.loc["custseg", "hit_rate@10"] > ev.loc["favourite", "hit_rate@10"]


PLOTS = {"segments_scatter.png", "pca_biplot.png", "feature_boxplots.png", "segment_sizes.png",
         "silhouette.png", "top_items.png", "top_rules.png"}  # fmt: skip


def _report_checks(uri: str, result, tmp_path: Path) -> str:
    names = _artifacts(uri, result.run_id)
    assert names >= PLOTS, PLOTS - names
    report = {a.path for a in MlflowClient(uri).list_artifacts(result.run_id, "report")}
    assert {"report/report.md", "report/report.html", "report/figures"} <= report
    html = _download(uri, result.run_id, "report/report.html", tmp_path).read_text()
    assert "http://" not in html and "https://" not in html  # self-contained
    for label in result.segments["segment"].unique():
        assert f'data-segment="{label}"' in html
    assert html.count("data:image/png;base64,") >= len(PLOTS)
    return html


@pytest.mark.slow
def test_report_names_planted_segments_and_renders_in_a_browser(tracking_uri, tmp_path):
    from custseg.report import browser

    result = run_logged(make_config(f"tracking.uri={tracking_uri}", "+experiment=demo_basket"),
                        tmp_path)
    html = _report_checks(tracking_uri, result, tmp_path)
    # personas name the planted segments (found segment -> majority planted segment)
    planted = result.source.truth.customers.set_index("customer_id")["segment"]
    found = result.segments["segment"]
    majority = pd.crosstab(found, planted.loc[found.index]).idxmax(axis=1)
    keys = result.personas.set_index("segment")["key"]
    assert {str(s): majority[s] for s in majority.index} == keys.to_dict()
    for name in result.personas["name"]:
        assert name in html
    if browser.find_chromium() is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium missing under CI=true (.ci/run installs it)")
        pytest.skip("chromium not installed")
    assert "report_screenshot.png" in _artifacts(tracking_uri, result.run_id)
    dom = browser.render(result.report)
    loaded = re.search(r'data-images-loaded="(\d+)"', dom)
    total = re.search(r'data-images-total="(\d+)"', dom)
    assert loaded and total and int(total.group(1)) >= len(PLOTS)
    assert loaded.group(1) == total.group(1)
    assert dom.count('class="segment"') == found.nunique()


@pytest.mark.slow
@pytest.mark.slow
def test_online_retail_report(tracking_uri, tmp_path, online_retail_path):
    result = run_logged(make_config(f"tracking.uri={tracking_uri}", "data=online_retail",
                          "features=rfm", "recommend=none"), tmp_path)  # fmt: skip
    html = _report_checks(tracking_uri, result, tmp_path)
    assert "region_mix.png" in _artifacts(tracking_uri, result.run_id)
    assert set(result.personas["rfm_label"].dropna()) and "Champions" in html
