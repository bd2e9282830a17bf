"""Sources: read a file layout, map its columns onto the canonical table, validate.

Each `conf/data/*.yaml` names a `kind` (a key of `LOADERS`), a `path` and a column map
`columns: {canonical_name: source_column | null}`. `null` means the source does not have that
column: derivable ones are derived (amount = quantity x unit_price, invoice = customer x day),
the rest stay empty and the stages that need them are skipped with a message.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import logging
import lzma
import re
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from custseg.data import synthetic
from custseg.data.schema import (
    ABSENT_ALLOWED,
    CANONICAL,
    REQUIRED,
    SchemaError,
    close_matches,
    did_you_mean,
    parse_dates,
    validate,
)

log = logging.getLogger(__name__)


@dataclass
class Loaded:
    """A validated canonical table plus what the pipeline needs to describe it."""

    name: str
    path: str
    transactions: pd.DataFrame
    derived: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    truth: synthetic.Truth | None = None


# first bytes of formats people hand over instead of a CSV, and what to do about each
_MAGIC = (
    (b"PK\x03\x04", "it is a ZIP archive or an Excel .xlsx workbook: save the sheet as CSV"),
    (b"\xd0\xcf\x11\xe0", "it is an old Excel .xls workbook: save the sheet as CSV"),
    (b"PAR1", "it is a Parquet file: name it .parquet or set data.format=parquet"),
    (b"\x1f\x8b", "it is gzip-compressed: name it .csv.gz (++data.read_options.compression=gzip)"),
    (b"\xff\xfe", "it is UTF-16 text: set data.encoding=utf-16"),
    (b"\xfe\xff", "it is UTF-16 text: set data.encoding=utf-16"),
)  # fmt: skip
_COMPRESSED = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


def _sniff(path: Path) -> str | None:
    """What the file really is when its first bytes give it away."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    return next((what for magic, what in _MAGIC if head.startswith(magic)), None)


def _open_bytes(path: Path) -> IO[bytes]:
    """The file's bytes as pandas sees them (decompressed by suffix, as pandas does)."""
    opener = _COMPRESSED.get(path.suffix.lower())
    return opener(path, "rb") if opener else open(path, "rb")  # type: ignore[return-value]


def _decode_error(path: Path, encoding: str, exc: UnicodeDecodeError) -> SchemaError:
    """Name the byte pandas tripped on by its offset in the whole file and its line (pandas
    reports a position inside its read buffer, which means nothing to a person)."""
    where = f"cannot decode as {encoding}: {exc.reason}"
    fix = f"set data.encoding to the file's encoding, or save the file as {encoding}"
    sniffed = _sniff(path)
    if sniffed:
        return SchemaError(str(path), None, where, sniffed)
    decoder = codecs.getincrementaldecoder(encoding)()
    fed = lines = 0
    try:
        with _open_bytes(path) as fh:
            while chunk := fh.read(1 << 20):
                pending = len(getattr(decoder, "buffer", b""))
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as err:
                    data = err.object
                    at = fed - pending + err.start
                    line = lines + data[pending : err.start].count(b"\n") + 1
                    lo = max(data.rfind(b"\n", 0, err.start) + 1, err.start - 30)
                    hi = data.find(b"\n", err.start)
                    near = data[lo : min(hi if hi >= 0 else len(data), err.start + 30)]
                    other = "latin-1" if codecs.lookup(encoding).name == "cp1252" else "cp1252"
                    guess = near.decode(other, errors="replace")
                    return SchemaError(
                        str(path),
                        None,
                        f"not valid {encoding}: byte 0x{data[err.start]:02x} at byte offset "
                        f"{at:,} (line {line:,}) in {near!r}, which reads {guess!r} as {other}",
                        f"set data.encoding={other} (cp1252 for Windows/Excel exports, latin-1 "
                        f"for ISO-8859-1), or save the file as {encoding}",
                    )
                fed += len(chunk)
                lines += chunk.count(b"\n")
    except (OSError, EOFError, zlib.error, lzma.LZMAError):
        pass
    return SchemaError(str(path), None, where, fix)


