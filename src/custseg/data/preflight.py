"""The column map checked against the file(s) before a run starts, every fault at once.

A full load stops at the first fault, after reading the whole file and after the MLflow run is
open: a wrong map took one 15-second try (and one FAILED run) per mistake. The preflight reads
only the header and the first rows of each file, checks every mapped column (present? dates
in data.date_format? numbers where numbers go?) and raises one `MapError` listing them all,
with the config key, the file's own column and a did-you-mean. It is an early subset of the
full load, never stricter: whatever it rejects, the full load would reject too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from custseg.config.schema import DemoData, FileData, TableData, ThreeTableData
from custseg.data.columns import ambiguities
from custseg.data.dates import AmbiguousDates, parse_dates
from custseg.data.errors import SchemaError, names_shown, rows_where, source_named
from custseg.data.files import expand
from custseg.data.guess import Guess, guess_map
from custseg.data.header import check_separator
from custseg.data.ids import line_breaks, refuse_booleans, single_values
from custseg.data.numbers import to_number
from custseg.data.readers import read_table
from custseg.data.schema import ID_COLUMNS, NUMERIC_COLUMNS, SPARSE_NUMBERS
from custseg.data.sources import check_number_options, read_options
from custseg.hints import close_matches

log = logging.getLogger(__name__)
SAMPLE_ROWS = 10_000  # enough for the date layout and typical value faults; ~0.1 s to read
NEEDED = ("customer_id", "invoice_date")  # no file can leave these out (quantity: 1 per line)


@dataclass(frozen=True)
class Problem:
    """One fault of the map: the config key, the file's column it names, what and the fix."""

    file: str
    key: str
    column: str | None
    what: str
    fix: str

    def render(self, main_file: str) -> str:
        where = "" if self.file == main_file else f"{Path(self.file).name}: "
        named = f"={self.column!r}" if self.column else ""
        return f"{where}{self.key}{named}: {self.what} (fix: {self.fix})"


class MapError(SchemaError):
    """Every problem the preflight found, in one message; a SchemaError, so the command line
    treats it like any bad input (exit 2, no traceback)."""

    def __init__(self, file: str, problems: list[Problem], rows: int,
                 headers: Mapping[str, list[str]]) -> None:  # fmt: skip
        self.problems = problems
        items = "".join(f"\n  ({i}) {p.render(file)}" for i, p in enumerate(problems, 1))
        has = "; ".join(f"{Path(f).name if f != file else 'the file'} has {names_shown(cols)}"
                        for f, cols in headers.items())  # fmt: skip
        super().__init__(
            file,
            None,
            f"the column map does not fit: {len(problems)} problem(s) found in the header and "
            f"first {rows:,} rows:{items}\n  {has[0].upper()}{has[1:]}",
            "correct every one of them and rerun; `custseg inspect` with the same data= "
            "overrides lists each column with examples and a guessed map",
        )
        self.column = problems[0].column


@dataclass
class Sample:
    """Header and first rows of a file source, as the column map sees it."""

    file: str  # the path the user gave (a folder for three tables)
    headers: dict[str, list[str]]  # each file read -> its columns
    values: dict[str, pd.Series]  # column of the (joined) table -> sampled values
    origin: dict[str, str]  # column of the (joined) table -> the file it comes from
    rows: int  # rows sampled from the main (transactions) file
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)  # each file's sampled rows
    problems: list[Problem] = field(default_factory=list)  # join keys that are missing


def _read(path: Path, fmt: str, cfg: FileData, nrows: int) -> pd.DataFrame:
    raw = read_table(path, fmt, read_options(cfg, path), cfg.encoding, nrows=nrows)
    check_separator(raw, str(path))
    return raw


