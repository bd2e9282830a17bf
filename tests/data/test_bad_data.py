"""Bad or ambiguous transaction data (issue 17): never a silent reading, never a traceback.

Each case writes a small file (or a link, a pipe, a folder) into a temporary folder, composes
the config as the command line does (`custseg.config.load`) and runs the real stages: load,
clean and the customer model, plus the recommendation evaluation where the case is about the
time window. A case either fails at its stage with the project's own error, whose message
names the file and the column and says what fixes it (and, where it proposes overrides, those
overrides get the same file through), or it goes through with the notice (`notices.warn`) that
says what was read and how, checked by key and by the values it reports. The preflight (header
and first rows, before any run) must catch what a sample shows and never refuse what the full
load accepts. A few cases run the real CLI: exit 2 and the file or column named for errors,
exit 0 and a `warning.<key>` tag on the MLflow run for warnings.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import os
import random
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from mlflow.tracking import MlflowClient

from custseg.clean import CleaningError, clean
from custseg.config import ConfigError, load
from custseg.data import sources
from custseg.data.errors import SchemaError
from custseg.data.preflight import MapError, preflight
from custseg.features import FeatureError
from custseg.model import CustomerModel
from custseg.notices import collecting
from custseg.pipeline import run
from custseg.segment.algorithms import ClusteringError

HEADER = ["customer_id", "invoice_id", "invoice_date", "product_id", "quantity", "unit_price",
          "amount"]  # fmt: skip
BAD = 3  # the data row (from 0, header not counted) a case spoils
BASE = ("data=csv", "segment.n_clusters=3", "report=none", "recommend=none", "rules=none",
        "stability.rounds=0")  # fmt: skip
EVALUATE = ("data=csv", "segment.n_clusters=3", "report=none", "stability.rounds=0")  # + rules


def _rows(n: int = 36, customers: int = 12, days: int = 20) -> list[dict[str, Any]]:
    """A clean export: `customers` customers over `days` days, one invoice per line."""
    out = []
    for i in range(n):
        q, p = 1 + i % 5, 2.5 + i % 7
        out.append({"customer_id": f"C{i % customers:02d}", "invoice_id": f"I{i:03d}",
                    "invoice_date": f"2011-02-{1 + i % days:02d} 10:{i % 60:02d}:00",
                    "product_id": f"P{(i + i // customers) % 6}", "quantity": q, "unit_price": p,
                    "amount": round(q * p, 2)})  # fmt: skip
    return out


def _text(rows: list[dict[str, Any]], header: list[str] = HEADER, sep: str = ",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(c, "") for c in header])
    return out.getvalue()


def _spoiled(rows: list[dict[str, Any]] | None = None, **values: Any) -> list[dict[str, Any]]:
    rows = rows or _rows()
    rows[BAD] = rows[BAD] | values
    return rows


def _each(column: str, values: list[Any], rows: list[dict[str, Any]] | None = None) -> list:
    """Rows whose `column` cycles through `values`."""
    rows = rows or _rows()
    for i, row in enumerate(rows):
        row[column] = values[i % len(values)]
    return rows


Writer = Callable[[Path], Path]


def _csv(rows: list[dict[str, Any]] | Callable[[], Any], header: list[str] = HEADER,
         name: str = "sales.csv", sep: str = ",") -> Writer:  # fmt: skip
    def write(folder: Path) -> Path:
        path = folder / name
        path.write_text(_text(rows() if callable(rows) else rows, header, sep))
        return path

    return write


def _bytes(data: bytes | Callable[[], bytes], name: str = "sales.csv") -> Writer:
    def write(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data() if callable(data) else data)
        return path

    return write


def _parquet(change: Callable[[pd.DataFrame], pd.DataFrame], name: str = "sales.parquet"
             ) -> Writer:  # fmt: skip
    def write(folder: Path) -> Path:
        path = folder / name
        change(pd.DataFrame(_rows())).to_parquet(path)
        return path

    return write


def _parquet_twice(column: str) -> Writer:
    """A Parquet file whose schema names `column` twice (pyarrow writes it; pandas would not)."""

    def write(folder: Path) -> Path:
        df = pd.DataFrame(_rows())
        table = pa.Table.from_pandas(df, preserve_index=False)
        table = table.append_column(column, pa.array(df[column].str.lower()))
        pq.write_table(table, folder / "sales.parquet")
        return folder / "sales.parquet"

    return write


def _link(target: str, name: str = "sales.csv", via: str | None = None) -> Writer:
    """A symbolic link `name` -> `target` (optionally through `via` -> `name`)."""

    def write(folder: Path) -> Path:
        path = folder / name
        path.symlink_to(target)
        if via:
            (folder / via).symlink_to(name)
        return path

    return write


def _fifo(folder: Path) -> Path:
    path = folder / "sales.csv"
    os.mkfifo(path)
    return path


def _locked(folder: Path) -> Path:
    path = _csv(_rows())(folder)
    path.chmod(0)
    return path


def _dated(dates: dict[int, str]) -> list[dict[str, Any]]:
    """The clean export with the rows `dates` names dated otherwise."""
    rows = _rows()
    for i, date in dates.items():
        rows[i]["invoice_date"] = date
    return rows


def _with_column(name: str, values: Callable[[int], Any]) -> Writer:
    """The clean export plus a column `name` (its header may repeat another's)."""
    rows = _rows()
    header = [*HEADER, name]
    body = io.StringIO()
    writer = csv.writer(body, lineterminator="\n")
    writer.writerow(header)
    for i, row in enumerate(rows):
        writer.writerow([*[row[c] for c in HEADER], values(i)])
    return _bytes(body.getvalue().encode())


def _frame_col(column: str, values: list[Any], dtype: str | None = None) -> Callable:
    def change(df: pd.DataFrame) -> pd.DataFrame:
        df[column] = pd.Series([values[i % len(values)] for i in range(len(df))], dtype=dtype)
        return df

    return change


def _gz_empty() -> bytes:
    return gzip.compress(b"")


def _garbage() -> bytes:
    return random.Random(17).randbytes(4096)


def _utf16_no_bom() -> bytes:
    return _text(_rows()).encode("utf-16-le")


def _stray_quote(opens: int, closes: int, column: str = "product_id") -> Callable[[], bytes]:
    """The clean export (plus product names) with a '"' opening `column` on data row `opens`
    and closing it on row `closes`: a reader takes the rows between as part of one value, and
    no row comes out short of fields."""

    def data() -> bytes:
        header = [*HEADER, "product_name"]
        rows = [r | {"product_name": f"Item {i}"} for i, r in enumerate(_rows())]
        lines, at = _text(rows, header).split("\n"), header.index(column)
        first, last = lines[opens + 1].split(","), lines[closes + 1].split(",")
        first[at], last[at] = '"' + first[at], last[at] + '"'
        lines[opens + 1], lines[closes + 1] = ",".join(first), ",".join(last)
        return "\n".join(lines).encode()

    return data


def _bz2_half() -> bytes:
    data = bz2.compress(_text(_rows(3000, customers=40)).encode())
    return data[: len(data) // 2]


def _thousands_rows() -> list[dict[str, Any]]:
    return _each("quantity", ["1,000", "2,500", "12,000", "5", "40"])


# --- checks of runs that go through -------------------------------------------------------


@dataclass
class Outcome:
    """What the stages produced for a case that goes through."""

    tx: pd.DataFrame  # the cleaned lines
    dropped: dict[str, int]
    warnings: dict[str, str]
    evaluation: Any = None


def _customers(n: int, *present: str) -> Callable[[Outcome], None]:
    def check(o: Outcome) -> None:
        assert o.tx["customer_id"].nunique() == n, sorted(o.tx["customer_id"].unique())
        assert set(present) <= set(o.tx["customer_id"])

    return check


def _quantity_total(total: float) -> Callable[[Outcome], None]:
    def check(o: Outcome) -> None:
        assert o.tx["quantity"].sum() == pytest.approx(total)

    return check


def _dropped_dates(n: int, first: str, last: str) -> Callable[[Outcome], None]:
    def check(o: Outcome) -> None:
        assert o.dropped["date_outliers"] == n
        assert o.tx["invoice_date"].min() >= pd.Timestamp(first)
        assert o.tx["invoice_date"].max() <= pd.Timestamp(last)

    return check


def _skipped(o: Outcome) -> None:
    ev = o.evaluation
    assert ev is not None and ev.table.empty and "skipped" in ev.split
    assert ev.split["test_customers"] == 0


def _evaluated(o: Outcome) -> None:
    ev = o.evaluation
    assert ev is not None and not ev.table.empty and "skipped" not in ev.split
    assert ev.split["train_rows"] >= 20 and ev.split["test_customers"] > 0
    assert "evaluation.skipped" not in o.warnings


@dataclass(frozen=True)
class Case:
    id: str
    stage: str  # where it fails (load | clean | segment), or 'ok': it goes through
    error: type[Exception] | None
    says: tuple[str, ...]  # fragments of the error message or of the warning ({path}, {dir})
    write: Writer = field(default=_csv(_rows()))
    overrides: tuple[str, ...] = ()
    column: str | None = None  # SchemaError.column expected
    warning: str | None = None  # the notice key a case that goes through must raise
    check: Callable[[Outcome], None] | None = None  # what a case that goes through produced
    fixed_by: tuple[str, ...] | None = None  # overrides the message proposes: then it runs
    early: bool = False  # the preflight finds it (header and first rows)
    evaluate: bool = False  # run rules, recommendations and their evaluation too
    cli: bool = False


CASES = [
    # --- the path and the bytes behind it ---------------------------------------------------
    Case("symlink_loop", "load", SchemaError,
         ("{path}", "a symbolic link that loops", "set data.path to the real file"),
         write=_link("sales.csv"), early=True, cli=True),
    Case("symlink_loop_through_two_links", "load", SchemaError,
         ("{path}", "a symbolic link that loops"), write=_link("other.csv", via="other.csv"),
         early=True),
    Case("broken_symlink", "load", SchemaError,
         ("{path}", "a symbolic link to 'gone.csv', which does not exist", "repair the link"),
         write=_link("gone.csv"), early=True),
    Case("home_folder_of_an_unknown_user", "load", SchemaError,
         ("{path}", "cannot expand '~nobody-custseg-17': no such user's home folder",
          "write the path out in full"),
         write=lambda d: Path("~nobody-custseg-17/sales.csv"), early=True),
    Case("folder_named_like_a_file", "load", SchemaError,
         ("{path}", "is a folder, not a file", "set data.path to the CSV or Parquet file"),
         write=lambda d: (d / "sales.csv").mkdir() or d / "sales.csv", early=True),
    Case("named_pipe", "load", SchemaError,
         ("{path}", "is a named pipe, not a regular file", "save the data to a regular file"),
         write=_fifo, early=True),
    Case("unreadable_chmod_000", "load", SchemaError,
         ("{path}", "cannot read the file: Permission denied", "mode ----------",
          "chmod a+r FILE"), write=_locked, early=True),
    Case("empty_gzip", "load", SchemaError,
         ("{path}", "empty file: no header and no rows", "export the file again"),
         write=_bytes(_gz_empty, "sales.csv.gz"), early=True),
    Case("only_blank_lines", "load", SchemaError,
         ("{path}", "empty file: no header and no rows"), write=_bytes(b"\n\n   \n\n"),
         early=True),
    Case("binary_garbage", "load", SchemaError,
         ("{path}", "not a text file: a NUL byte at byte offset", "point data.path at the CSV"),
         write=_bytes(_garbage), early=True, cli=True),
    Case("png_named_csv", "load", SchemaError,
         ("{path}", "PNG image", "point data.path at the CSV export"),
         write=_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200)), early=True),
    Case("sqlite_named_csv", "load", SchemaError,
         ("{path}", "SQLite database", "export the table as CSV"),
         write=_bytes(b"SQLite format 3\x00" + bytes(500)), early=True),
    Case("truncated_bz2", "load", SchemaError,
         ("{path}", "the compressed file is cut off or damaged", "fetch the file again"),
         write=_bytes(_bz2_half, "sales.csv.bz2"), early=True),
    Case("stray_quote_swallows_lines", "load", SchemaError,
         ("{path}", "values spanning several lines in 1 row(s)", "at row(s) [3]",
          "correct the quoting there (the file lost those rows)"),
         write=_bytes(_stray_quote(3, 6)), column="product_id", early=True),
    Case("csv_named_parquet", "load", SchemaError,
         ("{path}", "cannot read as parquet", "it is text (a CSV?), not Parquet",
          "set data.format=csv"), write=_csv(_rows(), name="sales.parquet"), early=True,
         fixed_by=("data.format=csv",)),
    Case("parquet_named_csv", "load", SchemaError,
         ("{path}", "it is a Parquet file", "set data.format=parquet"),
         write=lambda d: (_parquet(lambda df: df)(d)).rename(d / "sales.csv"), early=True,
         fixed_by=("data.format=parquet",)),
    Case("json_named_csv", "load", SchemaError,
         ("{path}", "it looks like JSON (it starts with '[')", "convert it to CSV"),
         write=_bytes(pd.DataFrame(_rows()).to_json(orient="records").encode()), early=True),
    Case("one_huge_line_without_line_breaks", "load", SchemaError,
         ("{path}", "the header line holds a 'column name' of 2,097,152 characters",
          "no line breaks"), write=_bytes(b"x" * 2 * 2**20), early=True),
    Case("latin1_product_names", "load", SchemaError,
         ("{path}", "not valid utf-8: byte 0xe9", "Caf\\xe9", "set data.encoding=cp1252"),
         write=_bytes(lambda: _text(_spoiled(product_id="Café crème")).encode("latin-1")),
         fixed_by=("data.encoding=latin-1",), early=True),
    Case("utf16_without_byte_order_mark", "load", SchemaError,
         ("{path}", "every other byte is NUL: UTF-16 text without a byte-order mark",
          "set data.encoding=utf-16-le"), write=_bytes(_utf16_no_bom),
         fixed_by=("data.encoding=utf-16-le",), early=True),
    # --- duplicate columns ------------------------------------------------------------------
    Case("two_quantity_columns", "load", SchemaError,
         ("{path}", "the header names 2 columns 'quantity'",
          "data.columns.quantity cannot tell which one it means",
          "data.columns.quantity='quantity.1' is the next"),
         write=_with_column("quantity", lambda i: 100 + i), column="quantity",
         fixed_by=("data.columns.quantity=quantity.1",), early=True, cli=True),
    Case("same_name_up_to_case", "load", SchemaError,
         ("{path}", "the header also has 'Quantity', the same name up to case and spaces",
          "++data.read_options.usecols=['customer_id',"),
         write=_with_column("Quantity", lambda i: 7), column="quantity", early=True,
         fixed_by=("++data.read_options.usecols=['customer_id','invoice_id','invoice_date',"
                   "'product_id','quantity','unit_price','amount']",)),
    Case("same_name_up_to_spaces", "load", SchemaError,
         ("{path}", "the header also has ' customer_id '", "the same name up to case"),
         write=_with_column(" customer_id ", lambda i: f"K{i}"), column="customer_id",
         early=True),
    Case("parquet_repeats_a_column", "load", SchemaError,
         ("{path}", "the Parquet schema names 2 columns 'customer_id'", "one column per name"),
         column="customer_id", write=_parquet_twice("customer_id"), early=True),
    Case("map_reads_one_column_twice", "load", SchemaError,
         ("{path}", "data.columns.quantity and data.columns.amount all read the one column "
          "'quantity'", "map each of them to its own column",
          "data.columns.amount=null"), overrides=("data.columns.amount=quantity",),
         column="quantity", fixed_by=("data.columns.amount=amount",), early=True),
    Case("invoice_mapped_to_the_customer_column", "load", SchemaError,
         ("{path}", "data.columns.customer_id and data.columns.invoice_id all read",
          "data.columns.invoice_id=null (customer x day becomes the invoice)"),
         overrides=("data.columns.invoice_id=customer_id",), column="customer_id",
         fixed_by=("data.columns.invoice_id=null",), early=True),
    # --- ids --------------------------------------------------------------------------------
    Case("customer_17850_and_17850_point_0", "ok", None,
         ("{path}", "1 customer_id value(s) are written in more than one way",
          "'17850' = '17850.0'", "source column 'customer_id'"),
         write=_csv(_spoiled(_spoiled(customer_id="17850"), invoice_id="I900") + [
             _rows()[0] | {"customer_id": "17850.0", "invoice_id": "I901"}]),
         warning="data.customer_id_collisions", check=_customers(13, "17850"), cli=True),
    Case("customer_id_padded_with_spaces", "ok", None,
         ("'C05' = ' C05'",),
         write=_csv(_each("customer_id", ["C05", " C05", "C01", "C02"])),
         warning="data.customer_id_collisions", check=_customers(3, "C05")),
    Case("customer_ids_as_floats_from_blanks", "ok", None, (),
         write=_csv(_each("customer_id", [17850, 13047, "", 12583])),
         check=_customers(3, "17850", "13047", "12583")),
    Case("product_ids_collide", "ok", None,
         ("product_id value(s) are written in more than one way", "'85123' = '85123.0'"),
         write=_csv(_each("product_id", ["85123", "85123.0", "22423"])),
         warning="data.product_id_collisions",
         check=lambda o: set(o.tx["product_id"]) == {"85123", "22423"}),
    Case("ids_apart_only_by_leading_zeros", "ok", None,
         ("ids that differ only by leading zeros", "'017850'", "'17850'", "kept as different"),
         write=_csv(_each("customer_id", ["017850", "17850", "13047"])),
         warning="data.customer_id_leading_zeros", check=_customers(3, "017850", "17850")),
    Case("fewer_customers_than_segments_once_ids_merge", "segment", ClusteringError,
         ("segment.n_clusters=3 but only 2 customers",),
         write=_csv(_each("customer_id", ["1", "1.0", "2", "2.0"])),
         fixed_by=("segment.n_clusters=2",)),
    Case("true_false_customer_ids", "load", SchemaError,
         ("{path}", "true/false values, not ids, in 36 row(s)", "data.columns.customer_id"),
         write=_parquet(_frame_col("customer_id", [True, False], "bool")), column="customer_id",
         early=True),
    Case("list_valued_product_id", "load", SchemaError,
         ("{path}", "nested values (lists, dicts, arrays) in 36 row(s)", "['P1', 'P2']",
          "explode lists into one line per item"),
         write=_parquet(_frame_col("product_id", [["P1", "P2"], ["P3"]])), column="product_id",
         early=True),
    Case("dict_valued_customer_id", "load", SchemaError,
         ("{path}", "nested values", "{'id': 'C1'}"),
         write=_parquet(_frame_col("customer_id", [{"id": "C1"}, {"id": "C2"}])),
         column="customer_id", early=True),
    Case("binary_ids_that_are_not_text", "load", SchemaError,
         ("{path}", "binary values that are not UTF-8 text", "store the column as text"),
         write=_parquet(_frame_col("product_id", [b"\xff\xfe\x00", "P1"], "object")),
         column="product_id", early=True),
    Case("binary_ids_that_are_utf8", "ok", None, (),
         write=_parquet(_frame_col("product_id", [b"P1", b"P2", b"P3"], "object")),
         check=lambda o: set(o.tx["product_id"]) == {"P1", "P2", "P3"}),
    Case("product_name_spanning_lines", "ok", None,
         ("{path}", "column 'product_name': values spanning several lines in 1 row(s)",
          "the file lost those rows"),
         write=_bytes(_stray_quote(3, 6, "product_name")),
         overrides=("data.columns.product_name=product_name",),
         warning="data.product_name_line_breaks", check=lambda o: len(o.tx) == 33),
    # --- numbers ----------------------------------------------------------------------------
    Case("true_false_quantity_parquet", "load", SchemaError,
         ("{path}", "true/false values, not numbers, in 36 row(s)", "True",
          "true/false is a flag"),
         write=_parquet(_frame_col("quantity", [True, False], "bool")), column="quantity",
         early=True),
    Case("true_false_quantity_csv", "load", SchemaError,
         ("{path}", "true/false values, not numbers"),
         write=_csv(_each("quantity", ["True", "False"])), column="quantity", early=True),
    Case("list_in_quantity", "load", SchemaError,
         ("{path}", "nested values", "[1, 2]"),
         write=_parquet(_frame_col("quantity", [[1, 2], [3]])), column="quantity", early=True),
    Case("thousands_in_quantity", "load", SchemaError,
         ("{path}", "non-numeric values in", "'1,000', '2,500', '12,000'",
          "',' as a thousands separator", "++data.read_options.thousands=','"),
         write=_csv(_thousands_rows), column="quantity", early=True, cli=True,
         fixed_by=("++data.read_options.thousands=','",)),
    Case("thousands_with_decimals_in_price", "load", SchemaError,
         ("{path}", "'1,234.50'", "++data.read_options.thousands=','"),
         write=_csv(_each("unit_price", ["1,234.50", "2.5", "3.75"])), column="unit_price",
         fixed_by=("++data.read_options.thousands=','",), early=True),
    Case("decimal_comma_in_amount", "load", SchemaError,
         ("{path}", "'2,5'", "a decimal comma", "++data.read_options.decimal=','"),
         write=_csv(_each("amount", ["2,5", "10,25", "7"]), sep=";"),
         overrides=("++data.read_options.sep=';'",), column="amount",
         fixed_by=("++data.read_options.decimal=','",), early=True),
    Case("european_thousands_and_decimals", "load", SchemaError,
         ("{path}", "'1.234,50'", "++data.read_options.decimal=',' "
          "++data.read_options.thousands='.'"),
         write=_csv(_each("unit_price", ["1.234,50", "2,5", "12.000,00"]), sep=";"),
         overrides=("++data.read_options.sep=';'", "data.columns.amount=null"),
         column="unit_price", early=True,
         fixed_by=("++data.read_options.decimal=','", "++data.read_options.thousands='.'")),
    Case("ambiguous_mix_of_separators", "load", SchemaError,
         ("{path}", "some values read only with ',' as the decimal mark (e.g. '1,5')",
          "'1,000,000'", "no read option reads them all"),
         write=_csv(_each("quantity", ["1,5", "1,000,000", "3"])), column="quantity",
         early=True),
    Case("separators_disagree_between_columns", "load", SchemaError,
         ("{path}", "its ',' is a thousands separator but column 'unit_price' uses a decimal "
          "comma", "no one read option reads both columns"),
         write=_csv(_each("unit_price", ["2,5", "3,75"], _thousands_rows())), column="quantity",
         early=True),
    Case("decimal_option_on_thousands", "load", SchemaError,
         ("{path}", "data.read_options.decimal=',' misreads '1,000'",
          "drop data.read_options.decimal", "++data.read_options.thousands=','"),
         write=_csv(_thousands_rows), overrides=("++data.read_options.decimal=','",),
         column="quantity", early=True),
    Case("thousands_option_on_decimal_commas", "load", SchemaError,
         ("{path}", "data.read_options.thousands=',' reads '2,5' as 25",
          "++data.read_options.decimal=','"),
         write=_csv(_each("unit_price", ["2,5", "3,75", "4"])),
         overrides=("++data.read_options.thousands=','",), column="unit_price", early=True),
    Case("decimal_option_where_commas_read_either_way", "ok", None,
         ("data.read_options.decimal=',' reads '1,000' in quantity", "as 1.000",
          "++data.read_options.thousands=','"),
         write=_csv(_each("quantity", ["1,000", "2,500", "12,000"])),
         overrides=("++data.read_options.decimal=','",), warning="data.quantity_decimal_comma",
         check=_quantity_total(12 * (1 + 2.5 + 12))),
    Case("dots_that_may_group_thousands", "ok", None,
         ("{path}", "every '.' in quantity (source column 'quantity') has three digits after "
          "it (e.g. '1.000'), read as 1", "add ++data.read_options.thousands='.'"),
         write=_csv(_each("quantity", ["1.000", "2.500", "12.000", "5"])),
         warning="data.quantity_dot_thousands", check=_quantity_total(9 * (1 + 2.5 + 12 + 5))),
    Case("three_decimals_beside_a_plain_5000", "ok", None, (),
         write=_csv(_each("quantity", ["1.250", "2.500", "5000"])),
         check=_quantity_total(12 * (1.25 + 2.5 + 5000))),
    Case("space_as_thousands_separator", "load", SchemaError,
         ("{path}", "'1 000'", "++data.read_options.thousands=' '"),
         write=_csv(_each("quantity", ["1 000", "2 500", "3"])), column="quantity",
         early=True, fixed_by=("++data.read_options.thousands=' '",)),
    # --- dates ------------------------------------------------------------------------------
    Case("one_line_dated_1900", "ok", None,
         ("{path}", "column 'invoice_date': 1 line(s) dated far from all the others were "
          "dropped", "'1900-01-01 00:00:00' at row(s) [3]",
          "the other lines span 2011-02-01 to 2011-02-20", "Correct those dates in the file"),
         write=_csv(_spoiled(invoice_date="1900-01-01 00:00:00")),
         warning="data.invoice_date_outliers", evaluate=True, cli=True,
         check=lambda o: (_dropped_dates(1, "2011-02-01", "2011-02-21")(o), _evaluated(o))),
    Case("one_line_dated_2100", "ok", None,
         ("'2100-06-30 00:00:00' at row(s) [3]",),
         write=_csv(_spoiled(invoice_date="2100-06-30 00:00:00")),
         warning="data.invoice_date_outliers",
         check=_dropped_dates(1, "2011-02-01", "2011-02-21")),
    Case("placeholders_at_both_ends", "ok", None,
         ("2 line(s) dated far", "'1900-01-01 00:00:00', '2099-12-31 00:00:00'"),
         write=_csv(_dated({3: "1900-01-01 00:00:00", 5: "2099-12-31 00:00:00"})),
         warning="data.invoice_date_outliers",
         check=_dropped_dates(2, "2011-02-01", "2011-02-21")),
    Case("a_year_typed_wrong", "ok", None,
         ("'2001-02-04 10:03:00'",),
         write=_csv(_spoiled(invoice_date="2001-02-04 10:03:00")),
         warning="data.invoice_date_outliers",
         check=_dropped_dates(1, "2011-02-01", "2011-02-21")),
    Case("true_false_dates", "load", SchemaError,
         ("{path}", "true/false values, not dates", "data.columns.invoice_date"),
         write=_parquet(_frame_col("invoice_date", [True, False], "bool")),
         column="invoice_date", early=True),
    Case("numbers_where_dates_belong", "load", SchemaError,
         ("{path}", "numbers, not dates", "2011.0"),
         write=_parquet(_frame_col("invoice_date", [2011.0, 2012.0])), column="invoice_date",
         early=True),
    Case("all_lines_on_one_day", "ok", None,
         ("{path}", "all 36 lines are on 2011-02-01", "Load a file that spans several days"),
         write=_csv(_rows(days=1)), warning="data.single_day", evaluate=True, cli=True,
         check=_skipped),
    # --- the evaluation window --------------------------------------------------------------
    Case("cutoff_leaves_too_few_customers_to_train", "ok", None,
         ("recommendation evaluation skipped", "before 2011-02-02", "2 customer(s) but the "
          "segmentation needs at least 3", "set recommend.evaluate.cutoff"),
         overrides=("recommend.evaluate.cutoff=2011-02-02",), warning="evaluation.skipped",
         evaluate=True, check=_skipped),
    Case("cutoff_before_every_line", "ok", None,
         ("recommend.evaluate.cutoff=2010-01-01 leaves an empty training set",
          "set it between 2011-02-01 and 2011-02-20"),
         overrides=("recommend.evaluate.cutoff=2010-01-01",), warning="evaluation.skipped",
         evaluate=True, check=_skipped),
    Case("nobody_comes_back_after_the_cutoff", "ok", None,
         ("no customer of the training lines buys anything in the test lines", "nothing to "
          "score"),
         write=_csv([r | {"customer_id": f"C{i:02d}"} for i, r in enumerate(_rows())]),
         overrides=("recommend.evaluate.cutoff=2011-02-15",), warning="evaluation.skipped",
         evaluate=True, check=_skipped),
    Case("per_customer_split_with_one_visit_each", "ok", None,
         ("no customer shopped on two or more days", "recommend.evaluate.split=global"),
         write=_csv([r | {"customer_id": f"C{i:02d}"} for i, r in enumerate(_rows())]),
         overrides=("recommend.evaluate.split=per_customer",), warning="evaluation.skipped",
         evaluate=True, check=_skipped),
]  # fmt: skip


