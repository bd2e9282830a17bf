"""What the header line says: names read twice, a 'name' that is a whole file, a separator.

pandas turns a repeated header name into 'quantity.1' and a file without line breaks into one
column whose name is the file; both are read without a word. These checks look at the header
as the file writes it and say what is wrong before a column map picks a column.
"""

from __future__ import annotations

import lzma
import re
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from custseg.data.errors import SchemaError

# read options that shape how the header line is split; the rest do not change the names
_HEADER_OPTIONS = {"sep", "delimiter", "encoding", "compression", "skiprows", "quotechar",
                   "quoting", "escapechar", "comment", "skipinitialspace", "engine",
                   "lineterminator", "doublequote", "encoding_errors", "dialect",
                   "skip_blank_lines"}  # fmt: skip
_LONGEST_NAME = 1000  # characters: a header name longer than this is no header


def check_header(path: Path, raw: pd.DataFrame) -> None:
    """A 'column name' of thousands of characters is a file without the line breaks the
    reader knows (or not a table at all): say so rather than quote it in a later message."""
    longest = max((str(c) for c in raw.columns), key=len, default="")
    if len(longest) > _LONGEST_NAME:
        raise SchemaError(
            str(path),
            None,
            f"the header line holds a 'column name' of {len(longest):,} characters "
            f"({longest[:40]!r}...): the file has no line breaks the reader recognises, or is "
            "not a table",
            "export the file again as CSV with one line per row (old Mac exports end lines "
            "with '\\r': ++data.read_options.lineterminator='\\r')",
        )


def duplicate_names(path: Path, raw: pd.DataFrame, options: Mapping[str, Any]) -> dict[str, str]:
    """{name pandas invented: the header's own name} for names the header repeats. pandas
    renames a second 'quantity' to 'quantity.1' without a word, so a column map naming
    'quantity' would silently take the first; the header line itself tells the two apart."""
    cols = list(map(str, raw.columns))
    present = set(cols)
    suspects = {c: m.group(1) for c in cols
                if (m := re.fullmatch(r"(.+)\.\d+", c)) and m.group(1) in present}  # fmt: skip
    if not suspects:
        return {}
    keep = {k: v for k, v in options.items() if k in _HEADER_OPTIONS}
    try:
        first = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False, **keep)
    except (ValueError, OSError, EOFError, zlib.error, lzma.LZMAError):
        return {}
    header = [str(v) for v in first.iloc[0].tolist()] if len(first) else []
    return {c: base for c, base in suspects.items() if header.count(base) > 1 and c not in header}


def check_separator(raw: pd.DataFrame, file: str) -> None:
    """One column whose name is full of ';' (or tabs, '|') is a file with another separator:
    pandas reads it without complaint, so the mistake would surface later as missing columns."""
    if raw.shape[1] != 1:
        return
    header = str(raw.columns[0])[:_LONGEST_NAME]
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
