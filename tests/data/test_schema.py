from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from custseg.data.errors import SchemaError
from custseg.data.schema import REQUIRED, validate


def _good(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "a"][:n],
            "invoice_id": ["1", "2", "3"][:n],
            "invoice_date": ["2024-01-01 10:00:00", "2024-01-02 11:00:00", "2024-02-01 09:30:00"][
                :n
            ],
            "product_id": ["p1 ", "p2", "p1"][:n],
            "quantity": [1, 2, 3][:n],
            "unit_price": [1.5, 2.0, 1.5][:n],
            "amount": [1.5, 4.0, 4.5][:n],
        }
    )


def test_valid_table_gets_canonical_dtypes_and_stripped_ids():
    out = validate(_good(), "f.csv")
    assert list(out.columns) == list(REQUIRED)
    assert out["invoice_date"].dtype == "datetime64[ns]"
    assert out["quantity"].dtype == "float64"
    assert out["product_id"].tolist() == ["p1", "p2", "p1"]


@pytest.mark.parametrize("column", REQUIRED)
def test_missing_required_column_names_file_and_column(column):
    with pytest.raises(SchemaError) as err:
        validate(_good().drop(columns=column), "sales.csv", source_columns={column: "Src"})
    assert err.value.file == "sales.csv"
    assert err.value.column == column
    assert "missing required column" in str(err.value) and "'Src'" in str(err.value)


def test_unparsable_date_names_column_value_and_row():
    df = _good()
    df.loc[1, "invoice_date"] = "31/31/2024"
    with pytest.raises(
        SchemaError, match=r"sales.csv: column 'invoice_date': unparsable dates"
    ) as e:
        validate(df, "sales.csv", date_format="%Y-%m-%d %H:%M:%S")
    assert "'31/31/2024'" in str(e.value) and "[1]" in str(e.value)


def test_non_numeric_quantity_names_source_column():
    df = _good()
    df["quantity"] = ["1", "two", "3"]
    with pytest.raises(SchemaError, match="non-numeric") as e:
        validate(df, "x.csv", source_columns={"quantity": "Qty"})
    assert e.value.column == "quantity" and "'Qty'" in str(e.value) and "'two'" in str(e.value)


def test_empty_table_is_an_error():
    with pytest.raises(SchemaError, match="empty table"):
        validate(_good().iloc[0:0], "empty.csv")


def test_missing_customer_ids_are_kept_for_cleaning_to_count():
    df = _good()
    df.loc[0, "customer_id"] = None
    assert validate(df, "f")["customer_id"].isna().sum() == 1


@given(
    st.lists(
        st.tuples(
            st.integers(-1000, 1000), st.floats(0, 1e4, allow_nan=False), st.text(min_size=1)
        ),
        min_size=1,
        max_size=30,
    )
)
def test_numeric_columns_roundtrip_any_finite_values(rows):
    q, p, cust = zip(*rows, strict=True)
    df = pd.DataFrame(
        {
            "customer_id": [c + "x" for c in cust],
            "invoice_id": [str(i) for i in range(len(rows))],
            "invoice_date": pd.Timestamp("2024-01-01"),
            "product_id": "p",
            "quantity": [str(v) for v in q],  # text that parses as numbers is accepted
            "unit_price": p,
            "amount": np.multiply(q, p),
        }
    )
    out = validate(df, "f")
    np.testing.assert_array_equal(out["quantity"].to_numpy(), np.asarray(q, dtype=float))
    np.testing.assert_allclose(out["amount"], np.multiply(q, p))