def _fill(text: str, folder: Path, path: Path | None) -> str:
    return text.replace("{dir}", str(folder)).replace("{path}", str(path))


def _overrides(case: Case, path: Path, extra: tuple[str, ...] = ()) -> list[str]:
    given = [*case.overrides, *extra]
    keys = {o.lstrip("+").split("=", 1)[0] for o in given}
    base = [o for o in (EVALUATE if case.evaluate else BASE) if o.split("=", 1)[0] not in keys]
    return [*base, f"data.path='{path}'", *given]  # quoted: '~' needs it


def run_stages(overrides: list[str], evaluate: bool, out: Path) -> Outcome:
    """Load, clean and fit the customer model (the pipeline with every stage, rules,
    recommendations and their evaluation, when `evaluate`), collecting the notices."""
    warnings: dict[str, str] = {}
    with collecting(warnings):
        config = load(overrides)
        if evaluate:  # the pipeline collects its own notices
            r = run(config, out)
            return Outcome(r.transactions, r.cleaning.dropped, r.warnings, r.evaluation)
        loaded = sources.load(config.data, config.seed)
        tx, report = clean(loaded.transactions, config.clean)
        CustomerModel(config).fit(tx)
    return Outcome(tx, report.dropped, warnings)


def _stage_of(exc: BaseException) -> str:
    stages = {ConfigError: "config", CleaningError: "clean", SchemaError: "load",
              FeatureError: "segment", ClusteringError: "segment"}  # fmt: skip
    return next(stages[c] for c in type(exc).__mro__ if c in stages)


