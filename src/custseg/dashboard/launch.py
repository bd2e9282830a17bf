"""`custseg dashboard`: start the segment explorer over an MLflow store.

Streamlit serves `dashboard/app.py` in a child process (`python -m streamlit run`, its public
command line) bound to 127.0.0.1 unless told otherwise; the store reaches the app through
CUSTSEG_TRACKING_URI. The address is checked before Streamlit starts, so a port in use stops
the command at once with exit 2 naming --port. A store that is not there is said in the page
(and here), never created.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from custseg.listen import Parser, bind, port_number
from custseg.redact import redact
from custseg.tracking.explore import BadStore, NoStore, client

APP = Path(__file__).resolve().parent / "app.py"
ENV = "CUSTSEG_TRACKING_URI"  # how the store reaches the app
DEFAULT_URI = "sqlite:///mlflow.db"  # MLflow's own default, where `python -m custseg` logs


def command(host: str, port: int) -> list[str]:
    """Streamlit's command line for the app: headless, no file watching, no usage statistics,
    and a generic message for an error the app did not catch (the app says what went wrong
    itself; the server log keeps the details)."""
    return [sys.executable, "-m", "streamlit", "run", str(APP),
            "--server.address", host, "--server.port", str(port),
            "--server.headless", "true", "--server.fileWatcherType", "none",
            "--browser.gatherUsageStats", "false", "--client.showErrorDetails", "none",
            "--client.toolbarMode", "minimal", "--theme.base", "light"]  # fmt: skip


def main(argv: Sequence[str]) -> None:
    ap = Parser(prog="custseg dashboard",
                description="The segment explorer for the marketing team, over the MLflow "
                "store your runs went to.")  # fmt: skip
    ap.add_argument("--tracking-uri", metavar="URI",
                    default=os.environ.get("MLFLOW_TRACKING_URI", DEFAULT_URI),
                    help=f"the MLflow store (default MLFLOW_TRACKING_URI, else {DEFAULT_URI})")
    ap.add_argument("--host", default="127.0.0.1",
                    help="address to listen on (default 127.0.0.1: this machine only)")
    ap.add_argument("--port", type=port_number, default=8501, help="default 8501")
    args = ap.parse_args(list(argv))
    try:
        bind(args.host, args.port).close()
    except ValueError as exc:
        print(f"custseg dashboard: error: {exc}", file=sys.stderr)
        sys.exit(2)
    uri = args.tracking_uri
    try:
        client(uri)
    except NoStore as exc:  # the page says it too; runs logged later appear without a restart
        print(f"custseg dashboard: warning: {exc}", file=sys.stderr)
    except BadStore as exc:
        print(f"custseg dashboard: error: {exc}", file=sys.stderr)
        sys.exit(2)
    print(f"custseg dashboard: http://{args.host}:{args.port}/ over {redact(uri)} "
          "(Ctrl-C stops it)", flush=True)  # fmt: skip
    env = {**os.environ, ENV: uri, "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}
    child = subprocess.Popen(command(args.host, args.port), env=env)
    # stopping the command stops the server: SIGTERM is passed on, Ctrl-C reaches both
    signal.signal(signal.SIGTERM, lambda signum, frame: child.terminate())
    try:
        code = child.wait()
    except KeyboardInterrupt:
        child.terminate()
        code = child.wait()
    sys.exit(0 if code in (0, -signal.SIGTERM) else code)
