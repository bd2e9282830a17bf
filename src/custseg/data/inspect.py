"""`custseg inspect`: a file's columns, the guessed column map and a command line to copy.

Writing a column map by hand means opening the file, reading headers and guessing which holds
what; each mistake cost a run. This reads the header and first rows (the preflight's sample),
shows each column's dtype and examples, proposes which column is which canonical one (header
words checked against content) and prints the `python -m custseg ...` line that uses the map.
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Sequence

from custseg.config.schema import FileData, ThreeTableData
from custseg.data.guess import IDS, Guess, Profile, guess_map, profile
from custseg.data.preflight import SAMPLE_ROWS, Sample, check_map, read_sample
from custseg.data.schema import CANONICAL

USAGE = """\
usage: custseg inspect [OVERRIDES | FILE]

Show a file's columns (dtype, 3 example values), the guessed map onto custseg's columns and a
command line that runs with it. Reads only the header and the first {rows:,} rows.

  custseg inspect data=csv data.path=sales.csv    any CSV/Parquet file (FILE alone means this)
  custseg inspect data=online_retail              a configured source: checks its map too
  custseg inspect data=zeotap                     three tables: each file, then the joined map
"""
NO_MONEY = (
    "features=visits: the file has no price or amount column, and the default feature set "
    "(value_quantity) and rfm need money; visits segments on visits, recency and basket size"
)
_ABSENT = {
    "invoice_id": "customer x day becomes the invoice",
    "quantity": "each line counts as 1 unit",
    "product_id": "no products: rules and recommendations are skipped",
    "unit_price": "amount / quantity when there is an amount",
    "amount": "quantity x unit_price when there is a price",
}
_HYDRA_PLAIN = re.compile(r"[A-Za-z_%/.][A-Za-z0-9_%\-.:/ ]*[A-Za-z0-9_%\-.:/]|[A-Za-z_]")
_SHELL_PLAIN = re.compile(r"[A-Za-z0-9_%\-.:/=@+,]+")


def _shell(word: str) -> str:
    """`word` as the shell passes it back: bare, in double quotes, or shlex's single quotes."""
    if _SHELL_PLAIN.fullmatch(word):
        return word
    return f'"{word}"' if not re.search(r'["$`\\!]', word) else shlex.quote(word)


def override(key: str, value: str | None) -> str:
    """One override as a shell word that Hydra reads back as exactly `value`."""
    if value is None:
        return f"{key}=null"
    keyword = value.lower() in ("null", "true", "false", "nan", "inf")
    number = re.fullmatch(r"[+-]?[\d_.]+([eE][+-]?\d+)?", value) is not None
    if _HYDRA_PLAIN.fullmatch(value) and not keyword and not number:
        return _shell(f"{key}={value}")
    return _shell(f"{key}='" + value.replace("\\", "\\\\").replace("'", "\\'") + "'")


def overrides_of(argv: Sequence[str]) -> list[str]:
    """The command line's overrides; a bare FILE means data=csv data.path=FILE."""
    out = [a for a in argv if "=" in a]
    files = [a for a in argv if "=" not in a]
    if files:
        out = [a for a in out if not a.startswith("data.path=")] + [f"data.path={files[0]}"]
        if not any(a.startswith("data=") for a in out):
            out.insert(0, "data=csv")
    return out


def propose(
    cfg: FileData, sample: Sample, guesses: dict[str, Guess], profiles: dict[str, Profile]
) -> tuple[FileData, list[str]]:
    """The data config to run with: the configured one when its map fits the sample, else the
    guessed map (and the date layout read off the date column), with notes that explain it."""
    if not check_map(cfg, sample):
        return cfg, [f"the configured map (data={cfg.name}) fits the file: nothing to change"]
    columns = {c: cfg.columns.get(c) if c in cfg.constants else
               guesses[c].column if c in guesses else None
               for c in CANONICAL if c in cfg.columns or c in guesses}  # fmt: skip
    date_format, notes = cfg.date_format, []
    date = guesses.get("invoice_date")
    if date is not None:
        p = profiles[date.column]
        if p.ambiguous:
            date_format = None
            notes.append(f"{date.column}: day and month read both ways in the first rows; the "
                         "full load tells them apart or asks for data.date_format")  # fmt: skip
        elif p.date_layout not in (None, "datetime"):
            date_format = p.date_layout
    proposed = cfg.model_copy(update={"columns": columns, "date_format": date_format})
    notes += [f"still to fix: {p.render(sample.file)}" for p in check_map(proposed, sample)]
    return proposed, notes


