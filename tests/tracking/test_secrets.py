"""Secrets never leave the process: passwords and tokens given in tracking.uri, in a URL's query
or in the environment appear in no param, tag, artifact, log line, console line, report or
store; an unreachable tracking server stops the job within tracking.timeout, exit 2."""

from __future__ import annotations

import io
import logging
import os
import select
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import cloudpickle
import pytest
from mlflow.tracking import MlflowClient

from custseg.config import ConfigError
from custseg.config.schema import Tracking
from custseg.redact import install, redact, redact_fields, redact_files, remember
from custseg.tracking.connect import connect, http_settings
from tests.conftest import clean_env, free_port, make_config, wait_until_up

PASSWORD = "S3cr3tPlanted"
QUERY_TOKEN = "QueryPlanted77"
ENV_SECRET = "EnvPlantedSecret99"
SECRETS = (PASSWORD, QUERY_TOKEN, ENV_SECRET)
HTTP_ENV = ("MLFLOW_HTTP_REQUEST_TIMEOUT", "MLFLOW_HTTP_REQUEST_MAX_RETRIES",
            "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT")


# --- redact ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "masked"), [
    ("http://ann:s3cret@host:5000/x", "http://ann:***@host:5000/x"),
    ("https://ann:p@ss:w0rd@host/x", "https://ann:***@host/x"),  # '@' and ':' in the password
    ("http://:token@host/x", "http://:***@host/x"),  # no user: the password is a token
    ("https://ghp_tok3n@github.com/o/r.git", "https://***@github.com/o/r.git"),  # a lone token
    ("git+https://tok3n@host/r", "git+https://***@host/r"),
    ("postgresql+psycopg2://u:pw@db:5432/m", "postgresql+psycopg2://u:***@db:5432/m"),
    ("mysql://root:pw@db/m?charset=utf8", "mysql://root:***@db/m?charset=utf8"),
    ("s3://AKIA:secretkey@bucket/key", "s3://AKIA:***@bucket/key"),
    ("postgresql://reader@db/m", "postgresql://reader@db/m"),  # a user name alone is no secret
    ("ssh://git@github.com/o/r", "ssh://git@github.com/o/r"),
    ("see 'http://u:pw@h:1/x' and \"https://v:pw2@h2\"", "see 'http://u:***@h:1/x' and "
                                                         "\"https://v:***@h2\""),  # fmt: skip
    ("http://host:5000/a@b", "http://host:5000/a@b"),  # '@' in the path, no userinfo
    ("http://host/x?email=a@b.com", "http://host/x?email=a@b.com"),
    ("https://h/p?access_token=abc&page=2", "https://h/p?access_token=***&page=2"),
    ("https://h/p?TOKEN=abc#top", "https://h/p?TOKEN=***#top"),
    ("https://h/p?x=1&api_key=k1&apikey=k2", "https://h/p?x=1&api_key=***&apikey=***"),
    ("https://h/p?key=k&password=pw&secret=s", "https://h/p?key=***&password=***&secret=***"),
    ("https://a.blob/c?sv=2020&sig=abc%2Fdef", "https://a.blob/c?sv=2020&sig=***"),
    ("https://b.s3/k?X-Amz-Credential=AK/x&X-Amz-Signature=dead",
     "https://b.s3/k?X-Amz-Credential=***&X-Amz-Signature=***"),
    ("https://h/p?author=Ann&monkey_business=1", "https://h/p?author=Ann&monkey_business=1"),
    ("host=db password=hunter22 user=x", "host=db password=*** user=x"),
    ('{"password": "hunter22", "client_secret":"s"}', '{"password": "***", "client_secret":"***"}'),
    ("MLFLOW_TRACKING_TOKEN=abc", "MLFLOW_TRACKING_TOKEN=***"),
    ("max_tokens=5 tracking.timeout=30", "max_tokens=5 tracking.timeout=30"),
    ("    token = _sink.set(into)", "    token = _sink.set(into)"),  # code in a traceback
    ("sqlite:///mlflow.db", "sqlite:///mlflow.db"),
    ("a:b@c", "a:b@c"),  # not a URL
])  # fmt: skip
def test_redact_masks_every_url_form(text, masked):
    assert redact(text) == masked
    assert redact(masked) == masked  # idempotent


