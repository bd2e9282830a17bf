"""The file behind data.path, checked before any parser sees it.

A path can fail in ways a parser reports badly or not at all: a symbolic link that points at
itself (pathlib raises RuntimeError), a file only its owner may read, a named pipe (reading it
waits forever), an archive or image named .csv (a parser reads bytes as text and complains
about an encoding), JSON named .csv (one 'column' per document). Each becomes a SchemaError
naming the file, what it really is and what to point data.path at instead.
"""

from __future__ import annotations

import bz2
import codecs
import errno
import gzip
import lzma
import os
import stat
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from custseg.data.errors import SchemaError
from custseg.hints import did_you_mean

# first bytes of formats people hand over instead of a CSV, and what to do about each
MAGIC = (
    (b"PK\x03\x04", "it is a ZIP archive or an Excel .xlsx workbook: save the sheet as CSV"),
    (b"\xd0\xcf\x11\xe0", "it is an old Excel .xls workbook: save the sheet as CSV"),
    (b"PAR1", "it is a Parquet file: name it .parquet or set data.format=parquet"),
    (b"\x1f\x8b", "it is gzip-compressed: name it .csv.gz (++data.read_options.compression=gzip)"),
    (b"\xff\xfe", "it is UTF-16 text: set data.encoding=utf-16"),
    (b"\xfe\xff", "it is UTF-16 text: set data.encoding=utf-16"),
    (b"SQLite format 3", "it is an SQLite database: export the table as CSV"),
    (b"%PDF", "it is a PDF document: export the data as CSV"),
    (b"\x89PNG", "it is a PNG image: point data.path at the CSV export"),
    (b"\xff\xd8\xff", "it is a JPEG image: point data.path at the CSV export"),
)  # fmt: skip
COMPRESSED = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_BY_METHOD = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open}
_HEAD = 65536  # bytes judged: enough for many lines, fast on any file
_TEXT_CONTROLS = set(b"\t\n\r\f\x1a")  # \x1a: the end-of-file mark of old DOS exports


def sniff(path: Path) -> str | None:
    """What the file really is when its first bytes give it away."""
    with open(path, "rb") as fh:
        head = fh.read(16)
    return next((what for magic, what in MAGIC if head.startswith(magic)), None)


def open_bytes(path: Path, compression: Any = None) -> IO[bytes]:
    """The file's bytes as pandas sees them: decompressed as `compression` (a read option)
    says, or by suffix as pandas infers it."""
    method = compression.get("method") if isinstance(compression, Mapping) else compression
    opener = _BY_METHOD.get(str(method)) if method not in (None, "infer") else None
    if method in (None, "infer"):
        opener = COMPRESSED.get(path.suffix.lower())
    return opener(path, "rb") if opener else open(path, "rb")  # type: ignore[return-value]


def expand(text: str) -> Path:
    """data.path as a Path, '~' and '~user' expanded: a user the system does not know is a
    SchemaError naming the path, not pathlib's RuntimeError."""
    try:
        return Path(text).expanduser()
    except RuntimeError as exc:
        raise SchemaError(text, None, f"cannot expand {text.split('/')[0]!r}: no such user's "
                          "home folder", "write the path out in full (or with ~/ for your "
                          "own home folder)") from exc  # fmt: skip


def _not_found(path: Path) -> SchemaError:
    parent = path.parent
    if parent.is_dir():
        names = [p.name for p in parent.iterdir()]
        near = did_you_mean(path.name, names)
        detail = near or f" (no similar name in {parent.resolve()})"
    else:
        detail = f" (the folder {parent.absolute()} does not exist either)"
    return SchemaError(
        str(path),
        None,
        f"file not found at {path.absolute()}{detail}",
        "set data.path=... to an existing file (a relative path counts from the folder you "
        "ran custseg in)",
    )


def _link_fault(path: Path, exc: OSError) -> SchemaError | None:
    """A symbolic link that loops or points nowhere (os.stat follows links, lstat does not)."""
    if exc.errno == errno.ELOOP:
        return SchemaError(
            str(path),
            None,
            "a symbolic link that loops (it points, through links, back at itself)",
            "set data.path to the real file (ls -l shows where each link points) or repair "
            "the link with ln -sfn TARGET",
        )
    if exc.errno == errno.ENOENT and os.path.islink(path):
        target = os.readlink(path)
        return SchemaError(
            str(path),
            None,
            f"a symbolic link to {target!r}, which does not exist",
            "set data.path to the real file, or repair the link with ln -sfn TARGET",
        )
    return None


_KINDS = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))  # fmt: skip


