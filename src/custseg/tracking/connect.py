"""Before the first request to a tracking server: its secrets masked, MLflow's HTTP client
bounded by `tracking.timeout`, and one question asked, so an unreachable server stops the job
within that time with exit 2 and a message naming tracking.uri, before any run exists."""

from __future__ import annotations

import logging
import os
import re
import threading
from urllib.parse import urlsplit

import mlflow
from mlflow.tracking import MlflowClient

from custseg.config.errors import ConfigError
from custseg.config.schema import Tracking
from custseg.redact import has_secret, install, redact, remember

log = logging.getLogger(__name__)

# MLflow's HTTP client reads these on every request; set from tracking.timeout unless the user
# set them (a sweep's later jobs may reset what an earlier job set)
_ours: dict[str, str] = {}
_CREDENTIALS = ("correct the user and password in tracking.uri, or set MLFLOW_TRACKING_USERNAME "
                "and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN)")
_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\"()\[\]]+)")


def http_settings(timeout: int) -> dict[str, str]:
    """MLflow's HTTP settings for a server that gets `timeout` seconds: each request gives up
    after that long, and the retries' back-off (urllib3 sleeps 0, 2, 4, ... s, plus up to 1 s
    of MLflow's jitter each) fits in half of it, so a refused connection is reported with its
    reason before the deadline. MLflow's "View run ... at: URL" print is off: custseg logs that
    line itself, with the URL's secrets masked."""
    retries = 0
    while retries < 7 and (2 ** (retries + 1) - 2) + retries <= timeout / 2:
        retries += 1
    return {"MLFLOW_HTTP_REQUEST_TIMEOUT": str(timeout),
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": str(retries),
            "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
            "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true"}  # fmt: skip


def _is_http(uri: str) -> bool:
    return urlsplit(uri).scheme.lower() in ("http", "https")


def _unreachable(tracking: Tracking, why: str, fix: str) -> ConfigError:
    return ConfigError(f"tracking.uri={redact(tracking.uri)}: {why}. Fix: {fix}", "tracking.uri")


def _start_it(tracking: Tracking) -> str:
    parts = urlsplit(tracking.uri)
    where = f" --host {parts.hostname} --port {parts.port}" if parts.hostname and parts.port else ""
    return (f"start the server (mlflow server{where}), correct tracking.uri, or log to a local "
            "store with tracking=local")  # fmt: skip


def _wait_longer(tracking: Tracking) -> str:
    return (f"check that tracking.uri is an MLflow server's address (something there accepts "
            f"connections but does not answer), give a slow server more than tracking.timeout="
            f"{tracking.timeout} seconds, or log to a local store with tracking=local")  # fmt: skip


def _probe(tracking: Tracking) -> None:
    """Ask the server one cheap question before anything else, and wait at most
    tracking.timeout for the answer, whatever the HTTP settings: an unreachable server stops
    the job at once, instead of after minutes of retries, and before any run exists."""
    outcome: list[BaseException | None] = []

    def ask() -> None:
        try:
            MlflowClient(tracking.uri).search_experiments(max_results=1)
            outcome.append(None)
        except Exception as exc:  # reported by the waiting thread
            outcome.append(exc)

    worker = threading.Thread(target=ask, name="custseg-tracking-probe", daemon=True)
    worker.start()
    worker.join(tracking.timeout)
    if not outcome:
        why = f"the MLflow tracking server did not answer within {tracking.timeout} s"
        raise _unreachable(tracking, why, _wait_longer(tracking))
    exc = outcome[0]
    if exc is None:
        return
    text = redact(str(exc))
    status = getattr(exc, "get_http_status_code", lambda: None)()
    if status in (401, 403):
        raise _unreachable(tracking, f"the MLflow tracking server refused the credentials "
                                     f"(HTTP {status})", _CREDENTIALS)  # fmt: skip
    if "timed out" in text.lower():
        why = f"the MLflow tracking server did not answer within {tracking.timeout} s"
        raise _unreachable(tracking, why, _wait_longer(tracking))
    found = _ERRNO.search(text)
    reason = found.group(1).strip() if found else text.splitlines()[0][:300]
    raise _unreachable(tracking, f"cannot reach the MLflow tracking server ({reason})",
                       _start_it(tracking))  # fmt: skip


def connect(tracking: Tracking) -> None:
    """Before the first request to `tracking.uri`: mask its secrets everywhere (logs, MLflow's
    own lines), bound MLflow's HTTP requests by tracking.timeout and check that a server
    answers. Raises ConfigError (exit 2) naming tracking.uri when it does not."""
    install()
    remember(tracking.uri)
    if not _is_http(tracking.uri):
        return
    for name, value in http_settings(tracking.timeout).items():
        if name not in os.environ or os.environ[name] == _ours.get(name):
            os.environ[name] = _ours[name] = value
    if has_secret(tracking.uri):  # MLflow would print the URL with its password
        os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
    _probe(tracking)


def view_line(uri: str, run: mlflow.ActiveRun) -> None:
    """MLflow's "View run" line, with the URL's secrets masked (MLflow's own print is off)."""
    if _is_http(uri):
        log.info("View run %s at: %s/#/experiments/%s/runs/%s", run.info.run_name,
                 redact(uri).rstrip("/"), run.info.experiment_id, run.info.run_id)  # fmt: skip