def test_remembered_and_environment_secrets_are_masked_anywhere(monkeypatch):
    remember("http://ann:Rem%40mbered9@host/x")  # raw and percent-decoded forms
    assert redact("auth failed for Rem@mbered9 and Rem%40mbered9") == "auth failed for *** and ***"
    monkeypatch.setenv("CUSTSEG_TEST_API_TOKEN", "EnvOnlyValue42")
    monkeypatch.setenv("CUSTSEG_TEST_TOKEN_FILE", "/etc/passwd-like/path")  # a path, kept
    monkeypatch.setenv("CUSTSEG_TEST_SECRET", "abc")  # too short to mask safely
    assert redact("run EnvOnlyValue42 from /etc/passwd-like/path abc") == (
        "run *** from /etc/passwd-like/path abc"
    )
    monkeypatch.delenv("CUSTSEG_TEST_API_TOKEN")
    assert redact("EnvOnlyValue42") == "EnvOnlyValue42"  # read when redacting, not cached


def test_installed_redaction_masks_any_loggers_records_tracebacks_and_warnings():
    install()
    install()  # idempotent
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    foreign = logging.getLogger("mlflow.tracking._tracking_service.test_secrets")
    foreign.addHandler(handler)
    foreign.propagate = False
    try:
        foreign.warning("View run %s at: %s", "r1", "http://user:LogPw1234@h:5000/#/runs/1")
        try:
            raise RuntimeError("API request to https://u:TbPw5678@h/api failed")
        except RuntimeError:
            foreign.exception("failed")
    finally:
        foreign.removeHandler(handler)
    out = stream.getvalue()
    assert "View run r1 at: http://user:***@h:5000/#/runs/1" in out
    assert "RuntimeError: API request to https://u:***@h/api failed" in out
    assert "LogPw1234" not in out and "TbPw5678" not in out
    text = warnings.formatwarning("see http://u:WarnPw999@h", UserWarning, "f.py", 1)
    assert "u:***@h" in text and "WarnPw999" not in text
    # a record built without the factory (as from a queue) is masked by the root's handlers
    root_stream = io.StringIO()
    root_handler = logging.StreamHandler(root_stream)
    logging.getLogger().addHandler(root_handler)
    try:
        install()
        record = logging.makeLogRecord({"msg": "to %s", "args": ("http://u:QueuePw77@h",),
                                        "levelno": logging.INFO})  # fmt: skip
        root_handler.handle(record)
    finally:
        logging.getLogger().removeHandler(root_handler)
    assert root_stream.getvalue() == "to http://u:***@h\n"


def test_redact_fields_masks_the_config_a_model_pickles(monkeypatch):
    monkeypatch.setenv("CUSTSEG_TEST_API_TOKEN", ENV_SECRET)
    config = make_config(f"tracking.uri=http://user:{PASSWORD}@127.0.0.1:5000",
                         f"run_name='x https://h.example/d?access_token={QUERY_TOKEN}'",
                         "tracking.experiment=exp-${oc.env:CUSTSEG_TEST_API_TOKEN}")
    safe = redact_fields(config)
    blob = cloudpickle.dumps(safe)
    assert not [s for s in SECRETS if s.encode() in blob]
    assert safe.tracking.uri == "http://user:***@127.0.0.1:5000"
    assert safe.run_name == "x https://h.example/d?access_token=***"
    assert safe.tracking.experiment == "exp-***"
    assert safe.data == config.data and safe.segment is config.segment  # the rest as it was
    assert config.tracking.uri.endswith(f"{PASSWORD}@127.0.0.1:5000")  # the original untouched


def test_redact_files_rewrites_hydras_record_of_the_command_line(tmp_path):
    hydra = tmp_path / ".hydra"
    hydra.mkdir()
    (hydra / "overrides.yaml").write_text(f"- tracking.uri=http://u:{PASSWORD}@h:1\n- seed=3\n")
    (hydra / "config.yaml").write_text("seed: 3\n")
    changed = redact_files(tmp_path, ".hydra/*.yaml")
    assert changed == [hydra / "overrides.yaml"]
    assert (hydra / "overrides.yaml").read_text() == "- tracking.uri=http://u:***@h:1\n- seed=3\n"
    assert sorted(p.name for p in hydra.iterdir()) == ["config.yaml", "overrides.yaml"]


# --- a bounded wait for the tracking server ----------------------------------------------------


