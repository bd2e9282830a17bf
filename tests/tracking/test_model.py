"""The deployable model is the model the run fitted and evaluated: registry, fresh-process
loading, batch scoring, HTTP serving (the served lists are the logged lists, item for item), the
evaluation's "custseg" row computed by the same `recommend`, and a real tracking server."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

import mlflow
import mlflow.pyfunc
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from custseg.model import CustomerModel
from custseg.recommend.evaluate import evaluation_table
from custseg.recommend.history import histories
from custseg.recommend.holdout import past_config
from custseg.recommend.split import split
from custseg.tracking.pyfunc import load_model, to_model_input
from tests.conftest import clean_env, free_port, make_config, run_logged, wait_until_up

pytestmark = pytest.mark.slow  # a registered run, serving, a server: end to end
NAME = "custseg-demo"


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("model")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    result = run_logged(make_config(f"tracking.uri={uri}", "+experiment=demo_basket",
                                    f"tracking.register_as={NAME}", "report=none"),
                        tmp / "out")  # fmt: skip
    tx = result.transactions
    some = tx["customer_id"].dropna().astype(str).drop_duplicates().head(25)
    payload = to_model_input(tx[tx["customer_id"].astype(str).isin(some)])
    mlflow.set_tracking_uri(uri)
    expected = mlflow.pyfunc.load_model(f"models:/{NAME}/1").predict(payload)
    return {"uri": uri, "tmp": tmp, "result": result, "payload": payload, "expected": expected}


def test_run_registers_a_model_that_scores_transactions(registered):
    result, expected = registered["result"], registered["expected"]
    assert result.model_uri == f"models:/{NAME}/1"
    assert len(expected) == 25
    truth = result.segments["segment"].loc[expected["customer_id"]].to_numpy()
    assert (expected["segment"].to_numpy() == truth).all()  # same segments as the training run
    assert expected["persona"].str.len().gt(0).all()
    tx = result.transactions.astype({"customer_id": str, "product_id": str})
    for row in expected.itertuples():
        items = list(row.recommendations)
        assert 0 < len(items) <= 10 and len(row.sources) == len(items)
        bought = set(tx.loc[tx["customer_id"] == row.customer_id, "product_id"])
        assert not bought & set(items)  # never recommend what the customer has


def test_registered_model_loads_and_scores_in_a_fresh_process(registered):
    tmp = registered["tmp"]
    registered["payload"].to_parquet(tmp / "in.parquet")
    src, dst = str(tmp / "in.parquet"), str(tmp / "out.parquet")
    code = (
        "import mlflow, pandas as pd; "
        f"mlflow.set_tracking_uri({registered['uri']!r}); "
        f"m = mlflow.pyfunc.load_model('models:/{NAME}/1'); "
        f"m.predict(pd.read_parquet({src!r})).to_parquet({dst!r})"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp, env=clean_env(),
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = pd.read_parquet(tmp / "out.parquet")
    for col in ("recommendations", "sources"):
        got[col] = got[col].map(list)
    pd.testing.assert_frame_equal(got, registered["expected"])


def _logged_lists(uri: str, run_id: str, dst) -> pd.DataFrame:
    path = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path="recommendations.parquet", dst_path=str(dst),
        tracking_uri=uri,
    )  # fmt: skip
    recs = pd.read_parquet(path).astype({"customer_id": str, "item": str, "source": str})
    return recs.sort_values(["customer_id", "rank"])


def test_served_predictions_equal_in_process_predictions(registered):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "models", "serve", "-m", f"models:/{NAME}/1",
         "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)],
        env=clean_env(MLFLOW_TRACKING_URI=registered["uri"]), cwd=registered["tmp"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_until_up(f"http://127.0.0.1:{port}/ping", proc)
        body = json.dumps({"dataframe_split": registered["payload"].to_dict(orient="split")})
        req = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", body.encode(),
                                     {"Content-Type": "application/json"})  # fmt: skip
        with urllib.request.urlopen(req, timeout=120) as r:
            served = pd.DataFrame(json.loads(r.read())["predictions"])
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    expected = registered["expected"]
    served = served[expected.columns].astype({"customer_id": str, "segment": "int64"})
    pd.testing.assert_frame_equal(served, expected.astype({"customer_id": str}))
    # the served lists are exactly the lists the run logged, item by item, in order
    logged = _logged_lists(registered["uri"], registered["result"].run_id, registered["tmp"])
    logged = logged[logged["customer_id"].isin(served["customer_id"])]
    want = logged.groupby("customer_id")["item"].agg(list)
    got = served.set_index("customer_id")["recommendations"]
    assert len(want) == len(got) == 25
    assert {c: list(v) for c, v in got.items()} == {c: list(v) for c, v in want.items()}
    sources = logged.groupby("customer_id")["source"].agg(list)
    assert {c: list(v) for c, v in served.set_index("customer_id")["sources"].items()} == {
        c: list(v) for c, v in sources.items()
    }


def test_the_evaluated_custseg_row_is_the_served_models_recommend(registered):
    """Refit the same class on the evaluation's training window and call the same public
    `recommend` on the test customers: the metrics are the ones the run logged."""
    result = registered["result"]
    config = result.config
    ev = config.recommend.evaluate
    train, truth, _ = split(result.transactions, ev.cutoff, ev.test_fraction)
    past = CustomerModel(past_config(config, result.model), describe=False).fit(train)
    lines = train[train["customer_id"].astype(str).isin(truth.customers)]
    bought = histories(train)
    parts = []
    for k in ev.ks:  # a k up to the served length is scored on the served lists
        recs = past.recommend(lines, clean=False, k=max(k, config.recommend.k))
        parts.append(evaluation_table({"custseg": recs}, truth.new, (k,),
                                      past.training_.catalogue, truth.repeat, bought))  # fmt: skip
    table = pd.concat(parts, axis=1)[result.evaluation.table.columns]
    logged = MlflowClient(registered["uri"]).get_run(result.run_id).data.metrics
    for col, value in table.loc["custseg"].items():
        assert logged[f"eval.custseg.{col.replace('@', '_at_')}"] == pytest.approx(value), col
    pd.testing.assert_series_equal(result.evaluation.table.loc["custseg"], table.loc["custseg"])
    # and the model logged for serving is the class the evaluation refitted
    assert type(load_model(result.model_uri)) is CustomerModel is type(past)


def test_score_command_scores_a_file_and_logs_a_run(registered):
    tmp, result = registered["tmp"], registered["result"]
    tx = result.transactions
    path = tmp / "next_month.csv"
    tx.head(3000).to_csv(path, index=False)
    proc = subprocess.run(
        [sys.executable, "-m", "custseg", "score", "--model", f"models:/{NAME}/1",
         "--data", str(path), "--out", str(tmp / "scores.parquet"),
         "--tracking-uri", registered["uri"]],
        cwd=tmp, env=clean_env(), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    scores = pd.read_parquet(tmp / "scores.parquet")
    clean_customers = set(
        tx.head(3000).query("quantity > 0")["customer_id"].dropna().astype(str)
    )  # fmt: skip
    assert set(scores["customer_id"]) <= clean_customers and len(scores) > 0
    client = MlflowClient(registered["uri"])
    exp = client.get_experiment_by_name("custseg-scoring")
    (r,) = client.search_runs([exp.experiment_id])
    assert r.info.status == "FINISHED" and r.data.metrics["customers"] == len(scores)
    assert r.data.params["model_uri"] == f"models:/{NAME}/1"


def test_pipeline_logs_to_a_real_tracking_server(tmp_path, mlflow_server):
    url = mlflow_server
    cfg = make_config("tracking=server", f"tracking.uri={url}", "data.generator.n_rows=20000",
                      "report=none", "recommend=none")  # fmt: skip
    result = run_logged(cfg, tmp_path / "out")
    client = MlflowClient(url)
    r = client.get_run(result.run_id)
    assert r.info.status == "FINISHED" and r.data.params["tracking.uri"] == url
    got = mlflow.artifacts.download_artifacts(
        run_id=result.run_id, artifact_path="segments.parquet",
        dst_path=str(tmp_path / "dl"), tracking_uri=url,
    )  # fmt: skip
    pd.testing.assert_frame_equal(pd.read_parquet(got), result.segments)
    assert (tmp_path / "server-artifacts").exists()  # the server stored them, not the client