@contextmanager
def _unprivileged(case: Case) -> Iterator[None]:
    """Root reads a chmod 000 file: read it as nobody (the effective user only, restored)."""
    if case.write is not _locked or os.geteuid() != 0:
        yield
        return
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    """A folder every user may enter (the chmod 000 case reads as nobody), removed after."""
    path = Path(tempfile.mkdtemp(prefix="custseg-bad-data-"))
    path.chmod(0o755)
    yield path
    for p in path.iterdir():
        if not p.is_symlink() and p.exists() and not p.is_dir():
            p.chmod(stat.S_IRUSR | stat.S_IWUSR)
    shutil.rmtree(path)


def test_the_table_covers_every_kind_broadly():
    assert len(CASES) >= 40 and len({c.id for c in CASES}) == len(CASES)
    assert {c.stage for c in CASES} == {"load", "segment", "ok"}
    assert sum(c.warning is not None for c in CASES) >= 12
    assert {c.stage for c in CASES if c.cli} == {"load", "ok"}


def test_the_clean_export_goes_through_without_a_word(folder, tmp_path):
    path = _csv(_rows())(folder)
    out = run_stages(_overrides(Case("x", "ok", None, (), evaluate=True), path), True, tmp_path)
    assert not [k for k in out.warnings if k.startswith(("data.", "evaluation."))], out.warnings
    assert len(out.tx) == 36
    _evaluated(out)


