"""Hand-made stand-ins for a run's outputs (profiles, personas, rules, tuning, evaluation), shaped
exactly like custseg.profiling's and custseg.tuning's, so the figures and the report can be tested
without running the pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from sklearn.datasets import make_blobs

from custseg.report.figures import FigureInput, draw_figures
from custseg.report.report import ReportInput

N_SEGMENTS = 8
FEATURES = ["recency_days", "frequency", "monetary", "tenure_days", "units_per_basket", "price"]
PRODUCTS = {f"P{i:03d}": f"Product number {i} | <b>{'long ' * (i % 4)}name</b>" for i in range(30)}


@pytest.fixture(scope="session")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    """4,000 customers in 8 segments (standardized features) with ~3% unassigned."""
    X, y = make_blobs(n_samples=4000, n_features=len(FEATURES), centers=N_SEGMENTS,
                      cluster_std=1.6, random_state=3)  # fmt: skip
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = y.copy()
    y[np.random.default_rng(0).random(len(y)) < 0.03] = -1
    return X, y


def fake_summary(labels: list[str]) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    customers = rng.integers(100, 900, len(labels))
    revenue = customers * rng.uniform(50, 500, len(labels))
    rows = {}
    for label, c, r in zip(labels, customers, revenue, strict=True):
        rows[label] = {"customers": int(c), "customer_share": c / customers.sum(),
                       "revenue": float(r), "revenue_share": r / revenue.sum(),
                       "avg_basket_value": float(rng.uniform(10, 80)),
                       "avg_basket_units": float(rng.uniform(2, 20))}  # fmt: skip
        for d in ("monetary", "frequency", "recency_days", "units_per_basket",
                  "mean_unit_price", "tenure_days"):  # fmt: skip
            rows[label][f"mean_{d}"] = float(rng.uniform(1, 100))
            rows[label][f"median_{d}"] = float(rng.uniform(1, 100))
        for f in FEATURES:
            rows[label][f"mean_feature_{f}"] = float(rng.normal())
            rows[label][f"median_feature_{f}"] = float(rng.normal())
    frame = pd.DataFrame.from_dict(rows, orient="index")
    total = frame.iloc[:, :1].sum()
    everyone = frame.mean()
    everyone["customers"] = float(total["customers"])
    everyone["customer_share"], everyone["revenue_share"] = 1.0, 1.0
    everyone["revenue"] = frame["revenue"].sum()
    frame.loc["all"] = everyone
    return frame


def fake_personas(labels: list[str]) -> pd.DataFrame:
    rows = [{"segment": s, "key": f"key_{s}", "name": f"Persona <{s}> & friends",
             "description": f"Customers of segment {s} buy <often>.",
             "rfm_label": None if s == "3" else f"RFM-{s}",
             "actions": [f"Send offer {s}", "Cross-sell bundles"]} for s in labels]  # fmt: skip
    return pd.DataFrame(rows)


def fake_top_products(labels: list[str], with_names: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    ids = list(PRODUCTS)
    rows = []
    for s in [*labels, "all"]:
        for rank, pid in enumerate(rng.choice(ids, 6, replace=False), start=1):
            overall = float(rng.uniform(0.02, 0.3))
            rows.append({"segment": s, "rank": rank, "product_id": pid,
                         "product_name": PRODUCTS[pid], "customers": int(rng.integers(5, 200)),
                         "share": overall if s == "all" else min(1.0, overall * rng.uniform(1, 4)),
                         "overall_share": overall})  # fmt: skip
    frame = pd.DataFrame(rows)
    return frame if with_names else frame.drop(columns="product_name")


def fake_mix(labels: list[str], n_cols: int, prefix: str) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    values = rng.dirichlet(np.ones(n_cols) * 0.5, len(labels) + 1)
    return pd.DataFrame(values, index=[*labels, "all"],
                        columns=[f"{prefix} {i}" for i in range(n_cols)])  # fmt: skip


def fake_rules(labels: list[str]) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    ids = list(PRODUCTS)
    rows = []
    for s in [*labels, "all"]:
        for _ in range(8):
            a, c = rng.choice(ids, 2, replace=False)
            rows.append({"segment": s, "antecedent": (str(a),), "consequent": (str(c),),
                         "support": float(rng.uniform(0.01, 0.1)),
                         "confidence": float(rng.uniform(0.1, 0.9)),
                         "lift": float(rng.uniform(1, 12))})  # fmt: skip
    return pd.DataFrame(rows)


def fake_evaluation() -> pd.DataFrame:
    return pd.DataFrame({"hit_rate@10": [0.31, 0.22, 0.12], "precision@10": [0.05, 0.03, 0.01],
                         "customers": [800, 800, 800]},
                        index=["blend", "crosssell", "popular (baseline)"])  # fmt: skip


def fake_trials(n: int = 40) -> pd.DataFrame:
    """TuningResult.table(): one row per trial, three on the front, trial 7 chosen."""
    rng = np.random.default_rng(7)
    trials = pd.DataFrame({"silhouette": rng.uniform(0.2, 0.6, n),
                           "davies_bouldin": rng.uniform(0.6, 1.6, n),
                           "eligible": rng.random(n) > 0.2,
                           "n_segments": rng.integers(3, 10, n)})  # fmt: skip
    trials.index.name = "trial"
    trials["on_front"] = trials.index.isin([3, 7, 11])
    trials["chosen"] = trials.index == 7
    trials.loc[[3, 7, 11], "eligible"] = True
    return trials


def fake_elbow() -> pd.DataFrame:
    """tuning.elbow: quality per k."""
    rng = np.random.default_rng(8)
    return pd.DataFrame({"k": range(2, 11), "inertia": np.linspace(9000, 2000, 9),
                         "silhouette": rng.uniform(0.2, 0.5, 9),
                         "davies_bouldin": rng.uniform(0.7, 1.3, 9)}).set_index("k")  # fmt: skip


def fake_value(y: np.ndarray) -> pd.DataFrame:
    """The value stage's table with each customer's segment (as the report gets it)."""
    rng = np.random.default_rng(9)
    n = len(y)
    frequency = rng.poisson(3, n).astype(float)
    recency = np.where(frequency > 0, rng.uniform(0, 360, n), 0.0)
    ids = pd.Index([f"C{i}" for i in range(n)], name="customer_id")
    return pd.DataFrame({"frequency": frequency, "recency": recency, "T": recency + 10,
                         "p_alive": rng.uniform(0.05, 1.0, n),
                         "expected_purchases": rng.gamma(1.0, 1.0, n),
                         "clv": rng.lognormal(6, 1.5, n), "segment": y}, index=ids)  # fmt: skip


def fake_offers(labels: list[str], per_segment: int = 5) -> pd.DataFrame:
    """recommend.expected.top_offers: per segment the items worth the most expected revenue,
    best first (segment as int64, as the run has it)."""
    rng = np.random.default_rng(10)
    rows = []
    for s in labels:
        items = rng.choice(list(PRODUCTS), per_segment, replace=False)
        worth = np.sort(rng.uniform(100, 5000, per_segment))[::-1]
        rows += [{"segment": int(s), "item": str(i), "customers": int(rng.integers(10, 400)),
                  "expected_revenue": float(w)} for i, w in zip(items, worth, strict=True)]
    return pd.DataFrame(rows)


def fake_calibration() -> pd.DataFrame:
    """Holdout.calibration: actual, predicted and naive mean purchases per bucket."""
    index = pd.Index([*map(str, range(7)), "7+"], name="repeat_purchases")
    grow = np.arange(8, dtype=float)
    return pd.DataFrame({"customers": [900, 500, 300, 200, 120, 80, 60, 150],
                         "actual": 0.4 + 0.6 * grow, "predicted": 0.35 + 0.55 * grow,
                         "naive": 0.7 * grow}, index=index)  # fmt: skip


@pytest.fixture(scope="session")
def segment_labels() -> list[str]:
    return [str(i) for i in range(N_SEGMENTS)] + ["-1"]


@pytest.fixture(scope="session")
def figure_input(blobs: tuple[np.ndarray, np.ndarray], segment_labels: list[str]) -> FigureInput:
    """A run with every optional part present: draw_figures can draw all its figures."""
    X, y = blobs
    labels = segment_labels
    return FigureInput(
        what="online_retail / rfm / kmeans-k8", X=X, labels=y, feature_names=FEATURES,
        summary=fake_summary(labels), region_mix=fake_mix(labels, 5, "region"),
        category_mix=fake_mix(labels, 40, "category"),
        top_products=fake_top_products(labels[:-1]), max_points=1500, seed=0,
        tuning_table=fake_trials(), elbow=fake_elbow(), chosen_k=8,
        tuning_title="online_retail / rfm / kmeans: 40 trials", rules=fake_rules(labels[:-1]),
        product_names=dict(PRODUCTS), value=fake_value(y), value_calibration=fake_calibration(),
        persona_names={s: f"Persona {s}" for s in labels}, currency="£",
    )  # fmt: skip


def _title_of(fig: Figure) -> str:
    """A figure's suptitle and axes titles, one per line."""
    parts = [fig.get_suptitle()] if fig.get_suptitle() else []
    return "\n".join(parts + [ax.get_title() for ax in fig.axes])


