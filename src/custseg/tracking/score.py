"""`custseg score`: apply a logged or registered model to a file, in batch, as a tracked run."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient

from custseg.atomic import atomic_path
from custseg.config import ConfigError, load
from custseg.config.schema import Data, Tracking
from custseg.data import sources
from custseg.data.errors import SchemaError
from custseg.data.preflight import preflight
from custseg.redact import redact
from custseg.tracking.connect import connect
from custseg.tracking.pyfunc import load_model
from custseg.tracking.stale import owner_tags, sweep

log = logging.getLogger(__name__)
FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}  # --out suffix -> format


def out_format(out: Path) -> str:
    """csv or parquet by the suffix of --out; anything else is a usage error (exit 2), found
    before the run opens rather than after the scoring."""
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"--out {out}: unknown suffix {out.suffix or '(none)'!r}; name the file .csv (a "
            "table for people, lists joined by ';') or .parquet (exact types, lists as lists)"
        )
    return fmt


def write_scores(scores: pd.DataFrame, out: Path) -> None:
    """Parquet keeps the lists; CSV turns each list into one readable cell ('a;b;c') and quotes
    cells a spreadsheet would run as formulas. Written atomically either way."""
    from custseg.tracking.run import csv_safe

    with atomic_path(out) as tmp:
        if out_format(out) == "parquet":
            scores.to_parquet(tmp)
            return
        table = scores.copy()
        for col in table.columns:
            if table[col].map(lambda v: isinstance(v, list | tuple | np.ndarray)).any():
                table[col] = table[col].map(
                    lambda v: ";".join(map(str, v)) if v is not None else ""
                )
        csv_safe(table).to_csv(tmp, index=False)


def score(
    model_uri: str, data_cfg: Data, out: Path, tracking_uri: str, experiment: str
) -> pd.DataFrame:
    """Score every customer of a source with the logged model; log params, shares, scores."""
    connect(Tracking(uri=tracking_uri, experiment=experiment, register_as=None, timeout=30))
    mlflow.set_tracking_uri(tracking_uri)
    sweep(MlflowClient(), [mlflow.set_experiment(experiment).experiment_id])
    with mlflow.start_run(run_name=f"score/{data_cfg.name}", tags=owner_tags()) as run:
        mlflow.log_params({"model_uri": model_uri, "data.name": data_cfg.name,
                           "data.path": str(getattr(data_cfg, "path", ""))})  # fmt: skip
        try:
            tx = sources.load(data_cfg, 0).transactions
            scores = load_model(model_uri, tracking_uri).score(tx)
        except Exception as exc:
            mlflow.set_tag("failure_reason", redact(f"{type(exc).__name__}: {exc}")[:5000])
            mlflow.end_run(status="FAILED")
            raise
        shares = scores["segment"].value_counts(normalize=True)
        mlflow.log_metrics(
            {
                "customers": len(scores),
                "rows": len(tx),
                **{f"segment_share.{k}": float(v) for k, v in shares.items()},
            }
        )
        write_scores(scores, out)
        mlflow.log_artifact(str(out))
        log.info("Scored %d customers with %s -> %s (run %s)", len(scores), model_uri, out,
                 run.info.run_id)  # fmt: skip
    return scores


def main(argv: Sequence[str]) -> None:
    ap = argparse.ArgumentParser(prog="custseg score", description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="models:/NAME/VERSION, runs:/ID/model, ...")
    ap.add_argument("--data", required=True, type=Path, help="file (or folder) to score")
    ap.add_argument("--source", default="csv", help="its layout: a conf/data config name")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="more data overrides, e.g. data.columns.customer_id=Cust")  # fmt: skip
    ap.add_argument("--out", type=Path, default=Path("scores.parquet"),
                    help="scores file: .csv (lists joined by ';') or .parquet")  # fmt: skip
    ap.add_argument(
        "--tracking-uri", default=os.environ.get("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db")
    )
    ap.add_argument("--experiment", default="custseg-scoring")
    args = ap.parse_args(list(argv))
    overrides = [f"data={args.source}", f"data.path={args.data.resolve()}", *args.set]
    try:
        out_format(args.out)
        data_cfg = load(overrides).data
        preflight(data_cfg)  # a map that does not fit stops before the scoring run opens
    except (ConfigError, SchemaError, ValueError) as exc:
        print(f"custseg score: error: {exc}", file=sys.stderr)
        sys.exit(2)
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s][%(name)s] %(message)s")
    try:
        scores = score(args.model, data_cfg, args.out, args.tracking_uri, args.experiment)
    except ValueError as exc:  # bad data the full load found: the run is marked FAILED
        print(f"custseg score: error: {exc}", file=sys.stderr)
        sys.exit(2)
    print(scores.head(10).to_string(index=False))