@pytest.mark.slow  # 64 runs of the real stages; the preflight cases below stay in the quick tier
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_data_fails_clearly_or_goes_through_with_a_notice(case: Case, folder, tmp_path):
    path = case.write(folder)
    overrides = _overrides(case, path)
    if case.error is None:
        out = run_stages(overrides, case.evaluate, tmp_path)
        if case.warning is not None:
            assert case.warning in out.warnings, out.warnings
            for fragment in case.says:
                assert _fill(fragment, folder, path) in out.warnings[case.warning]
        else:
            assert not {k for k in out.warnings if k.startswith("data.")}, out.warnings
        if case.check is not None:
            assert case.check(out) is not False
        return
    with _unprivileged(case), pytest.raises(Exception) as info:
        run_stages(overrides, case.evaluate, tmp_path)
    exc = info.value
    assert type(exc) is case.error, f"{type(exc).__name__}: {exc}"
    assert _stage_of(exc) == case.stage
    message = str(exc)
    for fragment in case.says:
        assert _fill(fragment, folder, path) in message, message
    assert "\n" not in message.strip() and len(message) < 2000
    if isinstance(exc, SchemaError):
        assert exc.fix and f". Fix: {exc.fix}" in message
        assert exc.file == str(path)
        if case.column is not None:
            assert exc.column == case.column
    if case.fixed_by is not None:
        fixed = run_stages(_overrides(case, path, case.fixed_by), case.evaluate, tmp_path)
        assert len(fixed.tx) > 0