def _parser_error(path: Path, exc: Exception, read_options: Mapping[str, Any]) -> SchemaError:
    """Ragged rows and unclosed quotes: say which line and what usually causes it."""
    text = str(exc).strip()
    sep = read_options.get("sep", read_options.get("delimiter", ","))
    ragged = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if ragged:
        expected, line, saw = map(int, ragged.groups())
        shown = ""
        try:
            with _open_bytes(path) as fh:
                raw_line = next(islice(fh, line - 1, None), b"")
            encoding = str(read_options.get("encoding") or "utf-8")
            shown = f": {raw_line.decode(encoding, errors='replace').rstrip()[:120]!r}"
        except (OSError, EOFError, zlib.error, lzma.LZMAError, LookupError):
            pass
        return SchemaError(
            str(path),
            None,
            f"ragged row: line {line:,} has {saw} fields but the header has {expected}{shown}",
            f"quote values that contain the separator {sep!r} (or remove the stray separator) "
            "on that line; if the file uses another separator, add ++data.read_options.sep='X'",
        )
    quote = re.search(r"EOF inside string starting at row (\d+)", text)
    if quote:
        return SchemaError(
            str(path),
            None,
            f"a quoted value opened at row {quote.group(1)} never closes before the end of the "
            "file: the file is cut off inside a value, or a value holds a stray '\"'",
            "export the file again (let the export finish) or fix the quote on that row",
        )
    return SchemaError(str(path), None, f"cannot read as csv: {text}",
                       "check the separator (++data.read_options.sep='X') and quoting")  # fmt: skip


def _check_last_line(path: Path, raw: pd.DataFrame, read_options: Mapping[str, Any]) -> None:
    """A plain CSV whose last line stops short of the header's fields, with no line break after
    it, is a file still being written (or cut off): pandas would pad it with empty values."""
    sep = read_options.get("sep", read_options.get("delimiter", ","))
    compressed = path.suffix.lower() in {*_COMPRESSED, ".zip", ".zst"}
    if compressed or read_options.get("compression") or not isinstance(sep, str) or len(sep) != 1:
        return
    encoding = codecs.lookup(str(read_options.get("encoding") or "utf-8")).name
    if "16" in encoding or "32" in encoding:
        return  # a line break is not one byte there; such exports are rare enough
    size = path.stat().st_size
    with open(path, "rb") as fh:
        fh.seek(max(0, size - 65536))
        tail = fh.read()
    if not tail or tail.endswith((b"\n", b"\r")):
        return
    last = tail.rsplit(b"\n", 1)[-1].decode(encoding, errors="replace")
    if '"' in last:
        return  # the end of a quoted multi-line value: pandas has judged it
    fields = next(csv.reader([last], delimiter=sep), [])
    if len(fields) < raw.shape[1]:
        raise SchemaError(
            str(path),
            None,
            f"the last line ({last[:80]!r}) stops after {len(fields)} of {raw.shape[1]} fields "
            "with no line break: the file looks half written",
            "wait for the export or copy to finish (or export again) and rerun",
        )


ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "latin-1", "iso-8859-15", "utf-16", "cp850")


def _check_encoding(file: str, encoding: str) -> None:
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise SchemaError(
            file,
            None,
            f"unknown encoding {encoding!r} (data.encoding){did_you_mean(encoding, ENCODINGS)}",
            f"set data.encoding to one Python knows, e.g. {', '.join(ENCODINGS)}",
        ) from exc


def _not_found(path: Path) -> SchemaError:
    parent = path.parent
    if parent.is_dir():
        names = [p.name for p in parent.iterdir()]
        near = did_you_mean(path.name, names)
        detail = near or f" (no similar name in {parent.resolve()})"
    else:
        detail = f" (the folder {parent.resolve()} does not exist either)"
    return SchemaError(
        str(path),
        None,
        f"file not found at {path.resolve()}{detail}",
        "set data.path=... to an existing file (a relative path counts from the folder you "
        "ran custseg in)",
    )


def _read_table(
    path: Path, fmt: str, read_options: Mapping[str, Any], encoding: str = "utf-8"
) -> pd.DataFrame:
    """Read one CSV/Parquet file; every way reading can fail becomes a SchemaError that names
    the file and what to do (missing, a folder, empty, wrong encoding, ragged, cut off)."""
    if not path.exists():
        raise _not_found(path)
    if path.is_dir():
        inside = sorted(p.name for p in path.iterdir() if p.suffix in {".csv", ".gz", ".parquet"})
        raise SchemaError(
            str(path),
            None,
            f"is a folder, not a file{f' (it holds {inside[:5]})' if inside else ''}",
            "set data.path to the CSV or Parquet file itself",
        )
    if fmt == "auto":
        fmt = "parquet" if path.suffix in {".parquet", ".pq"} else "csv"
    if fmt not in {"csv", "parquet"}:
        raise SchemaError(str(path), None, f"unknown format {fmt!r}",
                          "set data.format to csv, parquet or auto")  # fmt: skip
    if path.stat().st_size == 0:
        raise SchemaError(
            str(path),
            None,
            "empty file (0 bytes): no header and no rows",
            "export the file again (a failed or unfinished export leaves an empty file)",
        )
    options = dict(read_options)
    if fmt == "csv":
        options.setdefault("encoding", encoding)
        _check_encoding(str(path), str(options["encoding"]))
    try:
        if fmt == "parquet":
            return pd.read_parquet(path, **options)
        raw = pd.read_csv(path, **options)
    except pd.errors.EmptyDataError as exc:
        fix = "export the file again with its header and data rows"
        raise SchemaError(str(path), None, "empty file: no header and no rows", fix) from exc
    except UnicodeDecodeError as exc:
        raise _decode_error(path, str(options["encoding"]), exc) from exc
    except pd.errors.ParserError as exc:
        raise _parser_error(path, exc, options) from exc
    except (EOFError, zlib.error, lzma.LZMAError) as exc:
        raise SchemaError(
            str(path),
            None,
            f"the compressed file is cut off or damaged ({exc})",
            "the copy or download did not finish: wait for it, or fetch the file again",
        ) from exc
    except (OSError, ValueError) as exc:
        sniffed = _sniff(path)
        if fmt == "parquet" and sniffed and "Parquet" in sniffed:
            sniffed = None  # it starts like Parquet: then it ends badly
        raise SchemaError(
            str(path),
            None,
            f"cannot read as {fmt}: {str(exc).rstrip('.')}",
            sniffed
            or (
                "the file is truncated, still being written or not Parquet: write it again"
                if fmt == "parquet"
                else "check that it is a CSV file (data.format, data.read_options)"
            ),
        ) from exc
    _check_last_line(path, raw, options)
    return raw


