"""The four whole-job benchmarks in one session, run by hand: `python bench/bench_pipeline.py`.

On this machine, one after the other, each command under /usr/bin/time -v (wall seconds of the
command itself and its peak RSS):

1. classic_notebook: bench/classic_notebook.py on Online Retail, the reference;
2. custseg_online_retail: the full job on the same data (`python -m custseg data=online_retail
   features=rfm tuning=optuna`: RFM, a study, rules overall and per segment, recommendations
   with evaluation, plots, report with screenshot, MLflow logging). 1 and 2 alternate
   `--repeat` times after one untimed run of each (page cache, bytecode); the table gives the
   median and the range, and the ratio of the medians. Every custseg run starts a new study
   (its seed is in the study name) in stores that already exist, as on an analyst's machine
   after the first run; a first run in an empty folder (creating both SQLite stores) is timed
   apart;
3. mining: bench/bench_mining.py (every engine at 0.02, 0.01, 0.005; its own table);
4. scale: `+experiment=scale` (about 10 demo lines per customer) at each `--scale` size, with
   the stage lines (seconds and memory) of each run.

Children run without PYTHONDONTWRITEBYTECODE (set in some sandboxes): a normal machine caches
bytecode, and without it every run would compile custseg, and the notebook's libraries, anew.
Appends one dated section to bench/RESULTS.md (mining appends its own).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
from datetime import date
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "online_retail" / "online_retail.csv.gz"
JOB = ["-m", "custseg", "data=online_retail", "features=rfm", "tuning=optuna"]
STAGE = re.compile(
    r"\[(\d+)/\d+\] (.+?) done in ([\d.]+) s(?: \(memory ([\d,]+) MB, peak ([\d,]+) MB\))?"
)


def _env() -> dict[str, str]:
    drop = ("MLFLOW_", "PYTHONDONTWRITEBYTECODE")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def timed(args: list[str], cwd: Path) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB, output) of one command, from GNU time's verbose report."""
    proc = subprocess.run(["/usr/bin/time", "-v", sys.executable, *args], cwd=cwd, env=_env(),
                          capture_output=True, text=True, check=False)  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"{args} failed:\n{proc.stderr[-3000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", proc.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    assert wall and rss, proc.stderr[-2000:]
    h, m, s = wall.groups()
    seconds = int(h or 0) * 3600 + int(m) * 60 + float(s)
    return seconds, int(rss.group(1)) / 1024, proc.stdout + proc.stderr


def stage_rows(log: str) -> list[str]:
    """Markdown rows of the pipeline's progress lines: stage, seconds, memory after, peak."""
    rows = []
    for i, what, s, now, peak in STAGE.findall(log):
        rows.append(f"| {i}. {what} | {float(s):.1f} | {now or ''} | {peak or ''} |")
    return rows


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if "model name" in line)
    except (OSError, StopIteration):
        pass
    with open("/proc/meminfo") as fh:
        mem = int(next(line.split()[1] for line in fh if line.startswith("MemTotal"))) / 2**20
    libs = ", ".join(f"{p} {version(p)}" for p in ("pandas", "scikit-learn", "mlflow", "optuna"))
    return (f"{platform.machine()} {cpu}, {os.cpu_count()} cores, {mem:.0f} GB RAM, "
            f"Python {platform.python_version()}, {libs}")  # fmt: skip


