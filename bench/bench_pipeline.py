"""Whole-job benchmarks, run by hand: `python bench/bench_pipeline.py [--scale 1000000 ...]`.

Runs, in this one session on this machine, each under /usr/bin/time -v (wall seconds and peak
RSS): the classic notebook on Online Retail (the reference), the full custseg job on the same
data (RFM, 30-trial Optuna study, rules overall and per segment, recommendations with
evaluation, plots, report, MLflow logging), and the scale experiment (`+experiment=scale`: demo
lines from ~1 customer per 10 lines) through the whole job at the requested sizes. Appends a
dated table with ratios, and each custseg job's stage times, to bench/RESULTS.md.

The custseg jobs run in a folder whose MLflow and Optuna stores already exist (an untimed demo
job creates them), as on an analyst's machine after the first run: creating the SQLite schemas
is a one-time cost, reported separately as "first run in an empty folder". Every timed job
still starts a new Optuna study (the study name hashes data, features and algorithm).
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


STAGE = re.compile(r"\[(\d+)/\d+\] (.+?) done in ([\d.]+) s")


def stages(log: str) -> list[tuple[str, float]]:
    """(stage, seconds) from the pipeline's progress lines."""
    return [(f"{i}. {what}", float(s)) for i, what, s in STAGE.findall(log)]


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB, output) of one command, from GNU time's verbose report."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], cwd=cwd, env=env, capture_output=True,
                          text=True, check=True)  # fmt: skip
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", proc.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    assert wall and rss, proc.stderr[-2000:]
    h, m, s = wall.groups()
    return int(h or 0) * 3600 + int(m) * 60 + float(s), int(rss.group(1)) / 1024, proc.stderr


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, nargs="*", default=[1_000_000, 5_000_000, 10_000_000])
    args = ap.parse_args()
    rows, logs = [], {}
    job = [sys.executable, "-m", "custseg", "data=online_retail", "features=rfm", "tuning=optuna"]
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as empty:
        cwd = Path(tmp)
        # creates mlflow.db and optuna.db, untimed
        warm = [sys.executable, "-m", "custseg", "data.generator.n_rows=2000", "tuning=optuna"]
        subprocess.run([*warm, "report=none"], cwd=cwd, capture_output=True, check=True)
        ref = timed([sys.executable, str(HERE / "classic_notebook.py"), str(DATA)], cwd)
        rows.append(("classic_notebook (reference)", *ref[:2], 1.0))
        wall, rss, out = timed(job, cwd)
        name = "custseg_online_retail (full job, 30 trials)"
        rows.append((name, wall, rss, wall / ref[0]))
        logs[name] = out
        first = timed(job, Path(empty))
        rows.append(("custseg_online_retail, first run in an empty folder (creates the stores)",
                     *first[:2], first[0] / ref[0]))  # fmt: skip
        for n in args.scale:
            wall, rss, out = timed([sys.executable, "-m", "custseg", "+experiment=scale",
                                    f"data.generator.n_rows={n}"], cwd)  # fmt: skip
            customers = re.search(r"clean: kept [\d,]+ of [\d,]+ rows, ([\d,]+) customers", out)
            who = f", {customers.group(1)} customers" if customers else ""
            name = f"scale: demo {n:,} rows{who}, whole job"
            rows.append((name, wall, rss, wall / ref[0]))
            logs[name] = out
    lines = [
        f"\n## Whole job, {date.today()} ({platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()})\n",
        "| what | wall s | peak RSS MB | wall vs notebook |",
        "| --- | ---: | ---: | ---: |",
        *[f"| {w} | {s:.1f} | {m:,.0f} | {r:.2f}x |" for w, s, m, r in rows],
    ]
    for name, out in logs.items():
        lines += [f"\nStages of {name}:\n", "| stage | s |", "| --- | ---: |"]
        lines += [f"| {what} | {s:.1f} |" for what, s in stages(out)]
    print("\n".join(lines))
    with open(HERE / "RESULTS.md", "a") as fh:
        fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
