"""Generated bad input: malformed transaction tables and configs, run through the real stages.

Hypothesis spoils a good export with a random list of faults (columns dropped, doubled or
renamed; cells emptied, retyped, negated, inflated; dates garbled or centuries off; ids
reformatted; thousands separators and decimal commas; formulas) and draws config values from
a catalogue of good and bad ones. Each example is composed, checked and run like the command
line runs it, into a real MLflow SQLite store that already holds one good run. Whatever
happens: the outcome is exit 0 or 2 (the CLI's own classification, `custseg.cli`), never a
defect; a 2 comes with a message naming a column, a file or a config key; the store passes
SQLite's integrity check; the earlier run is exactly as it was.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from mlflow.tracking import MlflowClient

from custseg.config import load
from custseg.outputs import environment_error
from custseg.pipeline import run
from custseg.tracking.hooks import MlflowHooks

NO_SHRINK = [Phase.explicit, Phase.reuse, Phase.generate]  # a failure prints its example now
COLUMNS = ["customer_id", "invoice_id", "invoice_date", "product_id", "quantity", "unit_price"]


def _good(n: int = 80, customers: int = 10) -> pd.DataFrame:
    i = np.arange(n)
    inv = i // 2  # two lines per invoice, one customer and one date each
    days = pd.Timestamp("2011-01-03") + pd.to_timedelta(inv * 97 % 120, unit="D")
    return pd.DataFrame({
        "customer_id": [f"{17000 + c}" for c in inv % customers],
        "invoice_id": [f"{500000 + k}" for k in inv],
        "invoice_date": days.strftime("%Y-%m-%d %H:%M"),
        "product_id": [f"P{p}" for p in (i * 7) % 9],
        "quantity": (1 + i % 6).astype(object),
        "unit_price": (1.25 + (i % 5) * 0.5).astype(object),
    })  # fmt: skip


CELL_VALUES = ["", "nan", "abc", "-5", "0", "1e30", "TRUE", "[1, 2]", "=HYPERLINK(\"x\")",
               "1,000", "2,5", "1.000,50", "1900-01-01", "2199-12-31", "31/02/2011", " 17001 ",
               "17001.0", "\u00e9t\u00e9", "NULL", "inf", "\t"]  # fmt: skip


@st.composite
def spoiled(draw: st.DrawFn) -> tuple[pd.DataFrame, list[str]]:
    """A good table with random faults; also returns every header name it ends with."""
    df = _good()
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["cell", "column", "drop", "double", "rename", "rows",
                                     "constant"]))  # fmt: skip
        col = draw(st.sampled_from(list(df.columns)))
        if kind == "cell" and len(df):
            rows = draw(st.lists(st.integers(0, len(df) - 1), min_size=1, max_size=5))
            df[col] = df[col].astype(object)
            df.loc[rows, col] = draw(st.sampled_from(CELL_VALUES))
        elif kind == "column":
            df[col] = draw(st.sampled_from(CELL_VALUES))
        elif kind == "drop" and len(df.columns) > 1:
            df = df.drop(columns=[col])
        elif kind == "double":
            df = pd.concat([df, df[[col]]], axis=1)
        elif kind == "rename":
            df = df.rename(columns={col: draw(st.sampled_from([col.upper(), f" {col}", "x"]))})
        elif kind == "rows":
            df = df.head(draw(st.sampled_from([0, 1, 2, 5])))
        elif kind == "constant" and len(df):
            df[col] = df[col].iloc[0]
    return df, [str(c) for c in df.columns]


CONFIGS = {
    "segment.n_clusters": ["3", "1", "0", "-2", "50", "abc", "2.5"],
    "rules.min_support": ["0.05", "0", "-0.1", "1.5", "x"],
    "rules.min_confidence": ["0.3", "2", "-1"],
    "rules.max_len": ["3", "1", "0"],
    "seed": ["0", "abc", "-1", "1e3"],
    "clean.max_quantity": ["100000", "0", "-1", "many"],
    "tuning.n_trials": ["3", "0", "-4"],
    "recommend.k": ["10", "0", "-1", "ten"],
}


@st.composite
def overrides(draw: st.DrawFn) -> list[str]:
    keys = draw(st.lists(st.sampled_from(sorted(CONFIGS)), max_size=2, unique=True))
    return [f"{k}={draw(st.sampled_from(CONFIGS[k]))}" for k in keys]


def outcome(args: list[str], out: Path) -> tuple[int, str]:
    """What the command line would exit with, and say: the CLI's own rule (custseg.cli._job):
    an input error or the machine's is 2, anything else is a defect."""
    config = None
    try:
        config = load(args)
        run(config, out, MlflowHooks(out), "")
    except Exception as exc:
        known = exc if isinstance(exc, ValueError) else environment_error(exc, config)
        if known is None:
            raise
        return 2, str(known)
    return 0, ""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("generated")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    good = root / "good.csv"
    _good().to_csv(good, index=False)
    code, message = outcome(_base(good, uri), root / "good")
    assert code == 0, message
    client = MlflowClient(uri)
    (earlier,) = client.search_runs([client.get_experiment_by_name("custseg").experiment_id])
    return {"root": root, "uri": uri, "run": earlier, "n": 0}


def _base(path: Path, uri: str) -> list[str]:
    return ["data=csv", f"data.path={path}", "data.columns.amount=null", "report=none",
            "segment.n_clusters=3", "tuning.enabled=false", f"tracking.uri={uri}"]  # fmt: skip


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    """Equal metrics, NaN equal to NaN (a metric with no customers to average is NaN)."""
    return a.keys() == b.keys() and all(a[k] == b[k] or (a[k] != a[k] and b[k] != b[k])
                                        for k in a)  # fmt: skip


@pytest.mark.slow
@settings(max_examples=25, deadline=None, derandomize=True, phases=NO_SHRINK,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(table=spoiled(), config=overrides(), recommend=st.booleans())
def test_generated_bad_input_exits_0_or_2_and_keeps_the_store(store, table, config, recommend):
    df, headers = table
    store["n"] += 1
    folder = store["root"] / f"case{store['n']}"
    folder.mkdir()
    path = folder / "sales.csv"
    df.to_csv(path, index=False)
    args = [*_base(path, store["uri"]), *config, *([] if recommend else ["recommend=none"])]
    code, message = outcome(args, folder / "out")
    assert code in (0, 2)
    if code == 2:
        names = [*headers, *COLUMNS, "data.path", str(path), "tracking.uri",
                 *(o.split("=", 1)[0] for o in args)]  # fmt: skip
        assert any(n and n in message for n in names), message
    with sqlite3.connect(store["root"] / "mlflow.db") as db:
        assert db.execute("pragma integrity_check").fetchone() == ("ok",)
    earlier = MlflowClient(store["uri"]).get_run(store["run"].info.run_id)
    assert earlier.info.status == "FINISHED"
    assert earlier.info.end_time == store["run"].info.end_time
    assert _same(earlier.data.metrics, store["run"].data.metrics)
    assert earlier.data.params == store["run"].data.params