def _table_sample(cfg: TableData, nrows: int) -> Sample:
    if cfg.path in ("", "???"):
        raise SchemaError(f"data config '{cfg.name}'", None, "no file given (data.path)",
                          "set data.path=FILE on the command line")  # fmt: skip
    path = expand(cfg.path)
    raw = _read(path, cfg.format, cfg, nrows)
    file = str(path)
    names = list(map(str, raw.columns))
    values: dict[str, pd.Series] = {}
    for i, c in enumerate(raw.columns):  # a name a Parquet file repeats: its first column
        values.setdefault(str(c), raw.iloc[:, i])
    return Sample(file, {file: names}, values, dict.fromkeys(names, file), len(raw), {file: raw})


def _three_table_sample(cfg: ThreeTableData, nrows: int) -> Sample:
    """Each file's sample; the joined table's column names as pandas' merge would make them
    (a name both sides have gets the right table's suffix), each taken from its own file."""
    folder = expand(cfg.path)
    if not folder.is_dir():
        missing = "" if folder.exists() else " (it does not exist)"
        raise SchemaError(str(folder), None, f"not a folder{missing}",
                          "set data.path to the folder that holds the tables")  # fmt: skip
    t = cfg.tables
    tx_file = str(folder / t.transactions)
    tx = _read(folder / t.transactions, "auto", cfg, nrows)
    sample = Sample(str(folder), {tx_file: list(map(str, tx.columns))},
                    {str(c): tx[c] for c in tx.columns}, {}, len(tx), {tx_file: tx})  # fmt: skip
    sample.origin = dict.fromkeys(sample.values, tx_file)
    for name, key, which in (("customers", cfg.keys.customer, "customer"),
                             ("products", cfg.keys.product, "product")):  # fmt: skip
        path = folder / getattr(t, name)
        other = _read(path, "auto", cfg, nrows)
        sample.headers[str(path)] = list(map(str, other.columns))
        sample.frames[str(path)] = other
        for f, cols in ((tx_file, sample.headers[tx_file]), (str(path), other.columns)):
            if key not in cols:
                near = close_matches(key, cols)
                sample.problems.append(Problem(
                    f, f"data.keys.{which}", key, "join key missing from this file"
                    + (f" (did you mean {' or '.join(map(repr, near))}?)" if near else ""),
                    f"set data.keys.{which} to the column both files share",
                ))  # fmt: skip
        # only the rows the sampled lines join to: a fault in a row no line uses never loads
        used = other[other[key].isin(tx[key])] if key in other and key in tx else other
        for c in map(str, other.columns):
            if c == key:
                continue
            joined = f"{c}_{name}" if c in sample.values else c
            sample.values[joined], sample.origin[joined] = used[c], str(path)
    return sample


def read_sample(cfg: FileData, nrows: int = SAMPLE_ROWS) -> Sample:
    """Header and first `nrows` rows of the source's file(s); reading errors are the full
    load's own SchemaErrors (missing file, wrong encoding, wrong separator, ...)."""
    if isinstance(cfg, ThreeTableData):
        return _three_table_sample(cfg, nrows)
    assert isinstance(cfg, TableData)
    return _table_sample(cfg, nrows)


def _missing(canon: str, src: str | None, sample: Sample, guesses: dict[str, Guess]) -> Problem:
    """A mapped column the file lacks (or a column custseg needs mapped to null)."""
    names = list(sample.values)
    near = close_matches(str(src), names) if src else []
    guess = guesses.get(canon)
    if near:
        hint = f" (did you mean {' or '.join(map(repr, near))}?)"
    elif guess:
        hint = f" (did you mean {guess.column!r}? {guess.why})"
    else:
        hint = ""
    target = near[0] if near else guess.column if guess else None
    fix = f"data.columns.{canon}=" + (repr(target) if target else "<column in the file>")
    if canon not in NEEDED and canon != "quantity":
        fix += " or null if the file has no such column"
    place = "the file" if len(sample.headers) == 1 else "any of the tables"
    what = (f"no column {src!r} in {place}{hint}" if src else
            f"custseg needs {canon} and the map leaves it out{hint}")  # fmt: skip
    return Problem(sample.file, f"data.columns.{canon}", src, what, fix)


