"""`custseg inspect`: a file's columns, the guessed map and a command line that really loads.

The report is read as a person would (columns, examples, the map) and the printed command line
is taken at its word: split as a shell splits it, composed, preflighted and loaded in full."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from custseg.config import load
from custseg.data import sources
from custseg.data.inspect import override
from custseg.data.preflight import preflight
from tests.conftest import clean_env


def _inspect(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "custseg", "inspect", *args], cwd=cwd,
                          env=clean_env(), capture_output=True, text=True, timeout=300,
                          check=False)  # fmt: skip


def _command(stdout: str) -> list[str]:
    """The overrides of the 'Run it with:' line, as the shell would pass them."""
    lines = stdout.splitlines()
    line = lines[lines.index("Run it with:") + 1].strip()
    words = shlex.split(line)
    assert words[:3] == ["python", "-m", "custseg"]
    return words[3:]


def _loads(overrides: list[str]) -> sources.Loaded:
    """Compose the printed command line, preflight it and load the whole file."""
    cfg = load(overrides)
    preflight(cfg.data)
    return sources.load(cfg.data, cfg.seed)


def test_a_priceless_basket_file_gets_a_map_and_a_money_free_command(tmp_path, monkeypatch):
    rows = [(f"m{i % 9}", f"{1 + i % 27:02d}.0{1 + i % 3}.2023", ["milk", "bread", "jam"][i % 3])
            for i in range(120)]  # fmt: skip
    pd.DataFrame(rows, columns=["member", "date", "item"]).to_csv(tmp_path / "baskets.csv",
                                                                 index=False)  # fmt: skip
    proc = _inspect("data=csv", "data.path=baskets.csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    # each column with its dtype, what it holds and examples
    assert "member" in out and "m0, m1, m2" in out
    assert "dates %d.%m.%Y" in out and "01.01.2023" in out
    assert "milk, bread, jam" in out
    # the map, and why the command line looks as it does
    assert "customer_id   <- member" in out and "invoice_date  <- date" in out
    assert "product_id    <- item" in out and "quantity      -  each line counts as 1 unit" in out
    assert "no price or amount column" in out
    overrides = _command(out)
    assert {"data.columns.customer_id=member", "data.columns.invoice_date=date",
            "data.columns.product_id=item", "data.columns.quantity=null",
            "data.columns.unit_price=null", "data.columns.amount=null",
            "data.date_format=%d.%m.%Y", "features=visits"} <= set(overrides)  # fmt: skip
    monkeypatch.chdir(tmp_path)  # the relative data.path counts from where the command runs
    loaded = _loads(overrides)
    assert load(overrides).features.name == "visits"
    tx = loaded.transactions
    assert len(tx) == 120 and tx["quantity"].eq(1).all()
    assert tx["invoice_date"].dt.day.max() == 27  # day first, as the data says


@pytest.mark.slow
@pytest.mark.shared_data
def test_groceries_file_is_mapped_as_its_own_config_maps_it(groceries_path, tmp_path):
    proc = _inspect("data=csv", f"data.path={groceries_path}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    overrides = _command(proc.stdout)
    assert {"data.columns.customer_id=Member_number", "data.columns.invoice_date=Date",
            "data.columns.product_id=itemDescription", "data.date_format=%d-%m-%Y",
            "data.columns.invoice_id=null", "features=visits"} <= set(overrides)  # fmt: skip
    loaded = _loads(overrides)
    tx = loaded.transactions
    assert tx["invoice_id"].nunique() == 14_963  # member x day baskets, as data=groceries has
    assert len(tx) == 38_765 and tx["quantity"].eq(1).all()


@pytest.mark.slow
@pytest.mark.shared_data
def test_online_retail_guess_is_the_hand_written_map(online_retail_path, tmp_path):
    proc = _inspect(str(online_retail_path), cwd=tmp_path)  # a bare FILE means data=csv
    assert proc.returncode == 0, proc.stderr
    guessed = load(_command(proc.stdout)).data
    written = load(["data=online_retail"]).data
    assert {k: v for k, v in guessed.columns.items() if v} == {
        k: v for k, v in written.columns.items() if v
    }
    assert guessed.date_format == written.date_format
    assert "features=visits" not in proc.stdout
    # a configured source whose map fits is left as it is
    proc = _inspect("data=online_retail", cwd=tmp_path)
    assert proc.returncode == 0 and "fits the file: nothing to change" in proc.stdout
    assert _command(proc.stdout) == ["data=online_retail"]


@pytest.mark.slow
def test_a_missing_file_exits_2_with_a_clear_message(tmp_path):
    (tmp_path / "sales.csv").write_text("a,b\n1,2\n")
    proc = _inspect("data=csv", "data.path=sales.cvs", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("custseg inspect: error: sales.cvs: ")
    assert "file not found" in proc.stderr and "did you mean 'sales.csv'?" in proc.stderr


@pytest.mark.parametrize("header", ["Customer ID", "Unit Price (£)", "O'Brien's code", "2011",
                                    "null", "a,b", "Qty.", "Date/Time", 'say "hi"', "x=y"])
def test_a_printed_override_reads_back_as_the_exact_column_name(header):
    words = shlex.split(f"data=csv data.path=x.csv {override('data.columns.customer_id', header)}")
    assert load(words).data.columns["customer_id"] == header
