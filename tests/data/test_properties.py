"""Property tests: random transaction tables against the schema and cleaning layers.

Whatever an export holds (any subset of columns, any dtype, NaN and inf, negative numbers, text
in number columns, dates as text in several layouts, duplicates, no rows at all), loading and
cleaning either succeed with consistent counts and a table that satisfies the schema, or stop
with the project's own error. Nothing else may escape: no KeyError, TypeError or pandas
ValueError from deep inside.
"""

from __future__ import annotations

import datetime as dt
import functools
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from custseg.clean import CleaningError, clean
from custseg.config import Config
from custseg.config.schema import Clean, TableData
from custseg.data import sources
from custseg.data.errors import SchemaError
from custseg.data.schema import CANONICAL, NUMERIC_COLUMNS, REQUIRED, validate
from tests.conftest import make_config

settings.register_profile(
    "custseg-properties",
    max_examples=200,
    deadline=None,  # first calls import and warm up pandas paths; time is not the property
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = settings.get_profile("custseg-properties")

pytestmark = pytest.mark.slow  # hundreds of generated tables

LAYOUTS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y %H:%M", "%Y%m%d",
           "%b %d, %Y", "%Y-%m-%dT%H:%M:%S+01:00", "%Y-%m-%dT%H:%M:%S+02:00"]  # fmt: skip
IDS = st.one_of(
    st.sampled_from(["C1", "C2", " C1 ", "c3", "C", "", " ", "12", "POST", "gift_0001_5", "DCGS1"]),
    st.text(min_size=0, max_size=4),
    st.integers(-3, 30),
    st.none(),
    st.just(float("nan")),
)
NUMBER_TEXT = ["1", "2.5", " 3 ", "two", "1,5", "1,200.50", "£2", "", "nan", "inf", "-1e400",
               "4006011234567", "1e12", "0", "-2"]  # fmt: skip
NUMBERS = st.one_of(
    st.integers(-5, 60),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(0.01, 1e3),
    st.sampled_from(NUMBER_TEXT),
    st.none(),
)
MOMENTS = st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2030, 12, 31))


@st.composite
def dates(draw: st.DrawFn) -> Any:
    """A date as an export writes it: text in one of the table's layouts, or junk."""
    return draw(st.one_of(
        st.builds(lambda m, f: m.strftime(f), MOMENTS, st.sampled_from(LAYOUTS)),
        MOMENTS,
        st.sampled_from(["", "yesterday", "31/31/2024", "2011-02-30", "9999-12-31", "0"]),
        st.integers(0, 60_000),
        st.none(),
    ))  # fmt: skip


def _column(values: list[Any], kind: str) -> pd.Series:
    """The same values in one of the dtypes a reader may hand over."""
    try:
        if kind == "str":
            return pd.Series(values, dtype="str")
        if kind == "category":
            return pd.Series(values, dtype="object").astype("category")
        if kind == "numeric":
            return pd.to_numeric(pd.Series(values, dtype="object"), errors="coerce")
        if kind == "infer":
            return pd.Series(values)
    except (TypeError, ValueError):
        pass  # that reader would not produce this column: keep the values as objects
    return pd.Series(values, dtype="object")


def _mostly(value: bool) -> st.SearchStrategy[bool]:
    """`value` about five times in six."""
    return st.sampled_from([value] * 5 + [not value])