def check_path(path: Path) -> None:
    """The path names one readable, non-empty regular file, or a SchemaError says what it is.
    Opening it for reading is the only test of permission that holds for every user (root
    reads a chmod 000 file; access() would answer for the real, not the effective, user)."""
    try:
        info = os.stat(path)
    except ValueError as exc:  # a NUL character in the path
        raise SchemaError(repr(str(path)), None, f"not a usable path: {exc}",
                          "set data.path to the file's path as plain text") from exc  # fmt: skip
    except OSError as exc:
        fault = _link_fault(path, exc)
        if fault is not None:
            raise fault from exc
        if exc.errno == errno.EACCES:
            raise _unreadable(path, exc) from exc
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            raise _not_found(path) from exc
        raise SchemaError(str(path), None, f"cannot open: {exc.strerror}",
                          "check the path and the disk it is on") from exc  # fmt: skip
    if stat.S_ISDIR(info.st_mode):
        inside = sorted(p.name for p in path.iterdir() if p.suffix in {".csv", ".gz", ".parquet"})
        raise SchemaError(
            str(path),
            None,
            f"is a folder, not a file{f' (it holds {inside[:5]})' if inside else ''}",
            "set data.path to the CSV or Parquet file itself",
        )
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a regular file")
        raise SchemaError(
            str(path),
            None,
            f"is {kind}, not a regular file (reading it could wait forever or read nothing)",
            "save the data to a regular file first and set data.path to it",
        )
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    if info.st_size == 0:
        raise SchemaError(
            str(path),
            None,
            "empty file (0 bytes): no header and no rows",
            "export the file again (a failed or unfinished export leaves an empty file)",
        )


def _unreadable(path: Path, exc: OSError) -> SchemaError:
    try:
        mode = f" (mode {stat.filemode(os.stat(path).st_mode)}, owner uid {os.stat(path).st_uid})"
    except OSError:
        mode = ""
    return SchemaError(
        str(path),
        None,
        f"cannot read the file: {exc.strerror or exc}{mode}",
        f"make it readable for the user running custseg (uid {os.geteuid()}), e.g. chmod a+r "
        "FILE (and a+x on its folders), or copy it somewhere readable",
    )


def _head(path: Path, compression: Any) -> bytes:
    try:
        with open_bytes(path, compression) as fh:
            return fh.read(_HEAD)
    except (OSError, EOFError, zlib.error, lzma.LZMAError):
        return b""  # a damaged archive: the reader names that fault


def check_text(path: Path, options: Mapping[str, Any], encoding: str) -> None:
    """A CSV must be text: bytes no text file has (NUL, most control bytes) or a JSON document
    are refused here with what the file looks like, before a parser blames the encoding."""
    what = sniff(path)
    decompressed = options.get("compression") not in (None, "infer") or (
        path.suffix.lower() in COMPRESSED)
    if what is not None and (what.startswith("it is UTF-16") or (
            what.startswith("it is gzip") and decompressed)):
        return  # text after all (the reader judges the encoding), or gzip that is undone
    if what is not None:
        raise SchemaError(str(path), None, f"not CSV text: {what.split(':')[0]}", what)
    enc = str(options.get("encoding") or encoding).lower().replace("_", "-")
    if "16" in enc or "32" in enc:
        return  # NUL bytes are normal there
    head = _head(path, options.get("compression"))
    if not head:
        return
    even, odd = head[0::2], head[1::2]
    if len(head) >= 8 and odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        raise SchemaError(str(path), None, "every other byte is NUL: UTF-16 text without a "
                          "byte-order mark", "set data.encoding=utf-16-le")  # fmt: skip
    if len(head) >= 8 and even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        raise SchemaError(str(path), None, "every other byte is NUL: UTF-16 text without a "
                          "byte-order mark", "set data.encoding=utf-16-be")  # fmt: skip
    controls = sum(1 for b in head if b < 32 and b not in _TEXT_CONTROLS)
    nul = head.find(b"\x00")
    if nul >= 0 or controls > 0.05 * len(head):
        where = f"a NUL byte at byte offset {nul:,}" if nul >= 0 else (
            f"{controls:,} control bytes in the first {len(head):,}")
        raise SchemaError(
            str(path),
            None,
            f"not a text file: {where} (no CSV has those; an archive, a database, an image, "
            "or a damaged copy?)",
            "point data.path at the CSV export itself, or copy the file again",
        )
    first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if first in (b"{", b"["):
        raise SchemaError(
            str(path),
            None,
            f"it looks like JSON (it starts with {first.decode()!r}), not CSV",
            "convert it to CSV (e.g. pandas.read_json(...).to_csv(...)) or to Parquet",
        )


def text_not_parquet(path: Path) -> str | None:
    """A fix for a Parquet read that failed on a file that is plain text (a CSV named
    .parquet): None when the file does not look like text."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if not head or b"\x00" in head:
        return None
    try:
        text, _ = codecs.utf_8_decode(head, "strict", False)  # a cut-off last character is fine
    except UnicodeDecodeError:
        return None
    if "\n" in text or "," in text or ";" in text:
        return "it is text (a CSV?), not Parquet: name it .csv or set data.format=csv"
    return None
