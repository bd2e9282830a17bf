from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from custseg.config import ConfigError
from custseg.data import sources
from custseg.data.errors import SchemaError
from tests.conftest import make_config


def _load(*overrides: str) -> sources.Loaded:
    """Load the source the command line `overrides` select, with the config's seed."""
    cfg = make_config(*overrides)
    return sources.load(cfg.data, cfg.seed)


def _write_user_file(path: Path) -> Path:
    df = pd.DataFrame(
        {
            "Cust": ["A", "A", "B", "C"],
            "Day": ["2024-03-01", "2024-03-01", "2024-03-02", "2024-03-05"],
            "Sku": ["x", "y", "x", "z"],
            "Units": [1, 2, 5, 1],
            "Price": [2.0, 3.0, 2.0, 10.0],
        }
    )
    if path.suffix == ".parquet":
        df.to_parquet(path)
    else:
        df.to_csv(path, index=False)
    return path


USER_MAP = (
    "data.columns.customer_id=Cust",
    "data.columns.invoice_date=Day",
    "data.columns.product_id=Sku",
    "data.columns.quantity=Units",
    "data.columns.unit_price=Price",
    "data.columns.invoice_id=null",
    "data.columns.amount=null",
)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_any_csv_or_parquet_with_a_column_map_from_the_command_line(tmp_path, suffix):
    path = _write_user_file(tmp_path / f"sales{suffix}")
    loaded = _load("data=csv", f"data.path={path}", *USER_MAP)
    tx = loaded.transactions
    assert len(tx) == 4
    assert tx["amount"].tolist() == [2.0, 6.0, 10.0, 10.0]  # derived quantity x unit_price
    # customer x day is the invoice when the file has none
    assert tx["invoice_id"].nunique() == 3
    assert set(loaded.derived) == {"amount", "invoice_id"}


def test_unmapped_source_column_error_names_the_file_column_and_key(tmp_path):
    path = _write_user_file(tmp_path / "sales.csv")
    overrides = [o for o in USER_MAP if "customer_id" not in o] + [
        "data.columns.customer_id=Customer"
    ]
    with pytest.raises(SchemaError) as err:
        _load("data=csv", f"data.path={path}", *overrides)
    assert err.value.file == str(path) and err.value.column == "Customer"
    assert "data.columns.customer_id" in str(err.value)


def test_missing_file_and_empty_file_are_specific_errors(tmp_path):
    with pytest.raises(SchemaError, match="file not found"):
        _load("data=csv", f"data.path={tmp_path / 'nope.csv'}", *USER_MAP)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(SchemaError, match="empty file"):
        _load("data=csv", f"data.path={empty}", *USER_MAP)
    header_only = tmp_path / "header.csv"
    header_only.write_text("Cust,Day,Sku,Units,Price\n")
    with pytest.raises(SchemaError, match="empty table"):
        _load("data=csv", f"data.path={header_only}", *USER_MAP)


def test_bad_date_and_wrong_type_in_a_user_file(tmp_path):
    path = _write_user_file(tmp_path / "sales.csv")
    df = pd.read_csv(path)
    df.loc[2, "Day"] = "not a day"
    df.to_csv(path, index=False)
    with pytest.raises(SchemaError, match="column 'invoice_date': unparsable dates") as e:
        _load("data=csv", f"data.path={path}", *USER_MAP)
    assert "'Day'" in str(e.value)
    df.loc[2, "Day"] = "2024-03-02"
    df["Units"] = df["Units"].astype(object)
    df.loc[1, "Units"] = "a dozen"
    df.to_csv(path, index=False)
    with pytest.raises(SchemaError, match="column 'quantity': non-numeric") as e:
        _load("data=csv", f"data.path={path}", *USER_MAP)
    assert "'Units'" in str(e.value)


