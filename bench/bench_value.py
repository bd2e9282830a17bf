"""Customer value at scale: `python bench/bench_value.py [--rows N] [--no-write]`.

The 10M-line demo of `+experiment=scale` (about 1M customers, most buying once or twice) is
loaded and cleaned as the pipeline does, then each step of `value=bgnbd` is timed on its own:
the purchase summary, the BG/NBD fit, the Gamma-Gamma fit, the model's whole fit (summary and
both fits again, as the run does it), the predictions for every customer and the holdout check.
pymc-marketing is imported before the clock starts (its import is timed apart), and the fits
compile in the mode the run would choose (`custseg.value.fit.compile_mode`). The issue asks for
the BG/NBD fit on 1M customers in under 60 s. Appends one dated section to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from results import publish  # bench/results.py, beside this script

from custseg.clean import clean
from custseg.config.compose import load
from custseg.config.value import Value
from custseg.data.sources import load as load_data
from custseg.value import ValueModel, purchase_summary, validate
from custseg.value.fit import compile_mode, fit_purchases, fit_spend

HERE = Path(__file__).resolve().parent


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fmt(params: dict[str, float] | None) -> str:
    return "none" if params is None else ", ".join(f"{k} {v:.4g}" for k, v in params.items())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=None, help="data.generator.n_rows (10M default)")
    ap.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md")
    args = ap.parse_args()
    overrides = ["+experiment=scale", "value=bgnbd"]
    if args.rows:
        overrides.append(f"data.generator.n_rows={args.rows}")
    cfg = load(overrides)
    spec = cfg.value
    assert isinstance(spec, Value)
    _, import_s = timed(lambda: __import__("pymc_marketing.clv"))
    (tx, _), load_s = timed(lambda: clean(load_data(cfg.data, cfg.seed).transactions, cfg.clean))
    mode = compile_mode()
    summary, summary_s = timed(lambda: purchase_summary(tx))
    purchases, bgnbd_s = timed(lambda: fit_purchases(summary, mode))
    spend, gg_s = timed(lambda: fit_spend(summary, mode))
    model, fit_s = timed(lambda: ValueModel(spec).fit(tx))
    scores, predict_s = timed(lambda: model.predict(tx))
    holdout, holdout_s = timed(lambda: validate(spec, tx))
    repeat = int((summary["frequency"] > 0).sum())
    clv = f"{scores['clv'].mean():.2f}" if "clv" in scores else "skipped"
    predicted = scores.drop(columns=["monetary_value"])
    not_finite = int((~np.isfinite(predicted.to_numpy(dtype=np.float64))).sum())
    steps = [
        ("purchase summary (`purchase_summary`)", summary_s),
        ("BG/NBD fit (`fit_purchases`, the process's first: graph compiled)", bgnbd_s),
        ("Gamma-Gamma fit (`fit_spend`)", gg_s),
        ("whole fit (`ValueModel.fit`: summary + both fits)", fit_s),
        (f"predict every customer (horizon {spec.horizon_days} d, CLV {spec.clv_months} months)",
         predict_s),
        (f"holdout check ({spec.holdout_days} days: summary, fit, predict)", holdout_s),
    ]  # fmt: skip
    lines = [
        f"\n## Customer value, {date.today()} (`python bench/bench_value.py`)\n",
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"`+experiment=scale value=bgnbd`: {len(tx):,} cleaned lines, {len(summary):,} "
        f"customers ({repeat:,} with repeat purchase days); pytensor mode "
        f"{mode or 'default (C backend)'}; pymc-marketing import {import_s:.1f} s, load and "
        f"clean {load_s:.0f} s (not part of the stage).\n",
        "| step | seconds |",
        "| --- | ---: |",
        *[f"| {name} | {seconds:.1f} |" for name, seconds in steps],
        "",
        f"BG/NBD: {fmt(purchases)}. Gamma-Gamma: {fmt(spend)}. Mean P(alive) "
        f"{scores['p_alive'].mean():.3f}, mean CLV {clv}. "
        f"Non-finite predicted values: {not_finite}. "
        f"Holdout: {holdout.metrics if holdout else 'skipped'}. Peak RSS {peak_mb():,.0f} MB "
        "(the whole process, data included).",
    ]
    publish(lines, write=not args.no_write)


if __name__ == "__main__":
    main()
