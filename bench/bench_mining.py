"""Frequent-itemset engines on Online Retail, run by hand: `python bench/bench_mining.py`.

Invoice baskets of StockCode (product_id) from the cleaned Online Retail lines, at min_support
0.02, 0.01 and 0.005 (--supports), for:
  eclat          custseg.rules engine "eclat" (the default: numpy Eclat on packed bit columns)
  fim            custseg.rules engine "fim" (pyfim, Borgelt's C FP-growth; the 'fim' extra)
  fpgrowth       custseg.rules engine "fpgrowth" (mlxtend fpgrowth, pandas sparse frame)
  apriori        custseg.rules engine "apriori" (mlxtend apriori, sparse frame, low_memory=True)
  apriori-sparse-default  mlxtend apriori on the same sparse frame with its default
                 low_memory=False (why the engine does not use it)
  dense-apriori  the classic notebook: pd.crosstab(invoice, StockCode) > 0, a DENSE boolean
                 frame, then mlxtend apriori with default settings
  spark          the engine=spark miner (custseg.engine.spark.mining: pyspark.ml FP-growth) on
                 local[2];
                 "prep" starts the session and builds and caches the baskets in Spark; the
                 memory columns are the Python driver's only (the JVM is not counted)

Each method runs --repeats times (default 3), each time in a fresh process; the table shows
the medians (mine s also its min-max). Every measurement starts from the same cleaned lines
(a parquet file written once, by another process): "prep" builds that method's input
(make_baskets, or the crosstab), "mine" finds the itemsets. Memory is resident set size (RSS),
not tracemalloc (which misses pyfim's C allocations): "base" is the child's RSS once the lines
are loaded; the child then resets its peak-RSS mark (/proc/self/clear_refs), and "peak" is its
ru_maxrss from the rusage os.wait4 returns for that child -- the figure
resource.getrusage(RUSAGE_CHILDREN) reports, but per child rather than the maximum over all
children so far. "added" = peak - base is what the method itself needed. Children get an
address-space limit (--mem-limit-gb) so a dense run cannot take the machine down; hitting it
is reported as out of memory. Appends a dated table to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

HERE = Path(__file__).resolve().parent
METHODS = (
    "eclat",
    "fim",
    "fpgrowth",
    "apriori",
    "apriori-sparse-default",
    "dense-apriori",
    "spark",
)


def _current_rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak_rss() -> bool:
    """Reset this process's peak RSS to its current RSS (Linux >= 4.0: clear_refs 5)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def child(method: str, support: float, lines_path: str) -> None:
    """One measurement; prints one JSON line."""
    import pandas as pd

    from custseg.rules.baskets import make_baskets
    from custseg.rules.mining import frequent_itemsets

    lines = pd.read_parquet(lines_path)
    gc.collect()
    # the peak the parent reads must be this method's, not the parquet read's
    out: dict = {"base_mb": _current_rss_mb(), "peak_reset": _reset_peak_rss()}
    try:
        t0 = time.perf_counter()
        if method == "dense-apriori":
            from mlxtend.frequent_patterns import apriori

            onehot = pd.crosstab(lines["invoice_id"], lines["product_id"]).gt(0)
            t1 = time.perf_counter()
            sets = apriori(onehot, min_support=support, use_colnames=True)
        elif method == "apriori-sparse-default":
            from mlxtend.frequent_patterns import apriori

            b = make_baskets(lines)
            frame = pd.DataFrame.sparse.from_spmatrix(b.matrix)
            t1 = time.perf_counter()
            sets = apriori(frame, min_support=support)
        elif method == "spark":
            from custseg.engine.spark.mining import itemsets_from_baskets, spark_baskets
            from custseg.engine.spark.session import get_session

            sdf = get_session("local[2]").createDataFrame(lines[["invoice_id", "product_id"]])
            baskets = spark_baskets(sdf).cache()
            n = baskets.count()
            t1 = time.perf_counter()
            sets = itemsets_from_baskets(baskets, n, support)
        else:
            b = make_baskets(lines)
            t1 = time.perf_counter()
            sets = frequent_itemsets(b, support, engine=method, max_itemsets=2_000_000)
        t2 = time.perf_counter()
        sizes = sets["itemsets"].map(len).value_counts().sort_index()
        out |= {
            "prep_s": t1 - t0,
            "mine_s": t2 - t1,
            "itemsets": len(sets),
            "by_size": {int(k): int(v) for k, v in sizes.items()},
        }
    except MemoryError:
        out["error"] = "out of memory"
    print(json.dumps(out), flush=True)


def _limit(gb: float):
    def apply() -> None:
        cap = int(gb * 1024**3)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    return apply