def test_data_without_products_loads_with_product_id_absent(tmp_path):
    path = tmp_path / "noproducts.csv"
    pd.DataFrame(
        {"customer_id": ["a", "b"], "invoice_date": ["2024-01-01", "2024-01-02"],
         "quantity": [1, 2], "amount": [3.0, 8.0]}
    ).to_csv(path, index=False)  # fmt: skip
    loaded = _load("data=csv", f"data.path={path}", "data.columns.product_id=null",
                   "data.columns.invoice_id=null", "data.columns.unit_price=null")  # fmt: skip
    assert loaded.absent == ["product_id"]
    assert loaded.transactions["unit_price"].tolist() == [3.0, 4.0]


def test_unknown_source_kind_is_a_config_error():
    with pytest.raises(ConfigError, match="data.kind: 'ftp' is not one of demo, table, three"):
        make_config("data.kind=ftp")
    # what load is handed without the config check: still an error naming the kind
    with pytest.raises(SchemaError, match="kind") as e:
        sources.load({"name": "x", "kind": "ftp"}, 0)
    assert "one of ['table', 'three_table', 'demo']" in str(e.value)
    with pytest.raises(SchemaError, match="kind"):  # known kind, but no checked config
        sources.load({"name": "x", "kind": "table", "path": "x.csv"}, 0)


def test_demo_source_returns_validated_table_and_truth():
    loaded = _load("data.generator.n_rows=5000", "seed=1")
    assert loaded.truth is not None
    known = set(loaded.truth.customers["customer_id"])
    ids = loaded.transactions["customer_id"].dropna().astype(str)
    assert set(ids) == known


@pytest.mark.slow
def test_online_retail_loads_with_published_counts(online_retail_path):
    tx = _load("data=online_retail").transactions
    assert len(tx) == 541_909
    assert tx["invoice_id"].nunique() == 25_900
    assert tx["product_id"].nunique() == 4_070
    assert tx["customer_id"].nunique() == 4_372
    assert tx["customer_id"].isna().sum() == 135_080
    assert tx["region"].nunique() == 38
    assert round(tx["amount"].sum(), 2) == 9_747_747.93
    assert tx["invoice_date"].min() == pd.Timestamp("2010-12-01 08:26:00")


def test_zeotap_three_tables_join(zeotap_dir):
    loaded = _load("data=zeotap")
    tx = loaded.transactions
    assert len(tx) == 1_000
    assert tx["customer_id"].nunique() == 199
    assert round(tx["amount"].sum(), 2) == 689_995.56
    assert (tx["amount"].round(2) == (tx["quantity"] * tx["unit_price"]).round(2)).all()
    assert tx["region"].value_counts().sum() == 1_000 and tx["region"].nunique() == 4
    assert set(tx["category"]) == {"Books", "Electronics", "Clothing", "Home Decor"}


def test_zeotap_unknown_customer_id_is_named(zeotap_dir, tmp_path):
    for name in ("Customers.csv", "Products.csv"):
        (tmp_path / name).write_text((zeotap_dir / name).read_text())
    tx = pd.read_csv(zeotap_dir / "Transactions.csv")
    tx.loc[0, "CustomerID"] = "C9999"
    tx.to_csv(tmp_path / "Transactions.csv", index=False)
    with pytest.raises(SchemaError, match="unknown ids, e.g. \\['C9999'\\]") as e:
        _load("data=zeotap", f"data.path={tmp_path}")
    assert e.value.column == "CustomerID" and e.value.file.endswith("Customers.csv")


def test_groceries_long_format_baskets(groceries_path):
    loaded = _load("data=groceries")
    tx = loaded.transactions
    assert len(tx) == 38_765
    assert tx["customer_id"].nunique() == 3_898
    assert tx["invoice_id"].nunique() == 14_963  # member x date
    assert tx["product_id"].nunique() == 167
    assert not tx["product_id"].str.endswith(" ").any()  # 'cream cheese ' is stripped
    assert tx["invoice_date"].min() == pd.Timestamp("2014-01-01")
    assert tx["unit_price"].isna().all() and tx["amount"].isna().all()
    assert sorted(loaded.absent) == ["amount", "unit_price"]