def _ids_as_text(proposed: FileData, profiles: dict[str, Profile]) -> list[str]:
    """CSV id columns pandas reads as floats (blanks among numbers: 17850.0): read as text."""
    if getattr(proposed, "format", "csv") == "parquet" or str(proposed.path).endswith(".parquet"):
        return []
    given = proposed.read_options.get("dtype") or {}
    ids = [proposed.columns.get(c) for c in IDS]
    return [f"++data.read_options.dtype.{col}=str" for col in ids
            if col and col in profiles and profiles[col].dtype.startswith("float")
            and re.fullmatch(r"[A-Za-z_]\w*", col) and col not in given]  # fmt: skip


def command(
    argv: Sequence[str], cfg: FileData, proposed: FileData, profiles: dict[str, Profile],
    features: str = "",
) -> tuple[str, list[str]]:
    """The `python -m custseg` line that runs `proposed`, and why it adds what it adds."""
    words = ["python -m custseg", *map(_shell, overrides_of(argv))]
    for canon, column in proposed.columns.items():
        if column != cfg.columns.get(canon):
            words.append(override(f"data.columns.{canon}", column))
    if proposed.date_format != cfg.date_format:
        words.append(override("data.date_format", proposed.date_format))
    notes = []
    as_text = _ids_as_text(proposed, profiles)
    if as_text:
        words += as_text
        notes.append("ids read as text: pandas reads a number column with blanks as floats "
                     "(17850.0)")  # fmt: skip
    has = {c for c, v in proposed.columns.items() if v is not None} | set(proposed.constants)
    chosen = features == "visits" or any(a.startswith("features=") for a in argv)
    if not has & {"unit_price", "amount"} and not chosen:
        words.append("features=visits")
        notes.append(NO_MONEY)
    if "quantity" not in has:
        notes.append("no quantity column: each line counts as 1 unit")
    return " ".join(words), notes


def _columns(sample: Sample, profiles: dict[str, Profile]) -> list[str]:
    lines = []
    for file, frame in sample.frames.items():
        lines.append(f"{file}  (first {len(frame):,} rows read)")
        names = list(map(str, frame.columns))
        width = max(map(len, names), default=0)
        for name in names:
            p = profiles.get(name) if sample.origin.get(name) == file else None
            p = p or profile(frame[name])
            kind = f"dates {p.date_layout}" if p.date_layout else "numbers" if p.numeric else "text"
            lines.append(f"  {name:<{width}}  {p.dtype:<8} {kind:<26} e.g. {', '.join(p.examples)}")
    return lines


def _mapping(proposed: FileData, guesses: dict[str, Guess]) -> list[str]:
    lines = ["Map onto custseg's columns (canonical <- your column):"]
    for canon in CANONICAL:
        column, g = proposed.columns.get(canon), guesses.get(canon)
        why = f"  ({g.why})" if g and g.column == column else ""
        if canon in proposed.constants:
            lines.append(f"  {canon:<13} =  {proposed.constants[canon]!r} (a constant)")
        elif column is not None:
            lines.append(f"  {canon:<13} <- {column}{why}")
        else:
            lines.append(f"  {canon:<13} -  {_ABSENT.get(canon, 'none')}")
    return lines


def render(argv: Sequence[str], cfg: FileData, sample: Sample, features: str = "") -> str:
    """The whole report: columns, the map, the command line and why it looks so. `features`
    is the feature set the composed config already chooses."""
    profiles = {c: profile(s) for c, s in sample.values.items()}
    guesses = guess_map(sample.values, profiles)
    proposed, notes = propose(cfg, sample, guesses, profiles)
    line, why = command(argv, cfg, proposed, profiles, features)
    text = ["Columns:", *_columns(sample, profiles), ""]
    if isinstance(cfg, ThreeTableData):
        text.append(f"Joined on {cfg.keys.customer} and {cfg.keys.product}; a name two tables "
                    "share gets the second table's suffix (Price_products).")  # fmt: skip
    text += [*_mapping(proposed, guesses), "", "Run it with:", f"  {line}"]
    return "\n".join(text + [f"  note: {n}" for n in notes + why])


def main(argv: Sequence[str]) -> None:
    """`custseg inspect ...`: the report and exit 0, or a message and exit 2 for bad input."""
    from custseg.config import ConfigError, load
    from custseg.data.errors import SchemaError

    if any(a in ("-h", "--help") for a in argv):
        print(USAGE.format(rows=SAMPLE_ROWS))
        return
    try:
        config = load(overrides_of(argv))
        cfg = config.data
        if not isinstance(cfg, FileData):
            raise ConfigError(f"data={cfg.name} is generated, not read from a file: nothing to "
                              "inspect; use data=csv data.path=FILE")  # fmt: skip
        sample = read_sample(cfg)
    except (ConfigError, SchemaError) as exc:
        print(f"custseg inspect: error: {exc}", file=sys.stderr)
        sys.exit(2)
    print(render(argv, cfg, sample, config.features.name))