def _check_separator(raw: pd.DataFrame, file: str) -> None:
    """One column whose name is full of ';' (or tabs, '|') is a file with another separator."""
    if raw.shape[1] != 1:
        return
    header = str(raw.columns[0])
    for sep, name in ((";", "';'"), ("\t", "'\\t'"), ("|", "'|'")):
        if header.count(sep) >= 2:
            raise SchemaError(
                file,
                None,
                f"the whole header is one column ({header[:60]!r}): the file is separated by "
                f"{name}, not ','",
                f"add ++data.read_options.sep={name}"
                + (" (and ++data.read_options.decimal=',' for decimal commas)" * (sep == ";")),
            )


def map_columns(
    raw: pd.DataFrame,
    file: str,
    columns: Mapping[str, str | None],
    constants: Mapping[str, Any] | None = None,
    date_format: str | None = None,
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Rename source columns to canonical ones and derive what the source lacks.

    Returns the mapped frame, the derived column names and the absent column names.
    """
    unknown = sorted(set(columns) - set(CANONICAL))
    if unknown:
        raise SchemaError(
            file,
            unknown[0],
            f"data.columns.{unknown[0]} is not a canonical column"
            f"{did_you_mean(unknown[0], CANONICAL)}; valid: {list(CANONICAL)}",
            "map your columns onto those names only (data.columns.NAME=<your column>)",
        )
    _check_separator(raw, file)
    constants = dict(constants or {})
    out = pd.DataFrame(index=raw.index)
    for canon, src in columns.items():
        if src is None or canon in constants:
            continue
        if src not in raw.columns:
            required = "required" if canon in REQUIRED else "optional"
            near = close_matches(str(src), raw.columns)
            can_null = canon not in ("customer_id", "invoice_date", "quantity")
            fix = f"set data.columns.{canon}=" + (repr(near[0]) if near else "<column in the file>")
            fix += " or null if the file has no such column" if can_null else ""
            raise SchemaError(
                file,
                str(src),
                f"missing column (mapped to {required} '{canon}' by data.columns.{canon})"
                f"{did_you_mean(str(src), raw.columns)}; "
                f"the file has {list(map(str, raw.columns))}",
                fix,
            )
        out[canon] = raw[src]
    for canon, value in constants.items():
        out[canon] = value

    derived: list[str] = []
    if "amount" not in out and {"quantity", "unit_price"} <= set(out.columns):
        out["amount"] = pd.to_numeric(out["quantity"], errors="coerce") * pd.to_numeric(
            out["unit_price"], errors="coerce"
        )
        derived.append("amount")
    if "unit_price" not in out and {"quantity", "amount"} <= set(out.columns):
        q = pd.to_numeric(out["quantity"], errors="coerce")
        a = pd.to_numeric(out["amount"], errors="coerce")
        out["unit_price"] = (a / q.where(q != 0)).astype("float64")
        derived.append("unit_price")
    if "invoice_id" not in out and {"customer_id", "invoice_date"} <= set(out.columns):
        # the dates as validate will read them (one layout, errors named), and the day first so
        # that a derived id never looks like a cancellation ('C...' for customer 'C042')
        source = columns.get("invoice_date")
        day = parse_dates(out["invoice_date"], file, "invoice_date", date_format, source)
        customer = out["customer_id"].astype("str").str.strip().fillna("?")
        out["invoice_id"] = day.dt.strftime("%Y-%m-%d") + "@" + customer
        derived.append("invoice_id")

    absent: list[str] = []
    for canon in REQUIRED:
        if canon in out:
            continue
        if canon in ABSENT_ALLOWED:
            out[canon] = np.nan
            absent.append(canon)
        # anything else stays missing and `validate` names it
    return out, derived, absent


def _canonical(raw: pd.DataFrame, where: Path, cfg: Mapping[str, Any]) -> Loaded:
    """Map, derive and validate a raw frame read from `where` with the source's config."""
    columns = cfg.get("columns") or {}
    mapped, derived, absent = map_columns(
        raw, str(where), columns, cfg.get("constants"), cfg.get("date_format")
    )
    table = validate(
        mapped,
        str(where),
        date_format=cfg.get("date_format"),
        source_columns={k: v for k, v in columns.items() if v is not None},
    )
    return Loaded(cfg["name"], str(where), table, derived, absent)


def load_table(cfg: Mapping[str, Any], seed: int) -> Loaded:
    """One CSV/Parquet file with a column map (Online Retail, Groceries, any user file)."""
    if cfg.get("path") in (None, "", "???"):
        raise SchemaError(f"data config '{cfg.get('name')}'", None, "no file given (data.path)",
                          "set data.path=FILE on the command line")  # fmt: skip
    path = Path(str(cfg["path"])).expanduser()
    raw = _read_table(
        path, cfg.get("format", "auto"), cfg.get("read_options") or {}, _encoding(cfg)
    )
    return _canonical(raw, path, cfg)


def _encoding(cfg: Mapping[str, Any]) -> str:
    return str(cfg.get("encoding") or "utf-8")


def load_three_table(cfg: Mapping[str, Any], seed: int) -> Loaded:
    """Transactions joined to Customers and Products (the Zeotap layout); `path` is the folder."""
    folder = Path(str(cfg["path"])).expanduser()
    if not folder.is_dir():
        raise SchemaError(
            str(folder),
            None,
            "not a folder" + ("" if folder.exists() else " (it does not exist)"),
            f"set data.path to the folder holding the tables {list(cfg['tables'].values())}",
        )
    tables = cfg["tables"]
    keys = cfg["keys"]
    read_options = cfg.get("read_options") or {}
    encoding = _encoding(cfg)
    tx = _read_table(folder / tables["transactions"], "auto", read_options, encoding)
    customers = _read_table(folder / tables["customers"], "auto", read_options, encoding)
    products = _read_table(folder / tables["products"], "auto", read_options, encoding)

    joined = tx
    for name, other, key in (
        ("customers", customers, keys["customer"]),
        ("products", products, keys["product"]),
    ):
        file = str(folder / tables[name])
        for frame, fname in ((joined, str(folder / tables["transactions"])), (other, file)):
            if key not in frame.columns:
                raise SchemaError(fname, key, f"join key missing; has {list(frame.columns)}")
        if other[key].duplicated().any():
            dup = other.loc[other[key].duplicated(), key].head(3).tolist()
            raise SchemaError(file, key, f"join key not unique, e.g. {dup}")
        joined = joined.merge(other, on=key, how="left", suffixes=("", f"_{name}"), indicator=True)
        unmatched = joined["_merge"].eq("left_only")
        if unmatched.any():
            ex = joined.loc[unmatched, key].head(3).tolist()
            raise SchemaError(
                file, key, f"{int(unmatched.sum())} transaction(s) reference unknown ids, e.g. {ex}"
            )
        joined = joined.drop(columns="_merge")
    return _canonical(joined, folder, cfg)


def load_demo(cfg: Mapping[str, Any], seed: int) -> Loaded:
    """The built-in generator: realistic transactions with planted segments and pairs."""
    params = synthetic.DemoParams(**dict(cfg.get("generator") or {}))
    demo = synthetic.generate(params, seed=seed)
    table = validate(demo.transactions, "demo")
    return Loaded(cfg["name"], "demo", table, [], [], demo.truth)


LOADERS: dict[str, Callable[[Mapping[str, Any], int], Loaded]] = {
    "table": load_table,
    "three_table": load_three_table,
    "demo": load_demo,
}


def load(cfg: Mapping[str, Any], seed: int = 0) -> Loaded:
    """Load the source the `data` config group selected."""
    kind = cfg.get("kind")
    if kind not in LOADERS:
        raise SchemaError(
            f"data config '{cfg.get('name')}'",
            "kind",
            f"unknown {kind!r}{did_you_mean(str(kind), LOADERS)}; one of {list(LOADERS)}",
            f"set data.kind to one of {list(LOADERS)}",
        )
    log.info("Loading %s (%s) from %s", cfg.get("name"), kind, cfg.get("path", "generator"))
    loaded = LOADERS[kind](cfg, seed)
    if loaded.absent:
        log.info("Source %s has no %s", loaded.name, ", ".join(loaded.absent))
    log.info(
        "Loaded %s rows, %s customers",
        f"{len(loaded.transactions):,}",
        f"{loaded.transactions['customer_id'].nunique():,}",
    )
    return loaded