def _value_problem(canon: str, src: str, sample: Sample, cfg: FileData) -> Problem | None:
    """The full load's own check of one column, on the sampled values (None: it passes)."""
    file, values = sample.origin[src], sample.values[src]
    key = f"data.columns.{canon}"
    try:
        if canon == "invoice_date":
            parse_dates(single_values(values, file, canon, src), file, canon, cfg.date_format,
                        src)  # fmt: skip
        elif canon not in NUMERIC_COLUMNS:  # ids and names: one value per cell, ids no flags
            values = single_values(values, file, canon, src)
            if canon in ID_COLUMNS:
                refuse_booleans(values, file, canon, src, "ids",
                                f"map the id column with data.columns.{canon}=<your column>")
                line_breaks(values.astype("str"), file, canon, src, ids=True)
        else:
            numbers = to_number(values, file, canon, src)
            if canon not in SPARSE_NUMBERS and numbers.isna().any() and (
                canon == "quantity" or numbers.notna().any()
            ):
                what = f"missing values in {rows_where(numbers.isna())}"
                return Problem(file, key, src, what, "fill them in or remove those lines")
    except AmbiguousDates:
        return None  # rows further down may settle day/month; the full load decides
    except SchemaError as exc:
        what = exc.problem.replace(source_named(src), "")  # the item names the column already
        return Problem(file, key, src, what, exc.fix or "")
    return None


def check_map(cfg: FileData, sample: Sample) -> list[Problem]:
    """Every fault of the column map on the sample: missing columns, then unreadable values."""
    problems = list(sample.problems)
    constants = cfg.constants
    absent = [(c, None) for c in NEEDED if cfg.columns.get(c) is None and c not in constants]
    absent += [(c, s) for c, s in cfg.columns.items()
               if s is not None and c not in constants and s not in sample.values]  # fmt: skip
    guesses = guess_map(sample.values) if absent else {}  # hints only when something is absent
    problems += [_missing(canon, src, sample, guesses) for canon, src in absent]
    duplicates = {k: v for f in sample.frames.values() for k, v in f.attrs.get("duplicates",
                                                                               {}).items()}
    names = [str(c) for f in sample.frames.values() for c in f.columns]
    doubts = ambiguities(cfg.columns, constants, names if len(sample.frames) == 1
                         else sample.values, duplicates)  # fmt: skip
    for doubt in doubts:
        file = sample.origin.get(doubt.column, sample.file)
        problems.append(Problem(file, f"data.columns.{doubt.canon}", doubt.column,
                                doubt.problem, doubt.fix))  # fmt: skip
    for canon, src in cfg.columns.items():
        if src is None or canon in constants or src not in sample.values:
            continue
        if any(d.column == src and d.header for d in doubts):
            continue  # which column it means is the problem already
        if (found := _value_problem(canon, src, sample, cfg)) is not None:
            problems.append(found)
    return problems


def preflight(cfg: DemoData | TableData | ThreeTableData, nrows: int = SAMPLE_ROWS) -> None:
    """Raise a MapError naming every fault of the column map, or the first reading error,
    before any run exists. Generated data has nothing to check. The command line checks before
    its heavy imports and the pipeline checks again for library callers: a second read of the
    sample costs 0.02-0.05 s, less than keeping state between them would."""
    if not isinstance(cfg, FileData):
        return
    sample = read_sample(cfg, nrows)
    if sample.rows == 0:
        raise SchemaError(sample.file, None, "empty table: no rows to segment (only a header?)",
                          "export the file again with its data rows")  # fmt: skip
    problems = check_map(cfg, sample)
    if problems:
        raise MapError(sample.file, problems, sample.rows, sample.headers)
    if isinstance(cfg, TableData):
        check_number_options(Path(sample.file), cfg, nrows, quiet=True)
    log.info("Column map of %s fits its header and first %s rows", sample.file,
             f"{sample.rows:,}")  # fmt: skip