def test_the_probe_thousands_read_with_the_proposed_fix_sum_as_thousands(folder, tmp_path):
    # the probe: '1,000' was diagnosed as a decimal comma, and that fix read it as 1
    rows = _thousands_rows()
    path = _csv(rows)(folder)
    plain = [*BASE, f"data.path={path}"]
    with pytest.raises(SchemaError, match=r"\+\+data.read_options.thousands=','"):
        run_stages(plain, False, tmp_path)
    fixed = run_stages([*plain, "++data.read_options.thousands=','"], False, tmp_path)
    total = sum(float(str(r["quantity"]).replace(",", "")) for r in rows)
    assert fixed.tx["quantity"].sum() == total == 109_815  # a decimal comma would give 424.5
    assert fixed.warnings == {}


# cells only an in-memory table holds (a served payload, `custseg score` on a DataFrame): Parquet
# stores one type per column, a CSV only text
FRAMES = [
    ("int_float_and_text_ids_in_one_column", "customer_id",
     [17850, "17850", 17850.0, "13047", 12583], None,
     ("customer_id value(s) are written in more than one way", "'17850'", "'17850.0'")),
    ("true_among_numbers_in_price", "unit_price", [2.5, 3.0, 4.0, True], SchemaError,
     ("model input: column 'unit_price': true/false values, not numbers, in 9 row(s), e.g. "
      "True, True, True at row(s) [3, 7, 11]",)),
    ("tuple_product_ids", "product_id", [("P1", "P2"), "P3"], SchemaError,
     ("nested values (lists, dicts, arrays) in 18 row(s), e.g. ('P1', 'P2')",)),
    ("dates_mixed_with_numbers", "invoice_date", ["2011-02-01", 40544, "2011-02-03"],
     SchemaError, ("numbers, not dates, in 12 row(s), e.g. 40544",)),
]  # fmt: skip