@pytest.mark.parametrize(("timeout", "retries"), [(1, 1), (5, 1), (30, 3), (120, 5), (600, 7)])
def test_http_settings_fit_the_retries_in_half_the_timeout(timeout, retries):
    env = http_settings(timeout)
    assert env["MLFLOW_HTTP_REQUEST_TIMEOUT"] == str(timeout)
    assert env["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == str(retries)
    assert env["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] == "true"
    factor = int(env["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"])
    worst = sum(factor * 2 ** (k - 1) + 1.0 for k in range(2, retries + 1))  # urllib3 + jitter
    assert worst <= timeout / 2


@pytest.fixture
def http_env(monkeypatch) -> None:
    """MLflow's HTTP settings as the user left them (unset), restored after the test."""
    for name in HTTP_ENV:
        monkeypatch.delenv(name, raising=False)


def _tracking(uri: str, timeout: int = 3) -> Tracking:
    return Tracking(uri=uri, experiment="custseg", register_as=None, timeout=timeout)


def test_connect_to_a_closed_port_fails_fast_naming_tracking_uri(http_env):
    port = free_port()  # bound, then closed: nothing listens there
    start = time.perf_counter()
    with pytest.raises(ConfigError) as err:
        connect(_tracking(f"http://user:{PASSWORD}@127.0.0.1:{port}"))
    assert time.perf_counter() - start < 3
    assert err.value.key == "tracking.uri"
    msg = str(err.value)
    assert msg.startswith(f"tracking.uri=http://user:***@127.0.0.1:{port}: cannot reach the "
                          "MLflow tracking server (Connection refused). Fix: start the server "
                          f"(mlflow server --host 127.0.0.1 --port {port})")  # fmt: skip
    assert PASSWORD not in msg
    assert os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "3"  # set from tracking.timeout
    assert os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] == "true"


def test_connect_keeps_the_users_own_http_settings(http_env, monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "false")
    with pytest.raises(ConfigError):
        connect(_tracking(f"http://127.0.0.1:{free_port()}", timeout=7))
    assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "0"
    assert os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] == "false"  # no secret to hide
    assert os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "7"
    with pytest.raises(ConfigError):  # a password in the URL: MLflow's URL print goes off
        connect(_tracking(f"http://u:{PASSWORD}@127.0.0.1:{free_port()}"))
    assert os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] == "true"


