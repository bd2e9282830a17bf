"""The report's second part, "Method and metrics": what ran, how the segments were chosen, how
far the value models and the recommendations can be trusted, and how to run it again.

Plain blocks as in `blocks` (rendered and escaped there).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from custseg.redact import redact
from custseg.report.cells import Block, fmt, is_missing, kv_table
from custseg.report.value_blocks import value_section, worth_word

if TYPE_CHECKING:
    from custseg.report.report import ReportInput

METHOD_TITLE = "Method and metrics"


def run_blocks(run: dict[str, Any], level: int = 3) -> list[Block]:
    """What ran: data, features, algorithm, chosen parameters, metrics (a heading of `level`,
    its tables one below)."""
    features = run.get("features")
    if isinstance(features, list | tuple):
        features = ", ".join(str(f) for f in features)
    facts = [("data", run.get("data")), ("rows after cleaning", run.get("rows_after_cleaning")),
             ("customers", run.get("customers")), ("features", features),
             ("algorithm", run.get("algorithm")), ("run name", run.get("run_name")),
             ("MLflow run id", run.get("run_id"))]  # fmt: skip
    out: list[Block] = [("h", level, "What ran")]
    out.append(("table", kv_table(((k, v) for k, v in facts if not is_missing(v)), "", "value")))
    params = run.get("params") or {}
    if params:
        out += [("h", level + 1, "Chosen parameters"),
                ("table", kv_table(params.items(), "parameter", "value"))]  # fmt: skip
    metrics = run.get("metrics") or {}
    if metrics:
        out += [("h", level + 1, "Metrics"),
                ("table", kv_table(sorted(metrics.items()), "metric", "value"))]  # fmt: skip
    return out


def evaluation_blocks(inp: ReportInput, level: int = 3) -> list[Block]:
    """The recommenders compared on a time split, at the served list length."""
    if inp.evaluation is None or not len(inp.evaluation):
        return []
    ev = inp.evaluation.copy()
    ev = ev.map(lambda v: fmt(v)).reset_index(names="recommender")
    out: list[Block] = [("h", level, "Recommendation evaluation (time split)"), ("table", ev)]
    if "custseg_relevance" in inp.evaluation.index:
        word = worth_word(inp)
        value = ("their median margin (data column margin)" if word == "margin" else
                 "what they sell for (median line amount)")  # fmt: skip
        out.append(("p", f"custseg is the served list, ranked by expected {word}; "
                         "custseg_relevance is the same blend in relevance order. revenue@k: "
                         "the new items each test customer bought from their top k, valued "
                         f"at {value}, per customer."))
    return out


def method_blocks(
    inp: ReportInput, chosen: list[Block], checked: list[Block]
) -> list[Block]:
    """The whole second part. `chosen`: the figures of how the segments were chosen (tuning,
    elbow, silhouette); `checked`: the figures shown with the value models' check."""
    out: list[Block] = [("h", 2, METHOD_TITLE)]
    out += run_blocks(inp.run)
    if chosen:
        out += [("h", 3, "How the segments were chosen"), *chosen]
    value = value_section(inp, level=3)
    if checked and not value:
        value = [("h", 3, "Customer value: predictions checked on held-out days")]
    out += value + checked
    out += evaluation_blocks(inp)
    out.append(("h", 3, "How to reproduce"))  # a password in tracking.uri=... stays masked
    out.append(("code", redact(str(inp.run.get("command") or "(command not recorded)"))))
    return out