@pytest.mark.parametrize(("column", "values", "error", "says"), [f[1:] for f in FRAMES],
                         ids=[f[0] for f in FRAMES])  # fmt: skip
def test_in_memory_tables_with_mixed_cells(column, values, error, says):
    config = load([*BASE, "data.path=unused.csv"])
    df = pd.DataFrame(_rows())
    df[column] = pd.Series([values[i % len(values)] for i in range(len(df))], dtype="object")
    warnings: dict[str, str] = {}
    if error is not None:
        with collecting(warnings), pytest.raises(error) as info:
            CustomerModel(config).prepare(df)
        assert all(f in str(info.value) for f in says), str(info.value)
        assert info.value.column == column and info.value.fix
        return
    with collecting(warnings):
        tx, _ = CustomerModel(config).prepare(df)
    assert all(f in warnings["data.customer_id_collisions"] for f in says), warnings
    assert set(tx["customer_id"]) == {"17850", "13047", "12583"}


DATA_CASES = [c for c in CASES if c.stage != "segment"]


@pytest.mark.parametrize("case", DATA_CASES, ids=[c.id for c in DATA_CASES])
def test_preflight_catches_what_the_first_rows_show_and_nothing_the_load_accepts(
    case: Case, folder: Path, tmp_path: Path
) -> None:
    path = case.write(folder)
    overrides = _overrides(case, path)
    try:
        with _unprivileged(case):
            preflight(load(overrides).data)
        early = None
    except SchemaError as exc:
        early = exc
    assert (early is not None) == case.early, early
    if early is None:
        return
    with _unprivileged(case), pytest.raises(SchemaError) as full:
        run_stages(overrides, False, tmp_path)
    if isinstance(early, MapError):  # the case's column is among the problems, named by key
        assert case.column in {p.column for p in early.problems} | {
            p.key.split(".")[-1] for p in early.problems}, str(early)
    else:  # reading the file failed: the full load's own error
        assert (early.file, early.column, early.fix) == (full.value.file, full.value.column,
                                                          full.value.fix)  # fmt: skip


