"""Foundation timings, run by hand: `python bench/bench_foundation.py [--max-rows N]`.

Measures the demo generator from 1k to 10M rows, and the main job's wall time (a fresh
`python -m custseg` process, MLflow logging included) on demo data and on Online Retail.
Appends a dated table to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from custseg.data import synthetic

HERE = Path(__file__).resolve().parent


def time_generator(n_rows: int) -> tuple[float, int]:
    t0 = time.perf_counter()
    demo = synthetic.generate(synthetic.DemoParams(n_rows=n_rows), seed=0)
    return time.perf_counter() - t0, len(demo.transactions)


def time_main_job(*overrides: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "custseg", *overrides], cwd=tmp, env=env,
                       check=True, capture_output=True)  # fmt: skip
        return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-rows", type=int, default=10_000_000)
    args = ap.parse_args()
    lines = [
        f"\n## Foundation, {date.today()} ({platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()})\n",
        "| what | rows | seconds |",
        "| --- | ---: | ---: |",
    ]
    for n in (1_000, 100_000, 1_000_000, 3_000_000, 10_000_000):
        if n > args.max_rows:
            break
        secs, rows = time_generator(n)
        lines.append(f"| demo generator, n_rows={n:,} | {rows:,} | {secs:.2f} |")
        print(lines[-1], flush=True)
    for label, overrides in (
        ("main job, demo (default config)", ()),
        ("main job, demo 1M rows", ("data.generator.n_rows=1000000",)),
        ("main job, online_retail", ("data=online_retail",)),
    ):
        secs = time_main_job(*overrides)
        lines.append(f"| {label} | | {secs:.1f} |")
        print(lines[-1], flush=True)
    with open(HERE / "RESULTS.md", "a") as fh:
        fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