class _Refuse(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="mlflow"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


def test_connect_to_a_server_refusing_the_credentials_says_so(http_env):
    server = HTTPServer(("127.0.0.1", 0), _Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with pytest.raises(ConfigError) as err:
            connect(_tracking(f"http://user:{PASSWORD}@127.0.0.1:{server.server_port}"))
    finally:
        server.shutdown()
        server.server_close()
    msg = str(err.value)
    assert "refused the credentials (HTTP 401)" in msg and "MLFLOW_TRACKING_PASSWORD" in msg
    assert f"http://user:***@127.0.0.1:{server.server_port}" in msg and PASSWORD not in msg


def _custseg(*args: str, cwd: Path, env: dict[str, str]) -> tuple[subprocess.CompletedProcess,
                                                                  float]:  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "custseg", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    return proc, time.perf_counter() - start


def _pending(sock: socket.socket, proc: subprocess.Popen) -> float | None:
    """When a connection first waits in the listener's backlog (never accepted), or None if
    the process ended first."""
    while proc.poll() is None:
        if select.select([sock], [], [], 0.05)[0]:
            return time.perf_counter()
    return None


@pytest.mark.slow
@pytest.mark.parametrize("server", ["closed port", "silent listener"])
def test_unreachable_server_exits_2_within_the_timeout(server, tmp_path):
    """A closed port refuses at once; a listener that never answers is waited for exactly
    tracking.timeout. Either way: exit 2, not MLflow's minutes of retries, one message naming
    tracking.uri (masked) and the fix, no traceback, no run anywhere."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    if server == "silent listener":
        sock.listen(8)  # the kernel completes connections; nobody accepts, reads or answers
    else:
        sock.close()
    args = [f"tracking.uri=http://user:{PASSWORD}@127.0.0.1:{port}", "tracking.timeout=5",
            "data.generator.n_rows=3000", "report=none", f"hydra.run.dir={tmp_path / 'out'}"]
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "custseg", *args], cwd=tmp_path,
                            env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    try:
        asked = _pending(sock, proc) if server == "silent listener" else None
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        proc.kill()
        sock.close()
    done = time.perf_counter()
    out = stdout + stderr
    assert proc.returncode == 2, out[-3000:]
    assert done - start < 60, done - start  # process start included; MLflow alone: 255 s
    assert "Traceback" not in out and PASSWORD not in out
    (line,) = [x for x in stderr.splitlines() if x.startswith("custseg: error: ")]
    assert line.startswith(f"custseg: error: tracking.uri=http://user:***@127.0.0.1:{port}: ")
    if server == "silent listener":
        assert asked is not None
        assert 4.5 < done - asked < 5 + 5, done - asked  # tracking.timeout, then a quick exit
        assert "did not answer within 5 s" in line and "tracking.timeout=5" in line
    else:
        assert "(Connection refused)" in line and f"--port {port}" in line
    assert "tracking=local" in line
    assert not (tmp_path / "mlflow.db").exists()  # no run, not even a local one


# --- a whole run against a real tracking server ------------------------------------------------


def _files(*folders: Path) -> Iterator[Path]:
    for folder in folders:
        yield from (p for p in folder.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def secret_run(tmp_path_factory) -> dict:
    """`python -m custseg` with a password in tracking.uri, a token in a URL's query and an
    environment secret interpolated into the run name, against a real `mlflow server` (a plain
    server ignores the basic auth MLflow sends from the URL's userinfo)."""
    tmp = tmp_path_factory.mktemp("secrets")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", f"sqlite:///{tmp / 'server.db'}",
         "--artifacts-destination", str(tmp / "server-artifacts"), "--workers", "1"],
        env=clean_env(), cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health", server)
        run_name = (f"'planted https://data.example/x?access_token={QUERY_TOKEN} "
                    "${oc.env:CUSTSEG_TEST_API_TOKEN}'")  # fmt: skip
        proc, _ = _custseg(f"tracking.uri=http://user:{PASSWORD}@127.0.0.1:{port}",
                           f"run_name={run_name}", "data.generator.n_rows=3000",
                           "stability.rounds=0", "report.screenshot=false",
                           f"hydra.run.dir={tmp / 'out'}",
                           cwd=tmp, env=clean_env(CUSTSEG_TEST_API_TOKEN=ENV_SECRET))  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-3000:]
        client = MlflowClient(f"http://127.0.0.1:{port}")
        (run,) = client.search_runs([client.get_experiment_by_name("custseg").experiment_id])
        yield {"tmp": tmp, "port": port, "proc": proc, "run": run, "client": client}
    finally:
        server.terminate()
        server.wait(timeout=60)


def _leaks(data: bytes | str) -> list[str]:
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    return [s for s in SECRETS if s.encode() in data]


@pytest.mark.slow
def test_no_secret_in_params_tags_artifacts_logs_console_report_or_store(secret_run):
    tmp, run, proc = secret_run["tmp"], secret_run["run"], secret_run["proc"]
    port = secret_run["port"]
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "planted https://data.example/x?access_token=*** ***"
    assert run.data.params["tracking.uri"] == f"http://user:***@127.0.0.1:{port}"
    names_and_values = [*run.data.params.items(), *run.data.tags.items(),
                        *((k, str(v)) for k, v in run.data.metrics.items())]  # fmt: skip
    assert not [kv for kv in names_and_values if _leaks(" ".join(kv))]
    # the console: MLflow's own "View run" print is off, custseg's masked line replaces it
    assert not _leaks(proc.stdout) and not _leaks(proc.stderr)
    assert "🏃 View run" not in proc.stdout
    view = f"View run {run.info.run_name} at: http://user:***@127.0.0.1:{port}/#/experiments/"
    assert view in proc.stdout
    # every file custseg wrote (local copies, the job log) and the server's artifact store,
    # but for the pickled model and Hydra's record (the next test)
    out, store = tmp / "out", tmp / "server-artifacts"
    checked = [p for p in _files(out, store)
               if ".hydra" not in p.parts and p.name != "model.pkl"]  # fmt: skip
    assert len(checked) > 40 and (out / "cli.log").is_file()
    assert {"config.yaml", "report.md", "report.html", "segments.csv"} <= {p.name for p in checked}
    assert not [(p, s) for p in checked for s in _leaks(p.read_bytes())]
    assert "http://user:***@127.0.0.1" in (out / "cli.log").read_text()
    report = (out / "artifacts" / "report" / "report.md").read_text()
    assert f"tracking.uri=http://user:***@127.0.0.1:{port}" in report  # the command, masked
    # the server's database, byte for byte
    assert not _leaks((tmp / "server.db").read_bytes())


@pytest.mark.slow
def test_no_secret_in_the_pickled_model_or_hydras_record(secret_run):
    """Needs custseg.model's pickled config masked with redact_fields and the CLI's job to
    mask Hydra's .hydra/*.yaml with redact_files (see the helper's report)."""
    tmp = secret_run["tmp"]
    pickles = list((tmp / "server-artifacts").rglob("model.pkl"))
    hydra = list((tmp / "out" / ".hydra").glob("*.yaml"))
    assert pickles and len(hydra) == 3
    assert not [(p, s) for p in [*pickles, *hydra] for s in _leaks(p.read_bytes())]