def test_three_tables_join_ids_written_as_int_and_float(folder, tmp_path):
    # Customers' key as integers, the transactions' as floats (a blank made them so): one key
    tx = pd.DataFrame(_rows()).rename(columns={"customer_id": "CustomerID",
                                               "product_id": "ProductID"})  # fmt: skip
    tx["CustomerID"] = [17850.0 + i % 4 for i in range(len(tx))]
    tx.loc[BAD, "CustomerID"] = None
    tx.to_csv(folder / "Transactions.csv", index=False)
    pd.DataFrame({"CustomerID": [17850, 17851, 17852, 17853], "Region": list("ABCD")}).to_csv(
        folder / "Customers.csv", index=False)
    pd.DataFrame({"ProductID": [f"P{i}" for i in range(6)]}).to_csv(
        folder / "Products.csv", index=False)
    config = load(["data=zeotap", f"data.path={folder}", "data.date_format=null",
                   "data.columns.invoice_id=invoice_id", "data.columns.invoice_date=invoice_date",
                   "data.columns.quantity=quantity", "data.columns.unit_price=unit_price",
                   "data.columns.amount=amount", "data.columns.product_name=null",
                   "data.columns.category=null"])  # fmt: skip
    loaded = sources.load(config.data, config.seed)
    ids = loaded.transactions["customer_id"]
    assert set(ids.dropna()) == {"17850", "17851", "17852", "17853"} and ids.isna().sum() == 1
    assert loaded.transactions["region"].notna().sum() == 35