def online_retail(repeat: int, cwd: Path) -> tuple[list[str], str, float]:
    """Alternating notebook / custseg runs: table rows, the median custseg run's log, and the
    notebook's median wall seconds."""
    notebook = [str(HERE / "classic_notebook.py"), str(DATA)]
    timed(notebook, cwd)  # untimed warm-up of both
    timed([*JOB, "seed=1000"], cwd)
    runs: dict[str, list[tuple[float, float, str]]] = {"notebook": [], "custseg": []}
    for i in range(repeat):
        runs["notebook"].append(timed(notebook, cwd))
        runs["custseg"].append(timed([*JOB, f"seed={i + 1}"], cwd))
        print(f"run {i + 1}/{repeat}: notebook {runs['notebook'][-1][0]:.2f} s, custseg "
              f"{runs['custseg'][-1][0]:.2f} s", flush=True)  # fmt: skip
    med = {k: statistics.median(w for w, _, _ in v) for k, v in runs.items()}
    rows = []
    for name, label in (("notebook", "classic_notebook (reference)"),
                        ("custseg", "custseg_online_retail (full job, warm stores)")):  # fmt: skip
        walls = [w for w, _, _ in runs[name]]
        rss = statistics.median(r for _, r, _ in runs[name])
        rows.append(f"| {label} | {med[name]:.2f} ({min(walls):.2f}-{max(walls):.2f}) | "
                    f"{rss:,.0f} | {med[name] / med['notebook']:.2f}x |")  # fmt: skip
    middle = sorted(runs["custseg"], key=lambda r: r[0])[len(runs["custseg"]) // 2]
    return rows, middle[2], med["notebook"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5, help="notebook/custseg pairs")
    ap.add_argument("--scale", type=int, nargs="*", default=[1_000_000, 5_000_000, 10_000_000])
    ap.add_argument("--no-mining", action="store_true", help="skip bench/bench_mining.py")
    ap.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md")
    args = ap.parse_args()
    logs: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as empty:
        cwd = Path(tmp)
        # creates mlflow.db and optuna.db, untimed
        subprocess.run([sys.executable, "-m", "custseg", "data.generator.n_rows=2000",
                        "tuning=optuna", "report=none"], cwd=cwd, env=_env(),
                       capture_output=True, check=True)  # fmt: skip
        rows, logs["custseg_online_retail (median run)"], notebook_median = online_retail(
            args.repeat, cwd
        )
        wall, rss, _ = timed([*JOB, "seed=1"], Path(empty))
        rows.append(f"| custseg_online_retail, first run in an empty folder (creates the stores) "
                    f"| {wall:.2f} | {rss:,.0f} | {wall / notebook_median:.2f}x |")  # fmt: skip
        if not args.no_mining:
            mining = [sys.executable, str(HERE / "bench_mining.py"), "--methods", "eclat", "fim",
                      "fpgrowth", "apriori", "spark", "dense-apriori"]  # fmt: skip
            if args.no_write:
                mining.append("--no-write")
            subprocess.run(mining, env=_env(), check=True)
        for n in args.scale:
            wall, rss, log = timed(["-m", "custseg", "+experiment=scale",
                                    f"data.generator.n_rows={n}"], cwd)  # fmt: skip
            kept = re.search(r"clean: kept ([\d,]+) of ([\d,]+) rows, ([\d,]+) customers", log)
            what = f"{kept.group(2)} lines, {kept.group(3)} customers" if kept else f"{n:,} rows"
            name = f"scale: demo {what}, whole job"
            rows.append(f"| {name} | {wall:.1f} | {rss:,.0f} | {wall / notebook_median:.2f}x |")
            logs[name] = log
            print(rows[-1], flush=True)
    lines = [
        f"\n## Whole job, {date.today()} (`python bench/bench_pipeline.py`)\n",
        f"{machine()}. Seconds are wall clock of the command (GNU time), median (min-max) of "
        f"{args.repeat} alternating runs for the first two rows; peak RSS is the command's own "
        "process (Chromium, which pictures the report, is separate).\n",
        "| what | wall s | peak RSS MB | wall vs notebook |",
        "| --- | ---: | ---: | ---: |",
        *rows,
    ]
    for name, log in logs.items():
        lines += [f"\nStages of {name}:\n", "| stage | s | memory after, MB | peak so far, MB |",
                  "| --- | ---: | ---: | ---: |", *stage_rows(log)]  # fmt: skip
    print("\n".join(lines))
    if not args.no_write:
        with open(HERE / "RESULTS.md", "a") as fh:
            fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
