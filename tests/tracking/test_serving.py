"""The logged model behind a real `custseg serve` (MLflow's scoring server with custseg's guard in
front): every bad payload is refused with a 4xx whose JSON names the field and the problem and
carries no traceback or server path, bodies MLflow cannot read included; customer lines without
amount or invoice ids are answered as in batch; lists come back as JSON arrays; JSON, CSV and
Parquet bodies and /ping, /health, /version work as under `mlflow models serve`."""

from __future__ import annotations

import asyncio
import copy
import io
import json
import logging
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException

import custseg
from custseg.data.sources import load
from custseg.model import CustomerModel
from custseg.tracking.guard import FORMATS, Guard
from custseg.tracking.pyfunc import (
    CustomerModelPyfunc,
    input_example,
    log_model,
    to_model_input,
)
from tests.conftest import clean_env, free_port, make_config, wait_until_up

pytestmark = pytest.mark.slow  # fit, log and serve a model: about 25 s before the first request
FEATURES = ["total_value", "total_quantity"]  # the default feature set, value_quantity
JSON_TYPE, PARQUET_TYPE = "application/json", "application/vnd.apache.parquet"


@dataclass
class Served:
    url: str
    model: CustomerModel
    model_uri: str
    tracking_uri: str
    log: Path  # the server's stdout and stderr
    lines: pd.DataFrame  # a few customers' canonical lines, as a client sends them
    features: pd.DataFrame  # the same customers' features table


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("serving")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    cfg = make_config("data.generator.n_rows=5000", "report=none", f"tracking.uri={uri}")
    model = CustomerModel(cfg)
    tx = model.prepare(load(cfg.data, cfg.seed).transactions)[0]
    model.fit(tx)
    before = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        with mlflow.start_run():
            model_uri = log_model(model, input_example(tx), None)
    finally:
        mlflow.set_tracking_uri(before)
    some = tx["customer_id"].drop_duplicates().head(4)
    mine = tx[tx["customer_id"].isin(some)]
    features = model.features_.transform(mine).reset_index()
    port = free_port()
    log = tmp / "serve.log"
    with open(log, "w") as out:  # a file, not a pipe: the access log would fill a pipe
        proc = subprocess.Popen(
            [sys.executable, "-m", "custseg", "serve", "--model", model_uri, "--port", str(port)],
            env=clean_env(MLFLOW_TRACKING_URI=uri), cwd=tmp, stdout=out, stderr=out, text=True,
        )  # fmt: skip
    try:
        wait_until_up(f"http://127.0.0.1:{port}/ping", proc, log=log)
        yield Served(
            f"http://127.0.0.1:{port}", model, model_uri, uri, log, to_model_input(mine), features
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def post(served: Served, body: Any, content_type: str = "application/json") -> tuple[int, str]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(f"{served.url}/invocations", data,
                                 {"Content-Type": content_type})  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def split(df: pd.DataFrame) -> dict[str, Any]:
    """dataframe_split as a client writes it (NaN and infinity as JSON's NaN and Infinity)."""
    return {"dataframe_split": {"columns": list(df.columns),
                                "data": df.astype(object).to_numpy().tolist()}}  # fmt: skip


def lines(**columns: Any) -> Callable[[Served], dict[str, Any]]:
    return lambda s: split(s.lines.assign(**columns))


def lines_without(*columns: str) -> Callable[[Served], dict[str, Any]]:
    return lambda s: split(s.lines.drop(columns=list(columns)))


def features(**columns: Any) -> Callable[[Served], dict[str, Any]]:
    return lambda s: split(s.features.assign(**columns))


def _first_row(column: str, value: Any) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda d: d[column].astype(object).where(d.index != d.index[0], value)


def _mixed_dates(d: pd.DataFrame) -> list[str]:
    return ["2024-01-02 10:00:00" if i % 2 else "03/15/2024 10:00" for i in range(len(d))]


def _duplicate_column(s: Served) -> dict[str, Any]:
    rows = split(s.lines)["dataframe_split"]["data"]
    columns = ["customer_id", *s.lines.columns]
    return {"dataframe_split": {"columns": columns, "data": [["C1", *r] for r in rows]}}


def _unnamed_columns(s: Served) -> dict[str, Any]:
    return {"dataframe_split": {"data": split(s.lines)["dataframe_split"]["data"]}}


BAD = [
    ("quantity-as-text", lines(quantity="three"), "quantity", "text that is not a number"),
    ("quantity-as-list", lines(quantity=lambda d: [[1.0]] * len(d)), "quantity", "nested"),
    ("quantity-as-bool", lines(quantity=True), "quantity", "true/false"),
    ("quantity-infinite", lines(quantity=float("inf")), "quantity", "infinite"),
    ("quantity-a-barcode", lines(quantity=5.0e12), "quantity", "values above 1e+06"),
    ("price-negative", lines(unit_price=-2.5), "unit_price", "values below 0"),
    ("amount-empty-on-a-line", lines(amount=_first_row("amount", None)), "amount", "empty"),
    ("amount-sign", lines(amount=lambda d: -d["amount"]), "amount", "negative amounts"),
    ("date-unreadable", lines(invoice_date="next tuesday"), "invoice_date", "unparsable"),
    ("date-as-number", lines(invoice_date=1704067200), "invoice_date", "numbers"),
    ("date-ambiguous", lines(invoice_date="02/01/2024"), "invoice_date", "ambiguous"),
    ("date-mixed-layouts", lines(invoice_date=_mixed_dates), "invoice_date", "mixed date layouts"),
    (
        "invoice-empty-on-a-line",
        lines(invoice_id=_first_row("invoice_id", None)),
        "invoice_id",
        "empty",
    ),
    ("invoice-of-two-customers", lines(invoice_id="INV-1"), "invoice_id", "several customers"),
    (
        "only-returns",
        lines(quantity=-1.0, amount=lambda d: -d["unit_price"]),
        "payload",
        "cleaning removed every row",
    ),
    (
        "customer-as-object",
        lines(customer_id=lambda d: [{"id": 7}] * len(d)),
        "customer_id",
        "nested",
    ),
    (
        "customer-huge-string",
        lines(customer_id="x" * 200_000),
        "customer_id",
        "longer than 1,000 characters",
    ),
    ("unknown-column", lines(quantty=1.0), "quantty", "did you mean 'quantity'"),
    ("missing-date", lines_without("invoice_date"), "invoice_date", "missing column"),
    ("missing-money", lines_without("amount", "unit_price"), "amount", "missing column"),
    ("missing-items", lines_without("product_id"), "product_id", "missing column"),
    ("duplicate-column", _duplicate_column, "customer_id", "more than once"),
    ("unnamed-columns", _unnamed_columns, "payload", "the columns have no names"),
    ("no-rows", lambda s: {"dataframe_records": []}, "payload", "no rows"),
    (
        "no-columns",
        lambda s: {"dataframe_split": {"columns": [], "data": []}},
        "payload",
        "no columns",
    ),
    ("not-a-table", lambda s: {"inputs": 5}, "payload", "not a table"),
    (
        "too-many-rows",
        lambda s: {"dataframe_split": {"columns": ["customer_id"], "data": [["C1"]] * 100_001}},
        "payload",
        "more than the 100,000",
    ),
    (
        "features-misspelt",
        lambda s: split(s.features.rename(columns={"total_value": "totl_value"})),
        "totl_value",
        "did you mean 'total_value'",
    ),
    (
        "features-one-missing",
        lambda s: split(s.features.drop(columns="total_quantity")),
        "total_quantity",
        "missing column",
    ),
    ("features-unknown-extra", features(loyalty=3.0), "loyalty", "unknown column"),
    ("features-negative", features(total_value=-10.0), "total_value", "values below 0"),
    ("features-empty", features(total_value=None), "total_value", "empty"),
    ("features-as-text", features(total_quantity="many"), "total_quantity", "not a number"),
    (
        "features-same-customer-twice",
        lambda s: split(pd.concat([s.features, s.features.head(1)])),
        "customer_id",
        "same customer",
    ),
    (
        "features-and-lines-mixed",
        features(quantity=1.0),
        "quantity",
        "transaction column in a features table",
    ),
]


def _clean_of_internals(body: str) -> None:
    """Nothing of the server's insides: no traceback, no file path, no library location."""
    for leak in ("Traceback", 'File "/', "site-packages", "stack_trace", sys.prefix,
                 str(Path(custseg.__file__).parent)):  # fmt: skip
        assert leak not in body, leak


@pytest.mark.parametrize(("build", "field", "words"), [c[1:] for c in BAD],
                         ids=[c[0] for c in BAD])  # fmt: skip
def test_a_bad_payload_is_refused_by_field_without_internals(served, build, field, words):
    status, body = post(served, build(served))
    assert status == 400, body[:2000]
    _clean_of_internals(body)
    answer = json.loads(body)
    assert answer["error_code"] == "BAD_REQUEST"
    errors = answer["errors"]
    assert all(e["field"] and e["problem"] and e["fix"] for e in errors)
    hits = [e for e in errors if e["field"] == field and words in e["problem"]]
    assert hits, errors
    assert len(body) < 20_000  # a huge cell or payload is never echoed whole


def test_features_with_wrong_names_are_refused_not_zero_filled(served):
    status, body = post(served, split(served.features.rename(columns={"total_value": "value"})))
    assert status == 400
    fields = {e["field"]: e["problem"] for e in json.loads(body)["errors"]}
    assert "unknown column" in fields["value"]
    assert fields["total_value"].startswith("missing column")
    assert served.model.features_.columns_ == FEATURES


def refused(status: int, text: str, field: str, words: str) -> None:
    """A structured refusal: JSON in the model's shape, the field and the problem named."""
    _clean_of_internals(text)
    answer = json.loads(text)
    assert answer["error_code"] == "BAD_REQUEST", answer
    assert all(e["field"] and e["problem"] and e["fix"] for e in answer["errors"])
    hits = [e for e in answer["errors"] if e["field"] == field and words in e["problem"]]
    assert hits, answer["errors"]
    assert f"{field}: " in answer["message"] and words in answer["message"]
    assert len(text) < 5_000  # the body is never echoed


UNREADABLE = [
    (
        "json-cut-short",
        b'{"dataframe_split": {',
        JSON_TYPE,
        "JSON body that cannot be read: Expecting property",
    ),
    ("json-a-list", b"[1, 2]", JSON_TYPE, "Received a list"),
    ("json-no-format-key", b'{"rows": []}', JSON_TYPE, "exactly one of the input fields"),
    (
        "json-empty",
        b"",
        JSON_TYPE,
        "JSON body that cannot be read: Expecting value (line 1, column 1)",
    ),
    (
        "json-not-utf8",
        b'{"dataframe_records": [{"customer_id": "\xff"}]}',
        JSON_TYPE,
        "JSON body that cannot be read: not UTF-8 text (byte 40)",
    ),
    (
        "json-nested-too-deep",
        b"[" * 100_000,
        JSON_TYPE,
        "JSON body that cannot be read: nested deeper",
    ),
    (
        "json-number-too-long",
        b'{"dataframe_records": [{"customer_id": ' + b"9" * 5000 + b"}]}",
        JSON_TYPE,
        "JSON body that cannot be read: a number of more than 4,300 digits",
    ),
    (
        "csv-unclosed-quote",
        b'a,b\n1,2\n"unclosed',
        "text/csv",
        "CSV body that cannot be read: Error tokenizing data",
    ),
    ("csv-empty", b"", "text/csv", "CSV body that cannot be read: No columns to parse"),
    (
        "csv-not-utf8",
        b"customer_id\n\xff\xfe\n",
        "text/csv",
        "CSV body that cannot be read: not UTF-8 text (byte 12)",
    ),
    (
        "parquet-garbage",
        b"PAR1 not really",
        PARQUET_TYPE,
        "Parquet body that cannot be read: Could not open",
    ),
    ("parquet-empty", b"", PARQUET_TYPE, "Parquet body that cannot be read"),
]


@pytest.mark.parametrize(("body", "content_type", "words"), [c[1:] for c in UNREADABLE],
                         ids=[c[0] for c in UNREADABLE])  # fmt: skip
def test_a_body_mlflow_cannot_read_is_a_400_naming_the_problem(served, body, content_type, words):
    """MLflow's own server puts a stack trace in the 400 for CSV and Parquet it cannot read and
    answers a bare 500 for a number too long or nesting too deep, before the model is called;
    `custseg serve` answers each as the model answers a bad table."""
    status, text = post(served, body, content_type)
    assert status == 400, text[:2000]
    refused(status, text, "payload", words)


@pytest.mark.parametrize(("content_type", "words"), [
    ("text/plain", "'text/plain' is not a type this server reads"),
    ("", "missing"),
    ("application/x-www-form-urlencoded", "is not a type this server reads"),
    ("application/json; charset=latin-1", "only supports UTF-8"),
    ("application/json; version=2", "Unrecognized content type parameters: version"),
])  # fmt: skip
def test_a_wrong_content_type_is_a_415_in_the_same_shape(served, content_type, words):
    status, text = post(served, split(served.lines), content_type)
    assert status == 415, text[:2000]
    refused(status, text, "Content-Type", words)
    assert "application/vnd.apache.parquet" in json.loads(text)["errors"][0]["fix"]


def test_csv_and_parquet_bodies_are_answered_as_json_is(served):
    """The content types of `mlflow models serve`: one table, three encodings, one answer."""
    table = served.lines.drop(columns=["amount", "invoice_id"])
    answers = []
    parquet = io.BytesIO()
    table.to_parquet(parquet)
    for body, content_type in [
        (split(table), JSON_TYPE),
        (json.dumps({"dataframe_records": table.to_dict("records")}).encode(), JSON_TYPE),
        (table.to_csv(index=False).encode(), "text/csv"),
        (parquet.getvalue(), PARQUET_TYPE),
        (split(table), "application/json; charset=utf-8"),
    ]:
        status, text = post(served, body, content_type)
        assert status == 200, text[:2000]
        answers.append(pd.DataFrame(json.loads(text)["predictions"]))
    want = served.model.score(table)
    for got in answers:
        assert got["customer_id"].astype(str).tolist() == want["customer_id"].tolist()
        assert got["segment"].tolist() == want["segment"].tolist()
        assert got["recommendations"].tolist() == want["recommendations"].tolist()


def test_a_refusal_does_not_echo_the_payload(served):
    """MLflow puts the input's repr in front of the model's message; custseg serve drops it."""
    marker = "ECHO-ME-NOT"
    status, text = post(served, split(served.lines.assign(quantity="three", region=marker)))
    assert status == 400
    answer = json.loads(text)
    assert answer["message"].startswith("payload refused, 1 problem(s): (1) quantity:")
    assert marker not in text


def test_the_other_endpoints_are_mlflows(served):
    for path in ("/ping", "/health"):
        with urllib.request.urlopen(f"{served.url}{path}", timeout=30) as r:
            assert r.status == 200
    with urllib.request.urlopen(f"{served.url}/version", timeout=30) as r:
        assert r.read().decode() == mlflow.__version__
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{served.url}/nowhere", timeout=30)
    assert caught.value.code == 404


def test_the_server_says_where_it_listens_and_logs_refusals(served):
    log = served.log.read_text()
    port = served.url.rsplit(":", 1)[1]
    assert f"custseg serve: {served.model_uri} at http://127.0.0.1:{port} (POST /invocations" in log
    post(served, b"[1, 2]")
    log = served.log.read_text()
    assert "[custseg.tracking.guard] answered 400: payload refused" in log
    assert '"POST /invocations HTTP/1.1" 400' in log and '"GET /ping HTTP/1.1" 200' in log
    assert "Traceback" not in log and "Logging error" not in log
    assert "[custseg.clean" not in log  # the model's steps do not log each request


def _through_guard(inner: Callable, body: bytes) -> tuple[int, dict[str, Any]]:
    """One JSON request through the guard in front of a small ASGI app standing in for
    MLflow's, for the answers the real server cannot be made to give on purpose."""
    sent: list[dict[str, Any]] = []
    chunks = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/invocations",
             "headers": [(b"content-type", JSON_TYPE.encode())]}  # fmt: skip
    asyncio.run(Guard(inner)(scope, receive, send))
    text = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    _clean_of_internals(text.decode())
    return sent[0]["status"], json.loads(text)


