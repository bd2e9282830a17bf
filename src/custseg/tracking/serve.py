"""`custseg serve --model URI`: a logged or registered custseg model over HTTP, the API of
`mlflow models serve` (POST /invocations, GET /ping, /health, /version; JSON, CSV and Parquet
bodies in MLflow's payload formats), but no answer carries a stack trace or a server path, and a
body that cannot be read is a 400 naming the problem (`custseg.tracking.guard`).

It is MLflow's own scoring server (`mlflow.pyfunc.scoring_server.init`) run by uvicorn, as
`mlflow models serve --env-manager local` runs it, with the guard in front. The model URI is
resolved as `custseg score` resolves it: runs:/ and models:/ in the tracking store of
--tracking-uri (default MLFLOW_TRACKING_URI, else sqlite:///mlflow.db), a folder as is. The
address is taken and the model loaded before the server starts, so a port in use, an unknown
host or a model that is not there stops it at once with exit 2 and the option at fault.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import mlflow
from mlflow.pyfunc import PyFuncModel, scoring_server

from custseg.config.errors import ConfigError
from custseg.config.schema import Tracking
from custseg.listen import Parser, bind, port_number
from custseg.redact import redact
from custseg.tracking.connect import connect
from custseg.tracking.guard import Guard
from custseg.tracking.pyfunc import CustomerModelPyfunc

log = logging.getLogger(__name__)
# loggers at INFO: a line per request (uvicorn.access) and per refusal (custseg.tracking); the
# model's steps (cleaning, features) stay at WARNING, or each request would log several lines
LOUD = ("uvicorn.access", "custseg.tracking")
STORE_SCHEMES = ("runs", "models")  # model URIs looked up in the tracking store
MODEL_FIX = (
    "give a runs:/RUN_ID/model or models:/NAME/VERSION URI of that tracking store "
    "(--tracking-uri, or MLFLOW_TRACKING_URI), or the folder of a saved model"
)
def open_model(model_uri: str, tracking_uri: str) -> PyFuncModel:
    """The pyfunc model behind `model_uri`, checked to be a custseg model; a ValueError naming
    --model or --tracking-uri when it cannot be loaded."""
    mlflow.set_tracking_uri(tracking_uri)
    if urlsplit(model_uri).scheme in STORE_SCHEMES:
        sqlite = urlsplit(tracking_uri).scheme == "sqlite" and tracking_uri[len("sqlite:///") :]
        if sqlite and sqlite != ":memory:" and not Path(sqlite.split("?")[0]).is_file():
            raise ValueError(f"--tracking-uri {redact(tracking_uri)}: no such SQLite store, so "
                             f"--model {model_uri} cannot be looked up (it would be created "
                             f"empty). Fix: the store the model was logged to")  # fmt: skip
        try:
            connect(Tracking(uri=tracking_uri, experiment="custseg-serving", register_as=None,
                             timeout=30))  # fmt: skip
        except ConfigError as exc:
            raise ValueError(f"--tracking-uri: {exc}") from None
    try:
        model = scoring_server.load_model_with_mlflow_config(model_uri)
    except Exception as exc:  # MLflow, a missing artifact client, an unpickling error: one line
        why = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise ValueError(f"--model {model_uri}: cannot load it ({why}). Fix: {MODEL_FIX}") from None
    try:
        ours = isinstance(model.unwrap_python_model(), CustomerModelPyfunc)
    except Exception:  # not a python model at all
        ours = False
    if not ours:
        raise ValueError(f"--model {model_uri}: not a custseg model (flavors: "
                         f"{', '.join(model.metadata.flavors)}). Fix: serve the model of a custseg "
                         "run, or serve this one with mlflow models serve")  # fmt: skip
    return model


def run(model: PyFuncModel, sock: socket.socket, model_uri: str) -> None:
    """Serve until SIGTERM or Ctrl-C (uvicorn finishes the requests under way, then returns)."""
    import uvicorn

    # uvicorn's own log formats read the record's args, which custseg's redaction has merged
    # into the message: its records go to the root handler, one format for the whole log
    config = uvicorn.Config(Guard(scoring_server.init(model)), log_config=None, log_level="warning")
    for name in LOUD:
        logging.getLogger(name).setLevel(logging.INFO)
    sock.listen(config.backlog)  # connections wait from now on instead of being refused
    host, port = sock.getsockname()[:2]
    url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    print(f"custseg serve: {redact(model_uri)} at {url} (POST /invocations; GET /ping, /health, "
          "/version)", flush=True)  # fmt: skip
    stops: list[int] = []

    def stop(signum: int, frame: Any) -> None:
        stops.append(signum)  # uvicorn handles the signal, then raises it again here

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)
    uvicorn.Server(config).run(sockets=[sock])
    names = ", ".join(signal.Signals(s).name for s in stops)
    print(f"custseg serve: stopped{f' by {names}' if names else ''}", file=sys.stderr)


def main(argv: Sequence[str]) -> None:
    ap = Parser(
        prog="custseg serve",
        description="Serve a logged or registered custseg model over HTTP: the API of mlflow "
        "models serve, every error a JSON answer naming the problem, never a stack trace.",
    )
    ap.add_argument(
        "--model",
        required=True,
        metavar="URI",
        help="models:/NAME/VERSION, runs:/RUN_ID/model or a model folder",
    )
    ap.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only)",
    )
    ap.add_argument("--port", type=port_number, default=5000, help="default 5000; 0: any free")
    ap.add_argument("--tracking-uri", metavar="URI",
                    default=os.environ.get("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db"),
                    help="where runs:/ and models:/ are looked up (default MLFLOW_TRACKING_URI, "
                    "else sqlite:///mlflow.db)")  # fmt: skip
    args = ap.parse_args(list(argv))
    logging.basicConfig(level=logging.WARNING, format="[%(asctime)s][%(name)s] %(message)s")
    try:
        sock = bind(args.host, args.port)
        model = open_model(args.model, args.tracking_uri)
    except ValueError as exc:
        print(f"custseg serve: error: {redact(' '.join(str(exc).split()))}", file=sys.stderr)
        sys.exit(2)
    run(model, sock, args.model)