@st.composite
def tables(draw: st.DrawFn, sound: bool = False) -> pd.DataFrame:
    """A line-item table. Each column is clean (what a sound export holds, negatives, returns
    and non-products included) or dirty (anything at all), so both outcomes get explored.
    `sound` tables always have rows and the required columns, and rarely a dirty column: they
    exercise cleaning rather than the schema gate."""
    n = draw(st.integers(1, 12)) if sound or draw(_mostly(True)) else 0  # no rows, sometimes
    wanted = draw(st.sets(st.sampled_from([*CANONICAL, "junk"]), min_size=1))
    if sound or draw(_mostly(True)):  # most tables hold the required columns
        wanted |= set(REQUIRED)
    layout = draw(st.sampled_from(LAYOUTS))
    customers = draw(st.lists(st.sampled_from(["C1", "C2", " c3 ", "K4", "17", "C1", "C2", None]),
                              min_size=n, max_size=n))  # fmt: skip
    cols: dict[str, pd.Series] = {}
    for col in [c for c in [*CANONICAL, "junk"] if c in wanted]:
        dirty = draw(_mostly(False)) and (not sound or draw(_mostly(False)))
        if dirty:
            gen = dates() if col == "invoice_date" else NUMBERS if col in NUMERIC_COLUMNS else IDS
            values = draw(st.lists(gen, min_size=n, max_size=n))
        elif col == "customer_id":
            values = customers
        elif col == "invoice_id":  # one owner per invoice; some are cancellations ('C...')
            values = [f"{draw(_mostly(False)) and 'C' or ''}{str(c).strip()}-{i % 3}"
                      for i, c in enumerate(customers)]  # fmt: skip
        elif col == "invoice_date":
            values = draw(st.lists(MOMENTS, min_size=n, max_size=n))
            values = [m.strftime(layout) for m in values] if draw(st.booleans()) else values
        elif col in NUMERIC_COLUMNS:
            positive = [st.integers(1, 20), st.floats(0.01, 500.0)] * 3
            clean_numbers = st.one_of(*positive, st.integers(-3, 0))  # returns: 1 in 7
            values = draw(st.lists(clean_numbers, min_size=n, max_size=n))
        else:
            codes = st.sampled_from(["P1", "P2", " P3", "x", "P1", "P4", "P2", "POST", "m"])
            values = draw(st.lists(codes, min_size=n, max_size=n))
        kinds = ["object", "str", "category", "infer"]  # as a reader hands them over
        if dirty or col in NUMERIC_COLUMNS:
            kinds.append("numeric")
        cols[col] = _column(values, draw(st.sampled_from(kinds)))
    df = pd.DataFrame(cols, index=pd.RangeIndex(n))
    if n and draw(st.booleans()):  # the same line exported twice
        extra = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4))
        df = pd.concat([df, df.iloc[extra]], ignore_index=True)
    return df


@functools.cache
def _config() -> Config:
    """Composed once: Hydra takes longer than most examples."""
    return make_config("data=csv", "data.path=export.csv")


def _clean_cfg() -> Clean:
    return _config().clean


def _csv_cfg(path: Path) -> TableData:
    """The csv source reading `path`, every required column under its canonical name."""
    data = _config().data
    assert isinstance(data, TableData)
    return data.model_copy(update={"path": str(path), "columns": {c: c for c in REQUIRED}})


def _assert_canonical(out: pd.DataFrame, rows: int) -> None:
    """What every stage after loading relies on."""
    assert list(out.columns) == [c for c in CANONICAL if c in out.columns]
    assert set(REQUIRED) <= set(out.columns) and len(out) == rows
    assert out["invoice_date"].dtype == "datetime64[ns]" and out["invoice_date"].notna().all()
    for col in NUMERIC_COLUMNS:
        if col in out:
            assert out[col].dtype == "float64" and not np.isinf(out[col]).any()
    assert out["quantity"].notna().all() and out["invoice_id"].notna().all()
    assert out["customer_id"].notna().any()
    known = out[out["customer_id"].notna()]
    assert (known.groupby("invoice_id", observed=True)["customer_id"].nunique() <= 1).all()
    for col in ("customer_id", "invoice_id", "product_id"):  # ids: stripped, never blank
        ids = out[col].dropna().astype("str")
        assert (ids == ids.str.strip()).all() and (ids != "").all()


def _validated(df: pd.DataFrame) -> pd.DataFrame | None:
    try:
        out = validate(df, "prop.csv")
    except SchemaError as exc:
        assert exc.file == "prop.csv" and str(exc).startswith("prop.csv: ")
        assert exc.fix, str(exc)  # every schema error says what would fix it
        event(f"SchemaError: {_kind(exc)}")
        return None
    _assert_canonical(out, len(df))
    event("validated")
    return out