def measure(method: str, support: float, lines_path: str, mem_limit_gb: float) -> dict:
    """Run one child, return its JSON plus its peak RSS (from os.wait4) and wall seconds."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", method, str(support), lines_path],
            stdout=out,
            stderr=err,
            # the JVM reserves far more address space than it uses: a cap would kill it, and
            # its heap is bounded anyway (spark.driver.memory)
            preexec_fn=None if method == "spark" else _limit(mem_limit_gb),
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        text, errors = out.read().strip(), err.read()
    res = json.loads(text.splitlines()[-1]) if text else {}
    if proc.returncode != 0 and "error" not in res:
        tail = errors.strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
        res["error"] = "out of memory" if "MemoryError" in errors else tail[0][:80]
    res |= {"peak_mb": usage.ru_maxrss / 1024, "wall_s": wall}
    return res


def measure_median(
    method: str, support: float, lines_path: str, mem_limit_gb: float, repeats: int
) -> dict:
    """`repeats` fresh-process runs of one method: medians of the figures, min-max of mine s.

    One run is at the mercy of whatever else the 2 cores do; the median of a few is not.
    A failed run (out of memory, an error) is reported as the method's result.
    """
    runs = []
    for _ in range(max(repeats, 1)):
        r = measure(method, support, lines_path, mem_limit_gb)
        if "error" in r:
            return r
        runs.append(r)
    if len({json.dumps(r["by_size"]) for r in runs}) != 1:
        raise RuntimeError(f"{method} at {support}: itemsets differ between runs")
    out = dict(runs[0])
    for key in ("prep_s", "mine_s", "base_mb", "peak_mb", "wall_s"):
        out[key] = statistics.median(r[key] for r in runs)
    out["mine_range"] = (min(r["mine_s"] for r in runs), max(r["mine_s"] for r in runs))
    out["peak_reset"] = all(r.get("peak_reset", False) for r in runs)
    return out


def prepare(path: str) -> None:
    """Load and clean Online Retail as the app does; keep the columns baskets need.

    Runs in its own process so the parent, whose image every child starts from, stays small.
    """
    from custseg.clean import clean
    from custseg.config import load
    from custseg.data import sources

    cfg = load(["data=online_retail"])
    tx, _ = clean(sources.load(cfg.data, cfg.seed).transactions, cfg.clean)
    cols = ["customer_id", "invoice_id", "invoice_date", "product_id"]
    tx[cols].to_parquet(path)
    print(len(tx))


def _version(package: str) -> str:
    """The installed version, or 'not installed' (pyfim is an optional extra)."""
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def _cpu() -> str:
    """The CPU's model name, as lscpu shows it (the machine the numbers belong to)."""
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _mem_total_gb() -> float:
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--supports", type=float, nargs="+", default=[0.02, 0.01, 0.005])
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    ap.add_argument("--mem-limit-gb", type=float, default=min(16.0, 0.75 * _mem_total_gb()))
    ap.add_argument("--repeats", type=int, default=3, help="fresh-process runs per row (median)")
    ap.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        lines_path = str(Path(tmp) / "lines.parquet")
        done = subprocess.run(
            [sys.executable, __file__, "--prepare", lines_path],
            check=True,
            capture_output=True,
            text=True,
        )
        rows = int(done.stdout.split()[-1])
        print(f"{rows:,} cleaned lines", flush=True)
        table = [
            "| min_support | method | itemsets (by size) | prep s | mine s | mine vs fastest "
            "| base RSS MB | peak RSS MB | added MB |",
            "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for support in args.supports:
            results = {
                m: measure_median(m, support, lines_path, args.mem_limit_gb, args.repeats)
                for m in args.methods
            }
            fastest = min((r["mine_s"] for r in results.values() if "error" not in r),
                          default=float("nan"))  # fmt: skip
            for method, r in results.items():
                base = r.get("base_mb", float("nan"))
                mem = f"{base:,.0f} | {r['peak_mb']:,.0f} | {r['peak_mb'] - base:,.0f}"
                if "error" in r:
                    failed = f"{r['error']} after {r['wall_s']:.0f} s"
                    row = f"| {support:g} | {method} | {failed} | | | "
                else:
                    sizes = ", ".join(f"{k}: {v}" for k, v in r["by_size"].items())
                    row = (
                        f"| {support:g} | {method} | {r['itemsets']:,} ({sizes}) | "
                        f"{r['prep_s']:.2f} | {r['mine_s']:.3f} ({r['mine_range'][0]:.3f}-"
                        f"{r['mine_range'][1]:.3f}) | {r['mine_s'] / fastest:.2f}x "
                    )
                    if not r.get("peak_reset", False):
                        mem += " (peak not reset: includes loading)"
                table.append(f"{row}| {mem} |")
                print(table[-1], flush=True)

    header = (
        f"\n## Association-rule mining, {date.today()} ({platform.machine()}, {os.cpu_count()} "
        f"cores, {_mem_total_gb():.0f} GB RAM, Python {platform.python_version()}, "
        f"numpy {version('numpy')}, mlxtend {version('mlxtend')}, pyfim {_version('pyfim')}, "
        f"pandas {version('pandas')}; {_cpu()})\n\n"
        f"Online Retail, {rows:,} cleaned lines as invoice baskets of StockCode; "
        f"`python bench/bench_mining.py`. One fresh process per run, {args.repeats} runs per row, "
        "medians shown (mine s: median (min-max)). base = the "
        "child's RSS with the lines loaded; peak = its ru_maxrss (os.wait4 rusage) after the "
        "peak mark was reset at base; added = peak - base; mine vs fastest = mine s over the "
        "fastest method's mine s at that support; "
        f"address space capped at {args.mem_limit_gb:.0f} GB (not for spark, whose JVM "
        "reserves more than it uses).\n"
    )
    if not args.no_write:
        with open(HERE / "RESULTS.md", "a") as fh:
            fh.write(header + "\n" + "\n".join(table) + "\n")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(sys.argv[2], float(sys.argv[3]), sys.argv[4])
    elif len(sys.argv) == 3 and sys.argv[1] == "--prepare":
        prepare(sys.argv[2])
    else:
        main()
