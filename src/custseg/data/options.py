"""The read options a file source is read with, and the ones that would misread it.

Two options change what a number or an id is before custseg sees a value: the dtype pandas
infers (017850 becomes the number 17850; 17850 beside a blank becomes 17850.0) and the
separators given for numbers (thousands=',' reads '2,5' as 25; without it '1.000' is 1, not a
European thousand). Ids are therefore read as text, and the number text the file holds is
checked against how it will be read.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from custseg.config.schema import FileData, TableData, ThreeTableData
from custseg.data.numbers import check_options, dot_thousands
from custseg.data.readers import resolve_format
from custseg.data.schema import ID_COLUMNS, NUMERIC_COLUMNS

SAMPLE = 10_000  # rows whose number text is looked at when no separator option is given


def read_text(path: Path, read_options: Mapping[str, Any], encoding: str, columns: list[str],
              nrows: int | None = None) -> pd.DataFrame:  # fmt: skip
    """`columns` of a CSV as the text the file holds: no separators applied, no conversion
    (what data.read_options.decimal / thousands would read is judged on this)."""
    drop = {"decimal", "thousands", "dtype", "converters", "usecols", "parse_dates", "nrows",
            "true_values", "false_values"}  # fmt: skip
    options = {k: v for k, v in read_options.items() if k not in drop}
    options.setdefault("encoding", encoding)
    return pd.read_csv(path, usecols=columns, dtype=str, nrows=nrows, **options)


def read_options(cfg: FileData, path: Path) -> dict[str, Any]:
    """The read options for one file of the source, with its id columns read as text when it
    is a CSV: a CSV reader would read 017850 as the number 17850 (one customer with 17850) and
    17850 beside a blank as 17850.0. A dtype the options give for a column wins; one dtype for
    every column is left alone. (Parquet keeps the types it was written with.)"""
    options = dict(cfg.read_options)
    dtype = options.get("dtype")
    csv = resolve_format(path, getattr(cfg, "format", "auto")) == "csv"
    if not csv or (dtype is not None and not isinstance(dtype, Mapping)):
        return options
    ids = [cfg.columns.get(c) for c in ID_COLUMNS if c not in cfg.constants]
    if isinstance(cfg, ThreeTableData):
        ids += [cfg.keys.customer, cfg.keys.product]
    options["dtype"] = {**{c: "str" for c in ids if c is not None}, **(dtype or {})}
    return options


def check_number_options(path: Path, cfg: TableData, nrows: int | None = None,
                         quiet: bool = False) -> None:  # fmt: skip
    """The numbers the file holds, as text, against how they will be read (a second read of the
    mapped number columns only): with data.read_options.decimal / thousands every row is
    checked for values those options misread (an error); without them the first rows are
    checked for '1.000' that could be a thousand (a warning). `quiet` raises the errors only
    (the preflight: the load warns)."""
    options = cfg.read_options
    given = bool({"decimal", "thousands"} & set(options))
    if resolve_format(path, cfg.format) != "csv" or (quiet and not given):
        return
    wanted = {c: s for c, s in cfg.columns.items()
              if c in NUMERIC_COLUMNS and s is not None and c not in cfg.constants}  # fmt: skip
    rows = nrows if given else SAMPLE
    try:
        text = read_text(path, options, cfg.encoding, sorted(set(wanted.values())), rows)
    except (ValueError, OSError):
        return  # a missing column or an unreadable file: the load names those faults
    values = {c: text[s] for c, s in wanted.items() if s in text.columns}
    if given:
        check_options(values, options, str(path), wanted, quiet)
    else:
        dot_thousands(values, str(path), wanted)