def _kind(exc: SchemaError) -> str:
    """The problem without its values: 'non-numeric values', 'missing column', ..."""
    return exc.problem.split(" in ")[0].split(":")[0].split(" (")[0][:40]


@PROFILE
@given(tables())
def test_validate_returns_a_canonical_table_or_a_schema_error(df: pd.DataFrame) -> None:
    out = _validated(df)
    if out is not None:  # the output satisfies the schema: validating it again changes nothing
        pd.testing.assert_frame_equal(validate(out, "prop.csv"), out)


@PROFILE
@given(tables(sound=True), st.fixed_dictionaries({
    "drop_duplicates": st.booleans(), "drop_missing_customer": st.booleans(),
    "drop_nonpositive_quantity": st.booleans(), "drop_nonpositive_price": st.booleans(),
    "defaults": st.booleans(),
}))  # fmt: skip
def test_clean_counts_add_up_or_it_raises_a_cleaning_error(
    df: pd.DataFrame, switches: dict[str, bool]
) -> None:
    tx = _validated(df)
    if tx is None:
        return
    cfg = _clean_cfg()
    if not switches.pop("defaults"):
        cfg = cfg.model_copy(update=switches)
    try:
        out, report = clean(tx, cfg)
    except CleaningError as exc:
        event(f"CleaningError: {exc.column or 'every row removed'}")
        assert exc.file == "prop.csv" and exc.fix
        if "removed every row" in str(exc):  # only when the rules really took every row
            assert exc.column is None
        else:  # a cap: the value is in the table
            cap = getattr(
                cfg, {"quantity": "max_quantity", "unit_price": "max_unit_price"}[exc.column]
            )
            assert (tx[exc.column] > cap).any()
        return
    event("cleaned")
    assert report.rows_in == len(tx)
    assert report.rows_out == len(out) == report.rows_in - sum(report.dropped.values())
    assert report.customers == out["customer_id"].nunique()
    if cfg.drop_duplicates:  # the first rule sees the whole table: an independent recount
        assert report.dropped["duplicates"] == int(tx.duplicated().sum())
        assert not out.duplicated().any()
    if cfg.drop_missing_customer:  # then someone is left to segment
        assert out["customer_id"].notna().all() and report.customers >= 1
    if cfg.drop_nonpositive_quantity:
        assert (out["quantity"] > 0).all() and (out["quantity"] <= cfg.max_quantity).all()
    if cfg.drop_nonpositive_price and "unit_price" in tx and tx["unit_price"].notna().any():
        assert (out["unit_price"] > 0).all()
    for col in ("unit_price", "amount", "product_id"):  # present columns come out complete
        if col in tx and tx[col].notna().any():
            assert out[col].notna().all(), col
    if cfg.drop_missing_customer:  # what is left is a valid canonical table again
        again = validate(out, "prop.csv")
        pd.testing.assert_frame_equal(again, out, check_categorical=False)


@PROFILE
@given(tables(), st.integers(0, 400), st.sampled_from(["utf-8", "cp1252"]), _mostly(False))
def test_any_csv_file_loads_or_raises_a_schema_error(
    df: pd.DataFrame, cut: int, encoding: str, truncate: bool
) -> None:
    """The same tables as files: written, maybe in another encoding, maybe cut short."""
    data = df.to_csv(index=False).encode(encoding, errors="replace")
    if truncate:
        data = data[:cut]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.csv"
        path.write_bytes(data)
        try:
            loaded = sources.load(_csv_cfg(path), _config().seed)
        except SchemaError as exc:
            assert exc.file == str(path) and exc.fix, str(exc)
            event(f"SchemaError: {_kind(exc)}")
            return
    event("loaded")
    _assert_canonical(loaded.transactions, len(loaded.transactions))
