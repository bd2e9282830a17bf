"""`custseg-compare`: the parent runs of an experiment side by side, ranked by the selection rule.

Prints the table, writes it as CSV and draws silhouette vs Davies-Bouldin (PNG). Ranking uses the
same constraints as tuning (conf/tuning/optuna.yaml `selection`): runs that break them (too few
segments, a dust segment, a giant segment by customers or revenue, too much noise, a bootstrap
ARI below `min_stability`) sort after those that keep them, then by silhouette, then by
stability. Runs logged without stability (or revenue) are not held to that limit. `params`
shows the segment parameters the run used: a tuned run logs the values its study chose.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from mlflow.tracking import MlflowClient

from custseg.config import load
from custseg.config.schema import Tracking
from custseg.redact import redact
from custseg.report import study_plots as plots
from custseg.tracking.connect import connect
from custseg.tracking.stale import sweep

STABILITY = ["stability.ari_mean", "stability.jaccard_min"]
COLUMNS = ["run_name", "data", "features", "algorithm", "params", "status", "n_customers",
           "n_segments", "silhouette", "davies_bouldin", "calinski_harabasz",
           "min_segment_share", "max_segment_share", "noise_share", "max_revenue_share",
           *STABILITY, "truth_ari", "run_id"]  # fmt: skip
TEXT = {"run_name", "data", "features", "algorithm", "params", "status", "run_id"}
SPACE = "segment.search_space."


def default_selection() -> dict[str, Any]:
    """The selection constraints of conf/tuning/optuna.yaml: one source of defaults."""
    tuning = load(["tuning=optuna"]).tuning
    return tuning.selection.model_dump()  # type: ignore[union-attr]


def segment_params(params: Mapping[str, str]) -> str:
    """The searched segment parameters with the values the run used, e.g. 'n_clusters=3'
    (the names come from the run's logged search space; a tuned run logs the chosen values
    under segment.<name>)."""
    names = sorted({k[len(SPACE):].split(".", 1)[0] for k in params if k.startswith(SPACE)})
    return " ".join(f"{n}={params[f'segment.{n}']}" for n in names if f"segment.{n}" in params)


def runs_table(
    uri: str, experiment: str, selection: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """One row per parent run (Optuna trial runs left out), ranked best first."""
    sel = {**default_selection(), **(selection or {})}
    connect(Tracking(uri=uri, experiment=experiment, register_as=None, timeout=30))
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        raise SystemExit(f"custseg-compare: no experiment {experiment!r} in {redact(uri)}")
    sweep(client, [exp.experiment_id])  # a run whose process died shows as KILLED, not RUNNING
    rows = []
    for r in client.search_runs([exp.experiment_id], max_results=50_000):
        if "mlflow.parentRunId" in r.data.tags:
            continue
        rows.append({
            "run_name": r.info.run_name, "run_id": r.info.run_id, "status": r.info.status,
            "data": r.data.tags.get("data"), "features": r.data.tags.get("features"),
            "algorithm": r.data.tags.get("algorithm"), "params": segment_params(r.data.params),
            **r.data.metrics,
        })  # fmt: skip
    table = pd.DataFrame(rows)
    for col in COLUMNS:
        if col not in table:
            table[col] = pd.NA if col in TEXT else float("nan")
    table = table[COLUMNS].copy()
    m = table
    stable = m["stability.ari_mean"]
    table["eligible"] = (
        m["silhouette"].notna()
        & (m["n_segments"] >= sel["min_segments"])
        & (m["min_segment_share"] >= sel["min_segment_share"])
        & (m["max_segment_share"] <= sel["max_segment_share"])
        & (m["noise_share"].fillna(0) <= sel["max_noise_share"])
        & (m["max_revenue_share"].fillna(0) <= sel["max_revenue_share"])
        & (stable.isna() | (stable >= sel["min_stability"]))
    )
    table = table.sort_values(["eligible", "silhouette", "stability.ari_mean"],
                              ascending=[False, False, False], na_position="last")  # fmt: skip
    table.insert(0, "rank", range(1, len(table) + 1))
    return table.reset_index(drop=True)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="custseg-compare", description=__doc__.split("\n")[0])
    ap.add_argument("--tracking-uri", default=os.environ.get("MLFLOW_TRACKING_URI",
                                                             "sqlite:///mlflow.db"))  # fmt: skip
    ap.add_argument("--experiment", default="custseg")
    ap.add_argument("--data", help="only runs on this data source (tag data)")
    ap.add_argument("--out", type=Path, default=Path("compare"), help="folder for CSV and PNG")
    defaults = default_selection()
    ap.add_argument("--min-segment-share", type=float, default=defaults["min_segment_share"])
    ap.add_argument("--max-noise-share", type=float, default=defaults["max_noise_share"])
    ap.add_argument("--min-segments", type=int, default=defaults["min_segments"])
    ap.add_argument("--min-stability", type=float, default=defaults["min_stability"],
                    help="lowest mean bootstrap ARI (stability.ari_mean) of an eligible run")
    args = ap.parse_args(argv)
    table = runs_table(args.tracking_uri, args.experiment, {
        "min_segment_share": args.min_segment_share, "max_noise_share": args.max_noise_share,
        "min_segments": args.min_segments, "min_stability": args.min_stability,
    })  # fmt: skip
    if args.data:
        table = table[table["data"] == args.data].reset_index(drop=True)
        table["rank"] = range(1, len(table) + 1)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "compare.csv", index=False)
    scored = table.dropna(subset=["silhouette", "davies_bouldin"])
    if len(scored):
        title = f"{args.experiment}: {len(scored)} segmentations"
        plots.compare_plot(scored, args.out / "compare.png", title)
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(table.drop(columns=["run_id"]).to_string(index=False, float_format="%.3f"))
    print(f"\nwritten: {args.out / 'compare.csv'}, {args.out / 'compare.png'}")


if __name__ == "__main__":
    main()
