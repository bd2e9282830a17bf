"""The published CDNOW fits: BG/NBD (Fader, Hardie & Lee 2005) and Gamma-Gamma (Fader & Hardie
2013), on the summaries shipped with `lifetimes` (times in weeks).

`lifetimes` is a test dependency only for these files; they are found without importing it
(its import breaks on new scipy). Both pytensor back ends must land on the same point: the C
one the fits use when a compiler is there, and numba, which they use when it is not.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from custseg.value.fit import fit_purchases, fit_spend
from tests.conftest import clean_env

pytestmark = pytest.mark.slow  # pymc-marketing's import and the first compile take seconds

BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # the paper's table, to 3 places
GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}  # Fader & Hardie (2013), p. 4


def datasets() -> Path:
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("lifetimes is not installed (CI=true: the test extra provides it)")
        pytest.skip("lifetimes (for its CDNOW files) is not installed")
    return Path(spec.submodule_search_locations[0]) / "datasets"


def cdnow() -> pd.DataFrame:
    """2357 customers: frequency, recency, T (weeks) and, for the 946 repeat buyers, the mean
    repeat spend as monetary_value (0 for the others, whom Gamma-Gamma leaves out)."""
    data = pd.read_csv(datasets() / "cdnow_customers_summary_with_transactions.csv")
    return pd.DataFrame(
        {"frequency": data["x"], "recency": data["t_x"], "T": data["T"],
         "monetary_value": data["zbar"]},
    ).set_axis(data["ID"].astype("str").rename("customer_id"))  # fmt: skip


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    return cdnow()


@pytest.fixture(scope="module")
def c_point(summary: pd.DataFrame) -> dict[str, float]:
    return fit_purchases(summary) | fit_spend(summary)


def test_the_shipped_summary_is_the_papers_sample(summary: pd.DataFrame) -> None:
    plain = pd.read_csv(datasets() / "cdnow_customers_summary.csv")
    assert len(summary) == 2357 and (summary["frequency"] > 0).sum() == 946
    assert (plain["frequency"].to_numpy() == summary["frequency"].to_numpy()).all()


def test_published_parameters_are_reproduced(c_point: dict[str, float]) -> None:
    for name, published in (BGNBD | GAMMA_GAMMA).items():
        assert c_point[name] == pytest.approx(published, rel=0.02), name


def test_without_a_compiler_numba_finds_the_same_point(
    c_point: dict[str, float], tmp_path: Path
) -> None:
    """A fresh process with pytensor's C++ compiler switched off picks NUMBA on its own."""
    script = (
        "import json\n"
        "from custseg.value.fit import compile_mode, fit_purchases, fit_spend\n"
        "from tests.value.test_cdnow import cdnow\n"
        "mode = compile_mode()\n"
        "s = cdnow()\n"
        "print(json.dumps({'mode': mode, **fit_purchases(s, mode), **fit_spend(s, mode)}))\n"
    )
    env = clean_env(PYTENSOR_FLAGS=f"cxx=,compiledir={tmp_path / 'pytensor'}")
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got.pop("mode") == "NUMBA"
    assert got == pytest.approx(c_point, rel=1e-4)
