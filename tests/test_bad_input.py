"""Bad input, one table: every way an ERP or shop export goes wrong, and the exact error it gets.

Each case writes a small file (or none) into a temporary folder, composes and checks the config
the way the command line does (`custseg.config.load`) and runs the real stages in order: load,
clean, features, scaling, clustering. It must fail at the expected stage with the project's own
error type, and the message must name the file, column or config key at fault, show the
offending values where there are any, and say what would fix it. Where the message proposes
overrides, applying them must get the job through. The preflight (header and first rows, before
any run) must catch every fault of the file and the column map that a sample can show, and
nothing the full load would accept. A subset runs the real CLI in a subprocess and checks the
exit code, stderr, that a fault the preflight catches opens no MLflow run and any later one a
FAILED run, and that an earlier good run survives.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from custseg.clean import CleaningError, clean
from custseg.config import ConfigError, load
from custseg.data import sources
from custseg.data.dates import AmbiguousDates
from custseg.data.errors import SchemaError
from custseg.data.preflight import MapError, preflight
from custseg.features import FeatureError
from custseg.model import CustomerModel
from custseg.segment.algorithms import ClusteringError

HEADER = ["customer_id", "invoice_id", "invoice_date", "product_id", "quantity", "unit_price",
          "amount"]  # fmt: skip
BAD_ROW = 3  # the row (counted from 0 after the header) that cases spoil: line 5 of the file


def _rows(
    n: int = 36, customers: int = 12, date: Callable[[int], str] | None = None
) -> list[dict[str, Any]]:
    """A clean export: `customers` customers, one invoice per line, ISO dates."""
    date = date or (lambda i: f"2011-02-{1 + i % 20:02d} 10:{i % 60:02d}:00")
    rows = []
    for i in range(n):
        q, p = 1 + i % 5, 2.5 + i % 7
        rows.append({"customer_id": f"C{i % customers:02d}", "invoice_id": f"I{i:03d}",
                     "invoice_date": date(i), "product_id": f"P{i % 6}", "quantity": q,
                     "unit_price": p, "amount": round(q * p, 2)})  # fmt: skip
    return rows


def _text(rows: list[dict[str, Any]], header: list[str] = HEADER, sep: str = ",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(c, "") for c in header])
    return out.getvalue()


def _file(name: str, content: str | bytes | Callable[[], str | bytes]) -> Callable[[Path], Path]:
    """Writer for a case: put `content` into folder/name and return the path."""

    def write(folder: Path) -> Path:
        data = content() if callable(content) else content
        path = folder / name
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    return write


def _spoiled(**values: Any) -> str:
    """The clean export with row BAD_ROW changed."""
    rows = _rows()
    rows[BAD_ROW] |= values
    return _text(rows)


def _gz_half() -> bytes:
    data = gzip.compress(_text(_rows(3000, customers=40)).encode())
    return data[: len(data) // 2]


def _parquet_half() -> bytes:
    buf = io.BytesIO()
    pd.DataFrame(_rows()).to_parquet(buf)
    return buf.getvalue()[:-200]


def _renamed(old: str, new: str) -> str:
    return _text(_rows()).replace(old, new, 1)


def _without(column: str) -> str:
    return _text([{k: v for k, v in r.items() if k != column} for r in _rows()],
                 [c for c in HEADER if c != column])  # fmt: skip


@dataclass(frozen=True)
class Case:
    id: str
    stage: str  # where it must fail: config | load | clean | segment
    error: type[Exception]
    says: tuple[str, ...]  # fragments the message must hold ({path}, {dir} filled in)
    write: Callable[[Path], Path] | None = field(default=_file("sales.csv", _text(_rows())))
    overrides: tuple[str, ...] = ()
    column: str | None = None  # SchemaError.column expected
    fixed_by: tuple[str, ...] | None = None  # overrides the message proposes: then it runs
    cli: bool = False  # also run through the real CLI in a subprocess


CASES = [
    # --- the file itself --------------------------------------------------------------------
    Case("missing_file", "load", SchemaError,
         ("sales.cvs", "file not found", "did you mean 'sales.csv'?", "set data.path="),
         overrides=("data.path={dir}/sales.cvs",), fixed_by=("data.path={dir}/sales.csv",)),
    Case("directory_not_file", "load", SchemaError,
         ("is a folder, not a file", "sales.csv", "set data.path to the CSV or Parquet file"),
         overrides=("data.path={dir}",), fixed_by=("data.path={dir}/sales.csv",)),
    Case("empty_file_0_bytes", "load", SchemaError,
         ("{path}", "empty file (0 bytes)", "export the file again"),
         write=_file("sales.csv", b"")),
    Case("header_only", "load", SchemaError,
         ("{path}", "empty table: no rows", "export the file again with its data rows"),
         write=_file("sales.csv", ",".join(HEADER) + "\n")),
    Case("truncated_gzip", "load", SchemaError,
         ("{path}", "compressed file is cut off", "fetch the file again"),
         write=_file("sales.csv.gz", _gz_half), cli=True),
    Case("half_written_last_line", "load", SchemaError,
         ("{path}", "the last line ('C03,I003,2011", "stops after 4 of 7 fields", "half written",
          "wait for the export"),
         write=_file("sales.csv", lambda: _text(_rows(4)).rstrip("\n").rsplit(",", 3)[0])),
    Case("unclosed_quote_at_end", "load", SchemaError,
         ("{path}", "quoted value opened at row", "never closes", "export the file again"),
         write=_file("sales.csv", lambda: _text(_rows()) + 'C01,I999,2011-02-01,"P1,unfinish')),
    Case("ragged_row", "load", SchemaError,
         ("{path}", "ragged row: line 5 has 9 fields but the header has 7",
          "'C03,I003,2011-02-04 10:03:00,P3,4,5.5,22.0,x,y'", "quote values that contain"),
         write=_file("sales.csv", lambda: _text(_rows()).replace("22.0\n", "22.0,x,y\n", 1))),
    Case("latin1_bytes", "load", SchemaError,
         ("{path}", "not valid utf-8: byte 0xe9", "(line 5)", "Caf\\xe9", "reads", "Café",
          "set data.encoding=cp1252"),
         write=_file("sales.csv", lambda: _spoiled(product_id="Café").encode("latin-1")),
         fixed_by=("data.encoding=cp1252",), cli=True),
    Case("utf16_export", "load", SchemaError,
         ("{path}", "cannot decode as utf-8", "UTF-16", "set data.encoding=utf-16"),
         write=_file("sales.csv", lambda: _text(_rows()).encode("utf-16")),
         fixed_by=("data.encoding=utf-16",)),
    Case("unknown_encoding_name", "config", ConfigError,
         ("data.encoding: unknown encoding 'cp-1252'", "did you mean 'cp1252'"),
         overrides=("data.encoding=cp-1252",), fixed_by=("data.encoding=cp1252",)),
    Case("excel_workbook_as_csv", "load", SchemaError,
         ("{path}", "Excel .xlsx", "save the sheet as CSV"),
         write=_file("sales.csv", b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xa0\xff")),
    Case("gzip_without_gz_suffix", "load", SchemaError,
         ("{path}", "gzip-compressed", "++data.read_options.compression=gzip"),
         write=_file("sales.csv", lambda: gzip.compress(_text(_rows()).encode())),
         fixed_by=("++data.read_options.compression=gzip",)),
    Case("semicolon_separated", "load", SchemaError,
         ("{path}", "the whole header is one column", "separated by ';'",
          "++data.read_options.sep=';'"),
         write=_file("sales.csv", lambda: _text(_rows(), sep=";")),
         fixed_by=("++data.read_options.sep=';'",)),
    Case("truncated_parquet", "load", SchemaError,
         ("{path}", "cannot read as parquet", "truncated, still being written"),
         write=_file("sales.parquet", _parquet_half)),
    # --- columns ----------------------------------------------------------------------------
    Case("missing_column", "load", SchemaError,
         ("{path}", "missing column (mapped to required 'quantity' by data.columns.quantity)",
          "the file has ['customer_id'", "set data.columns.quantity=<column in the file>"),
         write=_file("sales.csv", lambda: _without("quantity")), column="quantity", cli=True),
    Case("misspelt_column", "load", SchemaError,
         ("{path}", "did you mean 'quantitiy'?", "set data.columns.quantity='quantitiy'"),
         write=_file("sales.csv", lambda: _renamed("quantity", "quantitiy")), column="quantity",
         fixed_by=("data.columns.quantity=quantitiy",)),
    Case("header_with_space_and_case", "load", SchemaError,
         ("{path}", "did you mean 'Customer ID'?", "data.columns.customer_id='Customer ID'"),
         write=_file("sales.csv", lambda: _renamed("customer_id", "Customer ID")),
         column="customer_id", fixed_by=("data.columns.customer_id='Customer ID'",)),
    Case("column_map_to_absent_column", "load", SchemaError,
         ("{path}", "'CustID'", "data.columns.customer_id", "did you mean 'customer_id'?",
          "set data.columns.customer_id='customer_id'"),
         overrides=("data.columns.customer_id=CustID",), column="CustID",
         fixed_by=("data.columns.customer_id=customer_id",)),
    Case("unknown_canonical_name", "config", ConfigError,
         ("data.columns.custmer_id: 'custmer_id' is not one of customer_id,",
          "did you mean 'customer_id'?"),
         overrides=("+data.columns.custmer_id=customer_id",)),
    # --- values -----------------------------------------------------------------------------
    Case("text_in_quantity", "load", SchemaError,
         ("{path}", "non-numeric values in 1 row(s), e.g. 'two' at row(s) [3]",
          "source column 'quantity'", "must hold plain numbers"),
         write=_file("sales.csv", lambda: _spoiled(quantity="two")), column="quantity"),
    Case("currency_in_price", "load", SchemaError,
         ("{path}", "'£5.50' at row(s) [3]", "currency"),
         write=_file("sales.csv", lambda: _spoiled(unit_price="£5.50")), column="unit_price"),
    Case("decimal_comma", "load", SchemaError,
         ("{path}", "non-numeric values in 36 row(s), e.g. '2,5', '3,5', '4,5' at row(s) [0, 1, 2]",
          "decimal comma", "++data.read_options.decimal=','"),
         write=_file("sales.csv", lambda: _text(_rows(), sep=";").replace(".", ",")),
         overrides=("++data.read_options.sep=';'",), column="unit_price",
         fixed_by=("++data.read_options.decimal=','",)),
    Case("nan_quantity", "load", SchemaError,
         ("{path}", "missing values in 1 row(s) at row(s) [3]", "fill them in"),
         write=_file("sales.csv", lambda: _spoiled(quantity="")), column="quantity"),
    Case("blank_price", "load", SchemaError,
         ("{path}", "missing values in 1 row(s) at row(s) [3]", "source column 'unit_price'"),
         write=_file("sales.csv", lambda: _spoiled(unit_price="")), column="unit_price",
         fixed_by=("data.columns.unit_price=null",)),
    Case("inf_price", "load", SchemaError,
         ("{path}", "infinite values in 1 row(s), e.g. inf at row(s) [3]"),
         write=_file("sales.csv", lambda: _spoiled(unit_price="inf")), column="unit_price"),
    Case("no_customer_ids", "load", SchemaError,
         ("{path}", "no customer ids at all", "data.columns.customer_id"),
         write=_file("sales.csv", lambda: _text([r | {"customer_id": " "} for r in _rows()])),
         column="customer_id"),
    Case("invoice_shared_by_customers", "load", SchemaError,
         ("{path}", "invoice id(s) belong to several customers, e.g. 'I000' to 'C00', 'C03'",
          "at row(s) [0, 3]", "data.columns.invoice_id=null"),
         write=_file("sales.csv", lambda: _spoiled(invoice_id="I000")), column="invoice_id",
         fixed_by=("data.columns.invoice_id=null",)),
    # --- dates ------------------------------------------------------------------------------
    Case("unparsable_date", "load", SchemaError,
         ("{path}", "unparsable dates with format '%Y-%m-%d %H:%M:%S'",
          "'yesterday' at row(s) [3]", "set data.date_format"),
         write=_file("sales.csv", lambda: _spoiled(invoice_date="yesterday")),
         column="invoice_date"),
    Case("mixed_date_layouts", "load", SchemaError,
         ("{path}", "mixed date layouts", "'%Y-%m-%d %H:%M:%S'", "'01/02/2011' at row(s) [3]",
          "'%m/%d/%Y'", "one layout"),
         write=_file("sales.csv", lambda: _spoiled(invoice_date="01/02/2011")),
         column="invoice_date"),
    Case("ambiguous_day_month", "load", AmbiguousDates,
         ("{path}", "ambiguous dates", "'01/02/2011'", "2011-01-02 as '%m/%d/%Y'",
          "2011-02-01 as '%d/%m/%Y'", "data.date_format="),
         write=_file("sales.csv", lambda: _text(_rows(date=lambda i: f"{1 + i % 12:02d}/02/2011"))),
         column="invoice_date", fixed_by=("data.date_format=%d/%m/%Y",)),
    Case("given_format_does_not_fit", "load", SchemaError,
         ("{path}", "no date fits data.date_format='%d/%m/%Y'", "'2011-02-01 10:00:00'",
          "looks like '%Y-%m-%d %H:%M:%S'", "set data.date_format=%Y-%m-%d %H:%M:%S"),
         overrides=("data.date_format=%d/%m/%Y",), column="invoice_date",
         fixed_by=("data.date_format=null",)),
    Case("spreadsheet_serial_dates", "load", SchemaError,
         ("{path}", "numbers, not dates", "40544", "export the column as dates"),
         write=_file("sales.csv", lambda: _text(_rows(date=lambda i: str(40544 + i)))),
         column="invoice_date"),
    Case("date_out_of_range", "load", SchemaError,
         ("{path}", "dates outside 1677-09-22..2262-04-11", "'9999-12-31 00:00:00' at row(s) [3]",
          "correct the year"),
         write=_file("sales.csv", lambda: _spoiled(invoice_date="9999-12-31 00:00:00")),
         column="invoice_date"),
    Case("mixed_time_zones", "load", SchemaError,
         ("{path}", "mixed time zones", "one time zone"),
         write=_file("sales.csv", lambda: _text(_rows(date=lambda i: f"2011-02-01T10:00+0{i%2}"))),
         column="invoice_date"),
    Case("missing_date", "load", SchemaError,
         ("{path}", "missing dates in 1 row(s) at row(s) [3]", "fill in the date"),
         write=_file("sales.csv", lambda: _spoiled(invoice_date="")), column="invoice_date"),
    # --- cleaning ---------------------------------------------------------------------------
    Case("every_row_removed", "clean", CleaningError,
         ("{path}", "cleaning removed every row (36 in, 0 left)",
          "nonpositive_quantity removed 36", "clean.drop_nonpositive_quantity=false"),
         write=_file("sales.csv", lambda: _text([r | {"quantity": -1} for r in _rows()])),
         cli=True),
    Case("rows_removed_by_several_rules", "clean", CleaningError,
         ("{path}", "missing_customer removed 24", "cancellations removed 12",
          "clean.drop_missing_customer=false"),
         write=_file("sales.csv", lambda: _text(
             [r | ({"customer_id": ""} if i % 3 else {"invoice_id": f"C{i}"})
              for i, r in enumerate(_rows())]))),
    Case("absurd_quantity", "clean", CleaningError,
         ("{path}", "column 'quantity'", "1 line(s) above clean.max_quantity=1e+06",
          "e.g. 4.00601e+12 at row(s) [3]", "barcode", "raise clean.max_quantity"),
         write=_file("sales.csv", lambda: _spoiled(quantity=4006011234567, amount=2.0)),
         column="quantity", fixed_by=("clean.max_quantity=null",)),
    Case("absurd_price", "clean", CleaningError,
         ("{path}", "column 'unit_price'", "above clean.max_unit_price=1e+06",
          "e.g. 1.2e+08 at row(s) [3]"),
         write=_file("sales.csv", lambda: _spoiled(unit_price=120_000_000)),
         column="unit_price", fixed_by=("clean.max_unit_price=null",)),
    # --- features and clustering -----------------------------------------------------------
    Case("one_customer", "segment", ClusteringError,
         ("only 1 customer(s) left after cleaning", "at least 2"),
         write=_file("sales.csv", lambda: _text(_rows(customers=1)))),
    Case("fewer_customers_than_k", "segment", ClusteringError,
         ("segment.n_clusters=5 but only 3 customers", "set segment.n_clusters to at most 3"),
         write=_file("sales.csv", lambda: _text(_rows(customers=3))),
         overrides=("segment.n_clusters=5",), fixed_by=("segment.n_clusters=3",), cli=True),
    Case("hdbscan_min_cluster_size_above_customers", "segment", ClusteringError,
         ("segment.min_cluster_size=50 but only 12 customers",
          "set segment.min_cluster_size to at most 12"),
         overrides=("segment=hdbscan",), fixed_by=("segment.min_cluster_size=3",)),
    Case("n_clusters_not_a_number", "config", ConfigError,
         ("segment.n_clusters: 'five' is not a whole number",),
         overrides=("segment.n_clusters=five",), fixed_by=("segment.n_clusters=3",)),
    Case("feature_set_needs_absent_column", "segment", FeatureError,
         ("feature set 'category_mix' needs column 'category'", "feature sets that work on it"),
         overrides=("features=category_mix",)),
    Case("feature_name_typo_inside_group", "config", ConfigError,
         ("features.name: 'rmf' is not one of", "did you mean 'rfm'?"),
         overrides=("features.name=rmf",)),
    # --- the command line -------------------------------------------------------------------
    Case("unknown_algorithm_option", "config", ConfigError,
         ("segment=kmean", "config group 'segment' has no option 'kmean'",
          "did you mean 'kmeans'?", "valid options: gmm, hdbscan, kmeans"),
         overrides=("segment=kmean",), cli=True),
    Case("unknown_features_option", "config", ConfigError,
         ("features=rmf", "did you mean 'rfm'?", "rfm_region", "value_quantity"),
         overrides=("features=rmf",)),
    Case("unknown_config_key", "config", ConfigError,
         ("data.colums.customer_id=X", "'data' (data=csv) has no key 'colums'",
          "did you mean 'columns'?", "+data.colums.customer_id=X"),
         overrides=("data.colums.customer_id=X",)),
    Case("required_path_missing", "config", ConfigError,
         ("data.path is required with data=csv", "set data.path=..."),
         write=None),
    Case("unparsable_override", "config", ConfigError,
         ("cannot parse the command line", "quote values"),
         overrides=("segment.n_clusters=[3",)),
]  # fmt: skip

BASE = ("data=csv", "segment.n_clusters=3", "report=none", "recommend=none", "rules=none")


def _fill(text: str, folder: Path, path: Path | None) -> str:
    return text.replace("{dir}", str(folder)).replace("{path}", str(path))


def _overrides(case: Case, folder: Path, path: Path | None, extra: tuple[str, ...] = ()) -> list:
    given = [_fill(o, folder, path) for o in (*case.overrides, *extra)]
    keys = {o.lstrip("+").split("=", 1)[0] for o in given}
    algorithm_chosen = "segment" in keys  # its own parameters then, not the base's k
    base = [o for o in BASE if o.split("=", 1)[0] not in keys
            and not (algorithm_chosen and o.startswith("segment."))]  # fmt: skip
    if path is not None and "data.path" not in keys:
        base.append(f"data.path={path}")
    return [*base, *given]


def run_stages(overrides: list[str]) -> int:
    """Compose and check like the CLI, then load, clean and fit the customer model (features,
    scaling, clustering, profiles); return the number of segmented customers. The real stage
    functions, no pipeline and no MLflow."""
    config = load(overrides)
    loaded = sources.load(config.data, config.seed)
    tx, _ = clean(loaded.transactions, config.clean)
    model = CustomerModel(config).fit(tx)
    return len(model.training_.segmentation.labels)


def _stage_of(exc: BaseException) -> str:
    stages = {ConfigError: "config", CleaningError: "clean", SchemaError: "load",
              FeatureError: "segment", ClusteringError: "segment"}  # fmt: skip
    return next(stages[c] for c in type(exc).__mro__ if c in stages)


def test_the_table_is_big_and_its_ids_unique():
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.stage for c in CASES if c.cli} >= {"config", "load", "clean", "segment"}


def test_the_good_export_runs_through_every_stage(tmp_path):
    # the baseline every case spoils: without this, a case could pass by failing for another reason
    path = _file("sales.csv", _text(_rows()))(tmp_path)
    assert run_stages(list(BASE) + [f"data.path={path}"]) == 12


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_fails_with_a_specific_actionable_error(case: Case, tmp_path: Path):
    path = case.write(tmp_path) if case.write else None
    overrides = _overrides(case, tmp_path, path)
    with pytest.raises(Exception) as info:
        run_stages(overrides)
    exc = info.value
    assert type(exc) is case.error, f"{type(exc).__name__}: {exc}"
    assert _stage_of(exc) == case.stage
    message = str(exc)
    for fragment in case.says:
        assert _fill(fragment, tmp_path, path) in message, message
    assert "\n" not in message.strip()  # one paragraph
    if isinstance(exc, SchemaError):
        assert exc.fix and f". Fix: {exc.fix}" in message
        if case.column is not None:
            assert exc.column == case.column
        used = next(o.split("=", 1)[1] for o in overrides if o.startswith("data.path="))
        assert exc.file == used  # the file the user pointed at, as they wrote it
    if case.fixed_by is not None:
        # the fix the message proposes works: same file, those overrides, every stage passes
        assert run_stages(_overrides(case, tmp_path, path, case.fixed_by)) > 0


# load faults only the whole table shows: infinities, no customer at all, an invoice id shared by
# customers, and day/month order (the first rows can be ambiguous where later ones are not)
LATE = {"inf_price", "no_customer_ids", "invoice_shared_by_customers", "ambiguous_day_month"}
DATA_CASES = [c for c in CASES if c.stage != "config"]


def preflight_error(overrides: list[str]) -> SchemaError | None:
    """What the preflight raises for this command line (None: it lets the run start)."""
    try:
        preflight(load(overrides).data)
    except SchemaError as exc:
        return exc
    return None


@pytest.mark.slow
@pytest.mark.parametrize("case", DATA_CASES, ids=[c.id for c in DATA_CASES])
def test_preflight_catches_what_the_first_rows_show_and_nothing_the_load_accepts(case, tmp_path):
    path = case.write(tmp_path) if case.write else None
    overrides = _overrides(case, tmp_path, path)
    early = preflight_error(overrides)
    assert (early is not None) == (case.stage == "load" and case.id not in LATE), early
    if early is None:
        return
    with pytest.raises(SchemaError) as full:  # never stricter than the full load
        run_stages(overrides)
    if isinstance(early, MapError):  # one problem per spoilt column, the case's column first
        assert str(path) in str(early)
        for problem in early.problems:
            assert problem.key.startswith("data.columns.") and problem.file == str(path)
            assert f"{problem.key}={problem.column!r}" in str(early)
        if case.column is not None:
            assert early.column == early.problems[0].column == case.column
    else:  # reading the file failed: the full load's own error (pyarrow may word it apart)
        exc = full.value
        assert (early.file, early.column, early.fix) == (exc.file, exc.column, exc.fix)
        assert early.problem.split(":")[0] == exc.problem.split(":")[0]


def test_utf8_error_offset_is_the_byte_in_the_whole_file(tmp_path):
    # pandas reports the position inside its read buffer; the message must give the file's own
    rows = _rows(20_000, customers=50)
    rows[15_000]["product_id"] = "Crème"
    raw = _text(rows).encode("cp1252")
    path = tmp_path / "big.csv"
    path.write_bytes(raw)
    with pytest.raises(SchemaError) as info:
        run_stages(list(BASE) + [f"data.path={path}"])
    offset = raw.index(b"\xe8")
    line = raw[:offset].count(b"\n") + 1
    assert line == 15_002
    assert info.value.__cause__.start != offset  # pandas' own position is buffer-relative
    assert f"byte 0xe8 at byte offset {offset:,} (line {line:,})" in str(info.value)


def test_day_first_dates_are_read_consistently_when_the_data_says_so(tmp_path):
    # 01/02 alone is ambiguous, but 13/02 further down fixes the order for the whole column
    rows = _rows(date=lambda i: f"{1 + i % 20:02d}/02/2011")
    path = _file("sales.csv", _text(rows))(tmp_path)
    cfg = load(list(BASE) + [f"data.path={path}"])
    tx = sources.load(cfg.data, cfg.seed).transactions
    assert tx["invoice_date"].dt.month.eq(2).all()
    assert tx["invoice_date"].dt.day.tolist() == [1 + i % 20 for i in range(len(rows))]


def test_yyyymmdd_numbers_are_dates_once_the_layout_is_given(tmp_path):
    # the fix the "numbers, not dates" message proposes for compact dates read as integers
    path = _file("sales.csv", _text(_rows(date=lambda i: f"201102{1 + i % 20:02d}")))(tmp_path)
    with pytest.raises(SchemaError, match="numbers, not dates.*data.date_format=%Y%m%d"):
        run_stages(list(BASE) + [f"data.path={path}"])
    cfg = load(list(BASE) + [f"data.path={path}", "data.date_format=%Y%m%d"])
    tx = sources.load(cfg.data, cfg.seed).transactions
    assert tx["invoice_date"].iloc[:3].tolist() == list(pd.to_datetime(
        ["2011-02-01", "2011-02-02", "2011-02-03"]))  # fmt: skip


def test_non_positive_quantities_are_cleaned_and_counted_not_errors(tmp_path):
    rows = _rows()
    for i in (1, 2, 7):
        rows[i] |= {"quantity": -i, "amount": -2.0}
    rows[4] |= {"quantity": 0, "amount": 0.0}
    path = _file("sales.csv", _text(rows))(tmp_path)
    cfg = load(list(BASE) + [f"data.path={path}"])
    loaded = sources.load(cfg.data, cfg.seed)
    out, report = clean(loaded.transactions, cfg.clean)
    assert report.dropped["nonpositive_quantity"] == 4
    assert report.rows_out == 32 and (out["quantity"] > 0).all()


# --- the real command line --------------------------------------------------------------------


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    return subprocess.run([sys.executable, "-m", "custseg", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip


def _runs(uri: str) -> dict[str, Any]:
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("custseg")
    runs = [] if exp is None else client.search_runs([exp.experiment_id])
    return {r.info.run_id: r for r in runs}


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One good run on the demo data in a fresh store; the bad runs go into the same store."""
    root = tmp_path_factory.mktemp("cli")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    good = root / "good"
    proc = _cli(["data.generator.n_rows=3000", "report=none", "recommend=none",
                 f"tracking.uri={uri}", f"hydra.run.dir={good}"], root)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    (run,) = _runs(uri).values()
    assert run.info.status == "FINISHED"
    artifacts = {a.path for a in MlflowClient(uri).list_artifacts(run.info.run_id)}
    assert "segments.parquet" in artifacts
    return {"root": root, "uri": uri, "run": run, "artifacts": artifacts, "files": _digest(good)}