def _mlflow_like(status: int, body: bytes, then: Exception | None = None) -> Callable:
    async def app(scope: dict, receive: Callable, send: Callable) -> None:
        await receive()
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": body})
        if then is not None:
            raise then

    return app


def test_the_guard_answers_what_mlflow_fails_on_without_internals(caplog):
    good = json.dumps({"dataframe_records": [{"customer_id": "C1"}]}).encode()
    caplog.set_level(logging.INFO, logger="custseg.tracking.guard")
    # an exception the body does not explain: a bare 500, the traceback in the server log only
    crash = _mlflow_like(500, b"Internal Server Error", RuntimeError(f"at {sys.prefix}/x.py"))
    status, answer = _through_guard(crash, good)
    assert (status, answer["error_code"]) == (500, "INTERNAL_ERROR")
    assert answer["message"] == "the server failed on this request; the server log has the details"
    assert "RuntimeError" in caplog.text and "Traceback" in caplog.text
    # MLflow's 504 when a request takes longer than its timeout: JSON, not a line of text
    slow = _mlflow_like(504, b"Request processing time exceeded limit")
    assert _through_guard(slow, good) == (
        504, {"error_code": "INTERNAL_ERROR", "message": "Request processing time exceeded limit"}
    )  # fmt: skip
    # a 400 with a stack trace on a body that reads: MLflow's message kept, the trace dropped
    leak = json.dumps(
        {
            "error_code": "BAD_REQUEST",
            "message": "Invalid input. Odd table",
            "stack_trace": 'Traceback (most recent call last):\n  File "/x.py"',
        }
    )
    status, answer = _through_guard(_mlflow_like(400, leak.encode()), good)
    assert status == 400 and set(answer) == {"error_code", "message", "errors"}
    assert answer["errors"] == [{"field": "payload", "problem": "Odd table",
                                 "fix": FORMATS[JSON_TYPE].fix}]  # fmt: skip
    # an answer under 400 goes through as MLflow sent it
    status, answer = _through_guard(_mlflow_like(200, b'{"predictions": []}'), good)
    assert (status, answer) == (200, {"predictions": []})


