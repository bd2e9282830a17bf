"""The report stage of a run: its figures and report.md/report.html, from the run's result."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from custseg.config.schema import Recommend, Report
from custseg.recommend.evaluate import headline
from custseg.report.figures import FigureInput, draw_figures
from custseg.report.report import ReportInput, write_report
from custseg.result import RunResult


def write_run_report(r: RunResult, out: Path, command: str) -> tuple[Path, dict[str, Path]]:
    """Draw every figure into `out` and write `out/report/`; returns (report.html, figures)."""
    cfg, model, tx = r.config, r.model, r.transactions
    assert model is not None and tx is not None and r.cleaning is not None
    assert isinstance(cfg.report, Report)
    seg = model.training_.segmentation
    names = r.product_names
    search = seg.tuning
    personas = model.personas_frame()
    rules_on_products = model.rules_ is not None and cfg.rules.item == "product_id"  # type: ignore[union-attr]
    figures = draw_figures(
        FigureInput(
            what=f"{cfg.data.name} / {cfg.features.name}",
            X=seg.X,
            labels=seg.labels,
            feature_names=list(seg.features.columns),
            summary=model.profiles_.summary,
            region_mix=model.profiles_.region_mix,
            category_mix=model.profiles_.category_mix,
            top_products=model.profiles_.top_products,
            max_points=cfg.report.max_points,
            seed=cfg.seed,
            tuning_table=search.table() if search is not None else None,
            elbow=seg.elbow,
            chosen_k=getattr(model.algorithm_, "n_clusters", None),
            tuning_title=f"{cfg.data.name} / {cfg.features.name} / {cfg.segment.name}",
            rules=model.rules_,
            product_names=names if rules_on_products else None,
            value=_valued(r),
            value_calibration=r.value_holdout.calibration if r.value_holdout else None,
            persona_names=dict(zip(personas["segment"], personas["name"], strict=True)),
            currency=cfg.data.currency or "",
        ),
        out,
    )
    params = {k: v for k, v in model.algorithm_.params().items()}
    evaluation = _at_served_k(r)
    report = ReportInput(
        title=f"custseg: {r.run_name}",
        run={
            "data": cfg.data.name,
            "rows_after_cleaning": r.cleaning.rows_out,
            "customers": len(seg.features),
            "features": cfg.features.name,
            "algorithm": cfg.segment.name,
            "params": params,
            "metrics": r.metrics,
            "command": command or "python -m custseg  # overrides: see config.yaml",
            "run_id": r.run_id,
            "run_name": r.run_name,
        },
        summary=model.profiles_.summary,
        personas=personas,
        figures=figures,
        top_pairs=model.rules_,
        evaluation=evaluation,
        top_products=model.profiles_.top_products,
        product_names=names,
        currency=cfg.data.currency or "",
        warnings=dict(r.warnings),
        value_profile=model.profiles_.value,
        value_check=r.value_holdout.metrics if r.value_holdout else None,
        value_horizon_days=getattr(cfg.value, "horizon_days", None),
        offers=r.offers,
        offer_basis=model.expected_.basis if model.expected_ is not None else "amount",
        offers_p_alive=r.value is not None,
    )
    _, html = write_report(report, out / "report")
    return html, figures



def _valued(r: RunResult) -> pd.DataFrame | None:
    """The value table with each customer's segment, for the value figures."""
    if r.value is None:
        return None
    segment = r.segments["segment"]
    segment.index = segment.index.astype("str")
    return r.value.assign(segment=segment.reindex(r.value.index.astype("str")).to_numpy())


def _at_served_k(r: RunResult) -> pd.DataFrame | None:
    """The evaluation at the served list length (every k and the segment breakdown are in the
    run's recommendation_evaluation tables)."""
    if r.evaluation is None or not isinstance(r.config.recommend, Recommend):
        return None
    return headline(r.evaluation.table, r.config.recommend.k)
