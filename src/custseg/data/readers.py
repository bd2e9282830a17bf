"""Reading one CSV or Parquet file into a raw frame, with every way that can fail explained.

Files handed over for segmenting are often not what their name says: an Excel workbook named
.csv, a Windows export read as UTF-8, a row with a stray separator, a copy still being written.
pandas reports those as parser internals (a position in its read buffer, a C tokenizer error);
this module turns each into a SchemaError naming the file, the line or byte, and the fix.
"""

from __future__ import annotations

import codecs
import csv
import lzma
import re
import zlib
from collections.abc import Mapping
from itertools import islice
from pathlib import Path
from typing import Any

import pandas as pd

from custseg.config.base import ENCODINGS
from custseg.data.errors import SchemaError
from custseg.data.files import (
    COMPRESSED,
    check_path,
    check_text,
    open_bytes,
    sniff,
    text_not_parquet,
)
from custseg.data.header import check_header, duplicate_names
from custseg.hints import did_you_mean


def _decode_error(path: Path, encoding: str, exc: UnicodeDecodeError) -> SchemaError:
    """Name the byte pandas tripped on by its offset in the whole file and its line (pandas
    reports a position inside its read buffer, which means nothing to a person)."""
    where = f"cannot decode as {encoding}: {exc.reason}"
    fix = f"set data.encoding to the file's encoding, or save the file as {encoding}"
    sniffed = sniff(path)
    if sniffed:
        return SchemaError(str(path), None, where, sniffed)
    decoder = codecs.getincrementaldecoder(encoding)()
    fed = lines = 0
    try:
        with open_bytes(path) as fh:
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
            with open_bytes(path, read_options.get("compression")) as fh:
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
    compressed = path.suffix.lower() in {*COMPRESSED, ".zip", ".zst"}
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


def _check_parquet_names(path: Path) -> None:
    """A Parquet schema may name two columns alike; pyarrow then refuses the whole file with
    'Multiple matches for FieldRef' and the column map could not tell them apart anyway."""
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
    except (OSError, ValueError):
        return  # not readable as Parquet: the read itself says so
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise SchemaError(
            str(path),
            repeated[0],
            f"the Parquet schema names {names.count(repeated[0])} columns {repeated[0]!r}"
            + (f" (and repeats {repeated[1:]})" if len(repeated) > 1 else ""),
            "write the file again with one column per name (rename or drop the copies)",
        )


def _parquet_head(path: Path, nrows: int, options: Mapping[str, Any]) -> pd.DataFrame:
    """The first `nrows` rows of a Parquet file, without reading the rest of it."""
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as f:
        batch = next(f.iter_batches(batch_size=nrows, columns=options.get("columns")), None)
        table = f.schema_arrow.empty_table() if batch is None else batch
        return table.to_pandas()


def resolve_format(path: Path, fmt: str) -> str:
    """csv or parquet: `auto` goes by the suffix."""
    if fmt == "auto":
        return "parquet" if path.suffix in {".parquet", ".pq"} else "csv"
    return fmt


def read_table(
    path: Path, fmt: str, read_options: Mapping[str, Any], encoding: str, nrows: int | None = None
) -> pd.DataFrame:
    """Read one CSV/Parquet file; every way reading can fail becomes a SchemaError that names
    the file and what to do (missing, a folder, empty, wrong encoding, ragged, cut off).

    `fmt` is csv, parquet or auto (by suffix); `encoding` applies to CSV unless `read_options`
    names its own. `nrows` reads only the header and that many rows (the preflight's sample),
    with the same errors."""
    check_path(path)
    fmt = resolve_format(path, fmt)
    if fmt not in {"csv", "parquet"}:
        raise SchemaError(str(path), None, f"unknown format {fmt!r}",
                          "set data.format to csv, parquet or auto")  # fmt: skip
    options = dict(read_options)
    if nrows is not None and fmt == "csv" and not options.get("skipfooter"):
        options["nrows"] = min(nrows, options.get("nrows") or nrows)
    if fmt == "csv":
        options.setdefault("encoding", encoding)
        _check_encoding(str(path), str(options["encoding"]))
        check_text(path, options, encoding)
    if fmt == "parquet":
        _check_parquet_names(path)
    try:
        if fmt == "parquet":
            raw = (pd.read_parquet(path, **options) if nrows is None
                   else _parquet_head(path, nrows, options))  # fmt: skip
        else:
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
        sniffed = sniff(path)
        if fmt == "parquet" and sniffed and "Parquet" in sniffed:
            sniffed = None  # it starts like Parquet: then it ends badly
        elif fmt == "parquet" and sniffed is None:
            sniffed = text_not_parquet(path)
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
    check_header(path, raw)
    if fmt == "csv":
        _check_last_line(path, raw, options)
        if "names" not in options and "header" not in options:
            raw.attrs["duplicates"] = duplicate_names(path, raw, options)
    return raw