# --- the real command line ----------------------------------------------------------------


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    return subprocess.run([sys.executable, "-m", "custseg", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip


def _runs(uri: str) -> list[Any]:
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("custseg")
    return [] if exp is None else client.search_runs([exp.experiment_id])


CLI_CASES = [c for c in CASES if c.cli]


@pytest.mark.slow
@pytest.mark.parametrize("case", CLI_CASES, ids=[c.id for c in CLI_CASES])
def test_cli_exits_2_naming_the_fault_or_0_with_the_warning_tagged(case, folder, tmp_path):
    path = case.write(folder)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    work = tmp_path / "work"
    work.mkdir()
    proc = _cli([*_overrides(case, path), f"tracking.uri={uri}",
                 f"hydra.run.dir={tmp_path / 'out'}"], work)  # fmt: skip
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output
    if case.error is not None:
        assert proc.returncode == 2, output[-3000:]
        assert f"custseg: error: {path}" in proc.stderr
        for fragment in case.says:
            assert _fill(fragment, folder, path) in proc.stderr
        if case.column:
            assert f"'{case.column}'" in proc.stderr
        assert _runs(uri) == []  # the preflight stopped it before any run was opened
        return
    assert proc.returncode == 0, output[-3000:]
    (run_,) = _runs(uri)
    assert run_.info.status == "FINISHED"
    tag = run_.data.tags[f"warning.{case.warning}"]
    for fragment in case.says[1:]:  # the tag holds the sentence (the path may be shortened)
        assert _fill(fragment, folder, path) in tag, tag
    if case.id == "all_lines_on_one_day":
        assert "warning.evaluation.skipped" in run_.data.tags
        assert not any(k.startswith("eval.") and "@" in k for k in run_.data.metrics)
    if case.id == "one_line_dated_1900":
        assert run_.data.metrics["clean.dropped.date_outliers"] == 1
        assert run_.data.metrics["eval.test_customers"] > 0