@pytest.fixture
def titles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every title (suptitle and axes titles) of each figure as it is saved, in order."""
    seen: list[str] = []
    real = Figure.savefig

    def spy(fig: Figure, *args: Any, **kwargs: Any) -> None:
        seen.append(_title_of(fig))
        real(fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", spy)
    return seen


def draw_keeping_figures(inp: FigureInput, out: Path) -> tuple[dict[str, Path], list[Figure]]:
    """draw_figures' result and the very Figure objects it saved, in the order saved (seen on
    their way through Figure.savefig, which still writes each PNG)."""
    saved: list[Figure] = []
    real = Figure.savefig

    def keep(fig: Figure, *args: Any, **kwargs: Any) -> None:
        saved.append(fig)
        real(fig, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Figure, "savefig", keep)
        drawn = draw_figures(inp, out)
    return drawn, saved


@pytest.fixture(scope="session")
def drawn_figures(
    tmp_path_factory: pytest.TempPathFactory, figure_input: FigureInput
) -> tuple[dict[str, Path], list[Figure]]:
    """Every figure of `figure_input`, drawn once per test session: name -> PNG, and the saved
    Figure objects in the same order."""
    return draw_keeping_figures(figure_input, tmp_path_factory.mktemp("figs"))


@pytest.fixture(scope="session")
def drawn_titled(
    drawn_figures: tuple[dict[str, Path], list[Figure]],
) -> tuple[dict[str, Path], list[str]]:
    """Every figure of `figure_input` and the titles of the figures in the order they were
    saved."""
    drawn, figures = drawn_figures
    return drawn, [_title_of(fig) for fig in figures]


@pytest.fixture(scope="session")
def drawn(drawn_titled: tuple[dict[str, Path], list[str]]) -> dict[str, Path]:
    """Every figure of `figure_input`: name -> PNG, as draw_figures returned them."""
    return drawn_titled[0]


@pytest.fixture(scope="session")
def report_input(
    figure_input: FigureInput, drawn: dict[str, Path], segment_labels: list[str]
) -> ReportInput:
    """A complete ReportInput with the real figures of draw_figures."""
    labels = segment_labels
    summary = figure_input.summary
    top = figure_input.top_products
    run = {"data": "online_retail (fake)", "rows_after_cleaning": 391_234, "customers": 4000,
           "features": FEATURES, "algorithm": "kmeans", "params": {"n_clusters": 8, "seed": 0},
           "metrics": {"silhouette": 0.41, "davies_bouldin": 0.87},
           "command": "custseg data=online_retail algorithm=kmeans algorithm.n_clusters=8",
           "run_id": "abc123", "run_name": "online_retail/rfm/kmeans-k8"}  # fmt: skip
    return ReportInput(
        title="Customer segments <test> & co", run=run, summary=summary,
        personas=fake_personas(labels[:-1]), figures=dict(drawn), top_pairs=figure_input.rules,
        evaluation=fake_evaluation(), top_products=top, product_names=dict(PRODUCTS),
    )  # fmt: skip
