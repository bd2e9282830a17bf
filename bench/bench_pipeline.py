"""Whole-job benchmarks, run by hand: `python bench/bench_pipeline.py [--scale 1000000 ...]`.

Runs, in this one session on this machine, each under /usr/bin/time -v (wall seconds and peak
RSS): the classic notebook on Online Retail (the reference), the full custseg job on the same
data (RFM, 30-trial Optuna study, rules overall and per segment, recommendations with
evaluation, plots, report, MLflow logging), and the demo generator through the whole job at the
requested sizes. Appends a dated table with ratios to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "online_retail" / "online_retail.csv.gz"


def timed(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of one command, from GNU time's verbose report."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], cwd=cwd, env=env, capture_output=True,
                          text=True, check=True)  # fmt: skip
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", proc.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    assert wall and rss, proc.stderr[-2000:]
    h, m, s = wall.groups()
    return int(h or 0) * 3600 + int(m) * 60 + float(s), int(rss.group(1)) / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, nargs="*", default=[1_000_000])
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        ref = timed([sys.executable, str(HERE / "classic_notebook.py"), str(DATA)], cwd)
        rows.append(("classic_notebook (reference)", *ref, 1.0))
        job = timed([sys.executable, "-m", "custseg", "data=online_retail", "features=rfm",
                     "tuning=optuna"], cwd)  # fmt: skip
        rows.append(("custseg_online_retail (full job, 30 trials)", *job, job[0] / ref[0]))
        for n in args.scale:
            res = timed([sys.executable, "-m", "custseg", f"data.generator.n_rows={n}",
                         "features=rfm"], cwd)  # fmt: skip
            rows.append((f"scale: demo {n:,} rows, whole job", *res, res[0] / ref[0]))
    lines = [
        f"\n## Whole job, {date.today()} ({platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()})\n",
        "| what | wall s | peak RSS MB | wall vs notebook |",
        "| --- | ---: | ---: | ---: |",
        *[f"| {w} | {s:.1f} | {m:,.0f} | {r:.2f}x |" for w, s, m, r in rows],
    ]
    print("\n".join(lines))
    with open(HERE / "RESULTS.md", "a") as fh:
        fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
