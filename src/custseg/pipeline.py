"""The one chain: load -> clean -> fit the customer model -> check customer value on the last
days -> recommend -> evaluate -> report.

This file only lists the stages. Each one is a call into the package that owns it; what it
produced goes into the `RunResult` and out through the hooks (tracking logs it to MLflow).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from custseg.clean import clean
from custseg.config.schema import Config, Recommend
from custseg.data.preflight import preflight
from custseg.data.sources import load
from custseg.hooks import Hooks, NoHooks
from custseg.model import CustomerModel
from custseg.notices import collecting
from custseg.progress import step
from custseg.recommend.holdout import evaluate
from custseg.report.run_report import write_run_report
from custseg.result import RunResult, run_name
from custseg.value import validate


def _evaluated(config: Config, r: RunResult) -> bool:
    rec = config.recommend
    return isinstance(rec, Recommend) and rec.evaluate.enabled and bool(r.model.recommenders_)


def run(
    config: Config, out: Path, hooks: Hooks | None = None, command: str = ""
) -> RunResult:
    """Run every configured stage; `out` receives the run's files (tables, figures, report)."""
    hooks = hooks or NoHooks()
    r = RunResult(config, run_name(config))
    preflight(config.data)  # a column map that cannot load fails here, before any run exists
    with hooks.running(r), collecting(r.warnings):
        with step(f"[1/7] load {config.data.name}"):
            r.source = load(config.data, config.seed)
        with step("[2/7] clean"):
            r.transactions, r.cleaning = clean(r.source.transactions, config.clean)
            r.source = replace(r.source, transactions=r.source.transactions.iloc[:0])
        hooks.after("clean", r)
        with step("[3/7] fit the customer model"):
            r.model = CustomerModel(config).fit(r.transactions, hooks.on_trial)
            r.run_name = run_name(config, r.model)
        hooks.after("fit", r)
        if r.model.value_ is not None:
            with step("[4/7] check the value models' predictions on held-out days"):
                r.value_holdout = validate(r.model.value_.spec, r.transactions)
            hooks.after("value", r)
        if r.model.recommenders_:
            with step("[5/7] recommend for every customer"):
                r.recommendations = r.model.recommend(r.transactions, clean=False)
            hooks.after("recommend", r)
        if _evaluated(config, r):
            with step("[6/7] evaluate the recommenders on a time split"):
                r.evaluation = evaluate(config, r.transactions, r.model)
            hooks.after("evaluate", r)
        if config.report.enabled:
            with step("[7/7] draw the figures and write the report"):
                r.report, r.figures = write_run_report(r, out, command)
            hooks.after("report", r)
        hooks.after("run", r)
    return r
