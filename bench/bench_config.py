"""How long a config mistake takes to be refused: the whole `python -m custseg <typo>` process,
start to exit 2, for typos in keys and values used at different depths of the run (a value only
the evaluation reads is refused as fast as a top-level one: nothing runs before the check).

`python bench/bench_config.py [--repeat 5]`; appends a dated section to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
TYPOS = [
    ["rules.engine=fimm"],
    ["segment=kmean"],
    ["tuning=optuna", "tuning.selection.rule=parsimonius"],
    ["recommend.evaluate.ks=[5,0]"],
    ["data=online_retail", "data.colums.customer_id=X"],
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for typo in TYPOS:
            walls = []
            for _ in range(args.repeat + 1):  # the first, untimed: bytecode and page cache
                t0 = time.perf_counter()
                proc = subprocess.run([sys.executable, "-m", "custseg", *typo], cwd=tmp, env=env,
                                      capture_output=True, text=True, check=False)  # fmt: skip
                walls.append(time.perf_counter() - t0)
                assert proc.returncode == 2, proc.stderr[-2000:]
            walls = walls[1:]
            message = proc.stderr.strip().splitlines()[-1][:90]
            rows.append(f"| `{' '.join(typo)}` | {statistics.median(walls):.2f} "
                        f"({min(walls):.2f}-{max(walls):.2f}) | {message} |")  # fmt: skip
    lines = [
        f"\n## Config mistakes, {date.today()} (`python bench/bench_config.py`)\n",
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
        f"Wall seconds of the whole process to exit code 2, median (min-max) of {args.repeat} "
        "runs; nothing is read or logged before the check.\n",
        "| command line | seconds | message (start) |",
        "| --- | ---: | --- |",
        *rows,
    ]
    print("\n".join(lines))
    with open(HERE / "RESULTS.md", "a") as fh:
        fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
