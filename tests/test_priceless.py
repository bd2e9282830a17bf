"""Price-less basket data (member, date, item: loyalty-card and Instacart-style exports) runs end
to end: money-free features, rules, recommendations, report and the served model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from custseg.features import FeatureError
from custseg.tracking.pyfunc import load_model
from tests.conftest import make_config, run_logged


def _runs(uri: str) -> list:
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("custseg")
    return [] if exp is None else client.search_runs([exp.experiment_id])


def _baskets(path: Path, seed: int = 0) -> pd.DataFrame:
    """Two planted kinds of shopper: weekly big-basket families and rare small-basket singles."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(120):
        family = c % 2 == 0
        days = rng.choice(300, size=20 if family else 3, replace=False)
        for d in days:
            size = rng.integers(6, 12) if family else rng.integers(1, 3)
            items = rng.choice([f"item{i:02d}" for i in range(40)], size=size, replace=False)
            day = (pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(d))).strftime("%Y-%m-%d")
            rows += [{"member": f"m{c:03d}", "date": day, "item": it} for it in items]
    frame = pd.DataFrame(rows)
    frame.to_csv(path, index=False)
    return frame


@pytest.mark.slow
def test_priceless_csv_runs_end_to_end(tmp_path: Path, tracking_uri: str) -> None:
    path = tmp_path / "baskets.csv"
    frame = _baskets(path)
    cfg = make_config(
        f"tracking.uri={tracking_uri}", "data=csv", f"data.path={path}", "features=visits",
        "data.columns.customer_id=member", "data.columns.invoice_date=date",
        "data.columns.product_id=item", "data.columns.invoice_id=null",
        "data.columns.quantity=null", "data.columns.unit_price=null", "data.columns.amount=null",
        "segment.n_clusters=2", "rules.min_support=0.05",
    )  # fmt: skip
    result = run_logged(cfg, tmp_path / "out")
    (run,) = _runs(tracking_uri)
    assert run.info.status == "FINISHED"
    # the two planted shoppers are found: every family in one segment, every single in the other
    seg = result.model.segment(result.transactions, clean=False)
    family = seg.index.str[1:].astype(int) % 2 == 0
    assert seg[family].nunique() == 1 and seg[~family].nunique() == 1
    assert seg[family].iloc[0] != seg[~family].iloc[0]
    # quantity 1 per line: a family's mean basket size is its lines per day
    feats = result.model.features_.transform(result.transactions)
    lines = frame.groupby("member").size() / frame.groupby("member")["date"].nunique()
    assert feats["mean_basket_size"].to_numpy() == pytest.approx(lines.to_numpy())
    # rules, recommendations and the served model work without a price
    assert result.model.rules_ is not None and len(result.recommendations) > 0
    served = load_model(f"runs:/{run.info.run_id}/model", tracking_uri)
    mine = frame[frame["member"].isin(["m000", "m001"])].rename(columns={
        "member": "customer_id", "date": "invoice_date", "item": "product_id"})
    out = served.score(mine.assign(invoice_date=pd.to_datetime(mine["invoice_date"])))
    assert list(out["customer_id"]) == ["m000", "m001"]
    assert list(out["segment"]) == [seg["m000"], seg["m001"]]
    report = (tmp_path / "out" / "report" / "report.md").read_text()
    assert "visits" in report and "£" not in report


@pytest.mark.slow
def test_groceries_runs_with_its_defaults(tracking_uri: str, tmp_path: Path, groceries_path):
    """Kaggle Groceries (no prices, no quantities): the shipped config picks money-free
    features; a money feature set asked for by name is refused, naming what works."""
    result = run_logged(make_config(f"tracking.uri={tracking_uri}", "data=groceries",
                                    "report=none"), tmp_path / "ok")  # fmt: skip
    assert result.config.features.name == "visits"
    assert result.model.personas_ and result.model.rules_ is not None
    names = [p.name for p in result.model.personas_]
    assert len(set(names)) == len(names)
    with pytest.raises(FeatureError, match="'amount'.*visits"):
        run_logged(make_config(f"tracking.uri={tracking_uri}", "data=groceries", "features=rfm"),
                   tmp_path / "bad")  # fmt: skip
    status = sorted(r.info.status for r in _runs(tracking_uri))
    assert status == ["FAILED", "FINISHED"]