CLI_CASES = [c for c in CASES if c.cli]


@pytest.mark.slow
@pytest.mark.parametrize("case", CLI_CASES, ids=[c.id for c in CLI_CASES])
def test_cli_exits_2_marks_the_run_failed_and_keeps_earlier_runs(case: Case, store, tmp_path):
    uri, good = store["uri"], store["run"]
    path = case.write(tmp_path) if case.write else None
    with pytest.raises(Exception) as info:  # the message the CLI must print, in-process
        run_stages(_overrides(case, tmp_path, path))
    early = None if case.stage == "config" else preflight_error(_overrides(case, tmp_path, path))
    message = str(early or info.value)
    before = _runs(uri)
    proc = _cli([*_overrides(case, tmp_path, path), f"tracking.uri={uri}",
                 f"hydra.run.dir={tmp_path / 'out'}"], store["root"])  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output[-3000:]
    assert f"custseg: error: {message}" in proc.stderr
    assert "Traceback" not in output
    runs = _runs(uri)
    new = [r for rid, r in runs.items() if rid not in before]
    if case.stage == "config" or early is not None:
        assert new == []  # stopped before any run was opened
    else:
        (failed,) = new
        assert failed.info.status == "FAILED"
        assert failed.data.tags["failure_reason"] == f"{type(info.value).__name__}: {message}"
    # the earlier good run and its local outputs are exactly as they were
    kept = runs[good.info.run_id]
    assert kept.info.status == "FINISHED" and kept.info.end_time == good.info.end_time
    assert kept.data.metrics == good.data.metrics
    client = MlflowClient(uri)
    assert {a.path for a in client.list_artifacts(good.info.run_id)} == store["artifacts"]
    assert _digest(store["root"] / "good") == store["files"]
