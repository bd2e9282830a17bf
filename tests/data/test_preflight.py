"""The preflight: a column map checked on the header and first rows, every fault in one error,
before any MLflow run exists; never stricter than the full load, which still checks it all."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from custseg.data import sources
from custseg.data.errors import SchemaError
from custseg.data.preflight import SAMPLE_ROWS, MapError, preflight
from tests.conftest import make_config, run_logged


def _baskets(n: int = 60) -> pd.DataFrame:
    """Member, day (dd/mm/yyyy, day-first shown by days above 12), item, quantity, price."""
    return pd.DataFrame({
        "Member": [f"M{i % 7}" for i in range(n)],
        "Day": [f"{1 + i % 28:02d}/03/2024" for i in range(n)],
        "Item": [f"item{i % 5}" for i in range(n)],
        "Qty": pd.Series([1 + i % 3 for i in range(n)], dtype=object),
        "Price": [2.5 + i % 4 for i in range(n)],
    })  # fmt: skip


def _csv(df: pd.DataFrame, path: Path) -> Path:
    """Write `df` as the suffix says (.parquet or CSV)."""
    if path.suffix == ".parquet":
        df.astype({"Qty": str}).to_parquet(path)
    else:
        df.to_csv(path, index=False)
    return path


GOOD_MAP = ("data=csv", "data.columns.customer_id=Member", "data.columns.invoice_date=Day",
            "data.columns.product_id=Item", "data.columns.quantity=Qty",
            "data.columns.unit_price=Price", "data.columns.invoice_id=null",
            "data.columns.amount=null", "data.date_format=%d/%m/%Y")  # fmt: skip


def _config(path: Path, *overrides: str):
    return make_config(*GOOD_MAP, f"data.path={path}", *overrides)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_every_fault_of_the_map_is_reported_at_once(tmp_path, suffix):
    df = _baskets()
    df.loc[4, "Qty"] = "two"
    path = _csv(df, tmp_path / f"sales{suffix}")
    cfg = _config(path, "data.columns.customer_id=Membr", "data.columns.unit_price=Cost",
                  "data.date_format=%Y-%m-%d")  # fmt: skip
    with pytest.raises(MapError) as info:
        preflight(cfg.data)
    err = info.value
    keys = {p.key: p for p in err.problems}
    assert set(keys) == {"data.columns.customer_id", "data.columns.unit_price",
                         "data.columns.invoice_date", "data.columns.quantity"}  # fmt: skip
    text = str(err)
    assert text.startswith(f"{path}: ") and f"first {len(df)} rows" in text
    assert "data.columns.customer_id='Membr': no column 'Membr'" in text
    assert "did you mean 'Member'?" in text  # by spelling
    # by content (no name is close to Cost)
    assert "data.columns.unit_price='Cost'" in text and "did you mean 'Price'?" in text
    assert "data.columns.invoice_date='Day': no date fits data.date_format='%Y-%m-%d'" in text
    assert "set data.date_format=%d/%m/%Y" in keys["data.columns.invoice_date"].fix
    assert "data.columns.quantity='Qty': non-numeric values" in text and "'two'" in text
    assert "['Member', 'Day', 'Item', 'Qty', 'Price']" in text
    # the full load still finds (the first of) them itself
    with pytest.raises(SchemaError) as full:
        sources.load(cfg.data, 0)
    assert full.value.column in {p.column for p in err.problems} | {"customer_id"}
    # and with every fix the message proposes, both pass
    fixed = _config(path, "data.columns.quantity=Qty")
    df.loc[4, "Qty"] = 2
    _csv(df, path)
    preflight(fixed.data)
    assert len(sources.load(fixed.data, 0).transactions) == len(df)


def test_only_the_first_rows_are_read_and_the_full_load_checks_the_rest(tmp_path):
    df = _baskets(SAMPLE_ROWS + 5000)
    late = SAMPLE_ROWS + 1000
    df.loc[late, "Qty"] = "lots"
    path = _csv(df, tmp_path / "sales.csv")
    cfg = _config(path)
    preflight(cfg.data)  # the fault is past the sample
    with pytest.raises(SchemaError, match=rf"at row\(s\) \[{late}\]"):
        sources.load(cfg.data, 0)
    df.loc[3, "Qty"] = "lots"  # within the sample: the file changed, so it is read again
    _csv(df, path)
    with pytest.raises(MapError, match=r"'lots' at row\(s\) \[3\]"):
        preflight(cfg.data)


def test_a_basket_file_without_quantity_or_prices_loads_one_unit_per_line(tmp_path, caplog):
    df = _baskets()[["Member", "Day", "Item"]]
    path = _csv(df, tmp_path / "baskets.csv")
    cfg = _config(path, "data.columns.quantity=null", "data.columns.unit_price=null")
    assert cfg.data.constants == {}
    preflight(cfg.data)
    with caplog.at_level(logging.INFO, logger="custseg.data.sources"):
        loaded = sources.load(cfg.data, 0)
    assert "no quantity column (data.columns.quantity=null): each line counts as 1 unit" in (
        caplog.text
    )
    tx = loaded.transactions
    assert tx["quantity"].eq(1.0).all() and len(tx) == len(df)
    assert {"quantity", "invoice_id"} <= set(loaded.derived)
    assert set(loaded.absent) == {"unit_price", "amount"} and tx["amount"].isna().all()
    # a basket is one member's day
    assert tx["invoice_id"].nunique() == df[["Member", "Day"]].drop_duplicates().shape[0]


def _three_tables(folder: Path) -> Path:
    folder.mkdir()
    pd.DataFrame({"TransactionID": ["T1", "T2", "T3"], "CustomerID": ["C1", "C2", "C1"],
                  "ProductID": ["P1", "P2", "P2"],
                  "TransactionDate": ["2024-01-02 10:00:00", "2024-01-03 11:00:00",
                                      "2024-01-05 09:30:00"],
                  "Quantity": [1, 2, 3], "TotalValue": [10.0, 40.0, 60.0],
                  "Price": [10.0, 20.0, 20.0]}).to_csv(folder / "Transactions.csv", index=False)
    pd.DataFrame({"CustomerID": ["C1", "C2"], "Region": ["Asia", "Europe"]}).to_csv(
        folder / "Customers.csv", index=False)
    pd.DataFrame({"ProductID": ["P1", "P2", "P9"], "ProductName": ["Lamp", "Mug", "Vase"],
                  "Category": ["Home", "Kitchen", "Home"],  # P9 is sold by no line: its
                  "Price": ["11.0", "19.0", "tbd"]}).to_csv(  # price never loads
        folder / "Products.csv", index=False)  # fmt: skip
    return folder


def test_three_tables_are_checked_file_by_file(tmp_path):
    folder = _three_tables(tmp_path / "shop")
    cfg = make_config("data=zeotap", f"data.path={folder}", "data.keys.product=ProdID",
                      "data.columns.region=Regoin")  # fmt: skip
    with pytest.raises(MapError) as info:
        preflight(cfg.data)
    found = {(Path(p.file).name, p.key, p.column) for p in info.value.problems}
    assert found == {
        ("Transactions.csv", "data.keys.product", "ProdID"),
        ("Products.csv", "data.keys.product", "ProdID"),
        ("shop", "data.columns.region", "Regoin"),
    }
    text = str(info.value)
    assert "Products.csv: data.keys.product='ProdID'" in text and "did you mean 'ProductID'" in text
    assert "did you mean 'Region'?" in text and "any of the tables" in text
    # a name both Transactions and Products have is Price_products after the join, as in
    # pandas; only the products the lines use are checked, as only they are loaded
    cfg = make_config("data=zeotap", f"data.path={folder}",
                      "data.columns.unit_price=Price_products")
    preflight(cfg.data)
    tx = sources.load(cfg.data, 0).transactions
    assert tx["unit_price"].tolist() == [11.0, 19.0, 19.0]


@pytest.mark.shared_data
def test_online_retail_bad_map_is_reported_whole_in_under_two_seconds(online_retail_path):
    cfg = make_config("data=online_retail", "data.columns.customer_id=Foo",
                      "data.columns.quantity=Description", "data.date_format=%d/%m/%Y",
                      "data.columns.unit_price=Price")  # fmt: skip
    start = time.perf_counter()
    with pytest.raises(MapError) as info:
        preflight(cfg.data)
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0, f"preflight took {elapsed:.2f} s"
    problems = {p.key: p for p in info.value.problems}
    assert set(problems) == {"data.columns.customer_id", "data.columns.quantity",
                             "data.columns.invoice_date", "data.columns.unit_price"}  # fmt: skip
    assert "'CustomerID'" in problems["data.columns.customer_id"].what
    assert "'UnitPrice'" in problems["data.columns.unit_price"].what
    assert "%Y-%m-%d %H:%M:%S" in problems["data.columns.invoice_date"].fix


@pytest.mark.slow
def test_the_pipeline_opens_no_mlflow_run_for_a_map_that_cannot_load(tmp_path, tracking_uri):
    path = _csv(_baskets(), tmp_path / "sales.csv")
    cfg = _config(path, "data.columns.customer_id=Client", f"tracking.uri={tracking_uri}",
                  "report=none", "recommend=none", "rules=none")  # fmt: skip
    with pytest.raises(MapError):
        run_logged(cfg, tmp_path / "out")
    client = MlflowClient(tracking_uri)
    runs = [r for e in client.search_experiments() for r in client.search_runs([e.experiment_id])]
    assert runs == []
