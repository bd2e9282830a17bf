"""The served model under load: `python bench/bench_serving.py [--seconds 120] [--clients 4]`.

Fits the default demo model (100,000 lines, as `python -m custseg` does), logs it with the run's
own `log_model` to a throwaway SQLite store, starts the real `custseg serve` (MLflow's scoring
server with custseg's guard in front) on 127.0.0.1 and lets N clients post back to back for a
fixed time, each on its own keep-alive connection.
A request is what a shop's backend sends for one customer's page: that customer's purchase
history in the natural columns (no amount, no invoice ids: the model derives them), so the
served path is the whole one, the input check, cleaning, features, segment, persona and both
recommendation lists. Prints the throughput, p50/p95/p99 latency and the error count (any
answer but 200), and appends a dated "Serving under load" section to bench/RESULTS.md with the
machine. The server and the clients share the machine, as they would on a one-box deployment.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from results import publish  # bench/results.py, beside this script

from custseg.config import load
from custseg.data.sources import load as load_data
from custseg.model import CustomerModel
from custseg.tracking.pyfunc import input_example, log_model, to_model_input

HERE = Path(__file__).resolve().parent
POOL = 500  # customers whose payloads the clients draw from


@dataclass
class Tally:
    """One client's answers: latency of each 200, and the count of anything else."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def payloads(tx: pd.DataFrame, seed: int) -> list[tuple[bytes, int]]:
    """JSON bodies of POOL random customers' histories, with their line counts."""
    rng = random.Random(seed)
    ids = sorted(tx["customer_id"].astype(str).unique())
    chosen = rng.sample(ids, min(POOL, len(ids)))
    natural = to_model_input(tx).drop(columns=["amount", "invoice_id"])
    out = []
    for _, lines in natural[natural["customer_id"].isin(chosen)].groupby("customer_id"):
        split = {"columns": list(lines.columns), "data": lines.to_numpy().tolist()}
        out.append((json.dumps({"dataframe_split": split}).encode(), len(lines)))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(model_uri: str, tracking_uri: str, port: int, cwd: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env |= {"MLFLOW_TRACKING_URI": tracking_uri,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "custseg", "serve", "--model", model_uri, "--host", "127.0.0.1",
         "--port", str(port)],
        env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.time() + 300
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"custseg serve exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/ping")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise SystemExit("the server did not come up in 300 s")


def client(port: int, bodies: list[tuple[bytes, int]], until: float, seed: int, tally: Tally):
    """Post random bodies back to back until `until` on one keep-alive connection."""
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Content-Type": "application/json"}
    while time.perf_counter() < until:
        body, _ = rng.choice(bodies)
        t0 = time.perf_counter()
        try:
            conn.request("POST", "/invocations", body, headers)
            answer = conn.getresponse()
            text = answer.read()
            ok = answer.status == 200
        except (OSError, http.client.HTTPException) as err:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            ok, text = False, repr(err).encode()
        if ok:
            tally.latencies.append(time.perf_counter() - t0)
        else:
            tally.errors += 1
            tally.first_error = tally.first_error or text[:300].decode(errors="replace")
    conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=120.0, help="measured load (default 120)")
    ap.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    ap.add_argument("--rows", type=int, default=100_000, help="demo lines the model is fitted on")
    ap.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md alone")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tracking_uri = f"sqlite:///{Path(tmp) / 'mlflow.db'}"
        cfg = load([f"data.generator.n_rows={args.rows}", "report=none",
                    f"tracking.uri={tracking_uri}"])  # fmt: skip
        t0 = time.perf_counter()
        model = CustomerModel(cfg)
        tx = model.prepare(load_data(cfg.data, cfg.seed).transactions)[0]
        model.fit(tx)
        fit_s = time.perf_counter() - t0
        mlflow.set_tracking_uri(tracking_uri)
        with mlflow.start_run():
            model_uri = log_model(model, input_example(tx), None)
        bodies = payloads(tx, cfg.seed)
        sizes = [n for _, n in bodies]
        port = free_port()
        proc = serve(model_uri, tracking_uri, port, tmp)
        try:
            warm = Tally()
            client(port, bodies, time.perf_counter() + 5, 0, warm)  # imports, caches
            tallies = [Tally() for _ in range(args.clients)]
            start = time.perf_counter()
            until = start + args.seconds
            threads = [threading.Thread(target=client, args=(port, bodies, until, i + 1, t))
                       for i, t in enumerate(tallies)]  # fmt: skip
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - start
        finally:
            proc.terminate()
            proc.wait(timeout=60)

    lat = np.array([x for t in tallies for x in t.latencies]) * 1000
    errors = sum(t.errors for t in tallies)
    done = len(lat) + errors
    p50, p95, p99 = np.percentile(lat, [50, 95, 99]) if len(lat) else (np.nan,) * 3
    first = next((t.first_error for t in tallies if t.first_error), "")
    cpu, cores = cpu_model(), os.cpu_count()
    lines = [
        f"\n## Serving under load, {date.today().isoformat()} (`python bench/bench_serving.py"
        f"{'' if args.seconds == 120 else f' --seconds {args.seconds:g}'}`)\n",
        f"Machine: `nproc` {cores}, {cpu}, {platform.machine()}, Python "
        f"{platform.python_version()}, MLflow {mlflow.__version__}; server and clients on the "
        "same machine (shared with other work).",
        f"Model: demo data, {args.rows:,} lines ({tx['customer_id'].nunique():,} customers), "
        f"the default config ({cfg.features.name}, {cfg.segment.name}, learned blend), fitted in "
        f"{fit_s:.0f} s; served by `custseg serve` (MLflow's scoring server, one uvicorn worker) "
        "on 127.0.0.1.",
        f"Load: {args.clients} clients, each on one keep-alive connection, back to back for "
        f"{args.seconds:g} s; a request is one customer's history (natural columns, no amount "
        f"or invoice ids), {len(bodies)} customers drawn at random, median "
        f"{int(np.median(sizes))} lines (max {max(sizes)}).\n",
        "| requests | errors | throughput (req/s) | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {done:,} | {errors:,} | {done / wall:.1f} | {p50:.0f} | {p95:.0f} | {p99:.0f} | "
        f"{lat.max() if len(lat) else float('nan'):.0f} |",
    ]
    if first:
        lines.append(f"\nFirst error: `{first}`")
    publish(lines, write=not args.no_write)


if __name__ == "__main__":
    main()