def serve_cli(*args: str, tracking_uri: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "custseg", "serve", *args], env=clean_env(MLFLOW_TRACKING_URI=
        tracking_uri), cwd=cwd, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize(("model", "words"), [
    ("runs:/0123456789abcdef0123456789abcdef/model", "Run with id=0123456789abcdef"),
    ("models:/no-such-model/1", "Registered Model with name=no-such-model not found"),
    ("no/such/folder", "No such artifact"),
])  # fmt: skip
def test_a_model_that_is_not_there_stops_serve_with_exit_2(served, tmp_path, model, words):
    done = serve_cli("--model", model, "--port", str(free_port()),
                     tracking_uri=served.tracking_uri, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith(f"custseg serve: error: --model {model}: cannot load it"), lines
    assert words in lines[-1]
    assert "Traceback" not in done.stderr and not done.stdout
    assert not (tmp_path / "mlflow.db").exists()


def test_a_port_in_use_and_an_unknown_option_stop_serve_with_exit_2(served, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = serve_cli("--model", served.model_uri, "--port", str(port),
                         tracking_uri=served.tracking_uri, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"custseg serve: error: --port {port}: 127.0.0.1:{port} is in use (another server?). "
        "Fix: choose another --port, or stop what listens there"
    )
    done = serve_cli("--model", served.model_uri, "--prot", "5001",
                     tracking_uri=served.tracking_uri, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "custseg serve: error: unrecognized arguments: --prot 5001 (custseg serve --help lists "
        "the options)"
    )


def test_a_store_that_is_not_there_is_not_created(tmp_path):
    store = tmp_path / "nothing-here.db"
    done = serve_cli("--model", "models:/custseg/1", tracking_uri=f"sqlite:///{store}",
                     cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith(f"custseg serve: error: --tracking-uri sqlite:///{store}: no "
                                  "such SQLite store")  # fmt: skip
    assert not store.exists()


def test_a_failure_inside_the_model_is_a_bare_500(served):
    """What the scoring server would send for an exception the input check did not foresee
    (the model's clusterer broken here): the status and a message, never the traceback."""
    broken = copy.copy(served.model)
    broken.segmenter_ = None
    wrapper = CustomerModelPyfunc()
    wrapper.model = broken
    with pytest.raises(MlflowException) as caught:
        wrapper.predict(None, served.lines)
    assert caught.value.get_http_status_code() == 500
    body = caught.value.serialize_as_json()
    assert "the server log has the details" in json.loads(body)["message"]
    _clean_of_internals(body)
    assert "NoneType" not in body and "segmenter_" not in body


def test_lines_without_amount_or_invoice_are_answered_as_in_batch(served):
    natural = served.lines.drop(columns=["amount", "invoice_id"])
    status, body = post(served, split(natural))
    assert status == 200, body[:2000]
    got = pd.DataFrame(json.loads(body)["predictions"])
    want = served.model.score(natural)
    assert len(got) == 4
    pd.testing.assert_frame_equal(got[want.columns].astype({"segment": "int64"}), want)
    # amount = quantity x unit_price and invoice = customer x day: the same customers' answer
    full = served.model.score(served.lines)
    assert got["segment"].tolist() == full["segment"].tolist()
    assert got["recommendations"].tolist() == full["recommendations"].tolist()


def test_lists_come_back_as_json_arrays(served):
    baskets = served.lines.drop(columns=["customer_id"]).head(6)
    answers = {
        ("recommendations", "sources", "buy_again"): split(served.lines),
        ("recommendations", "sources"): split(served.features),
        ("items", "recommendations", "reasons"): split(baskets),
    }
    for columns, payload in answers.items():
        status, body = post(served, payload)
        assert status == 200, body[:2000]
        for row in json.loads(body)["predictions"]:
            for col in columns:
                assert isinstance(row[col], list), (col, row[col])
                assert all(isinstance(v, str) for v in row[col])
            assert len(row["recommendations"]) > 0


def test_the_input_contract_is_in_the_model_metadata(served):
    before = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(served.tracking_uri)
    try:
        info = mlflow.models.get_model_info(served.model_uri)
    finally:
        mlflow.set_tracking_uri(before)
    assert info.signature.inputs is None  # MLflow would drop undeclared columns unseen
    contract = info.metadata["custseg_input"]
    assert contract["features"]["required"] == ["customer_id", *FEATURES]
    assert contract["transactions"]["required"] == [
        "customer_id",
        "invoice_date",
        "amount or unit_price",
        "product_id",
    ]
    assert contract["transactions"]["derived"]["invoice_id"] == "customer x day is the invoice"
