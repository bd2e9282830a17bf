"""The one error bad input becomes, and the phrases its messages share.

Reading, date parsing and validation each find different faults, but a person fixing an export
needs the same things from all of them: the file, the column, the rows and what to do. So they
all raise `SchemaError` and describe rows and source columns the same way.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd


class SchemaError(ValueError):
    """Input that cannot become a canonical transaction table.

    Carries the file, column, problem and the fix separately so callers (and tests) can act on
    them, and renders them in one message a person can act on without a traceback.
    """

    def __init__(self, file: str, column: str | None, problem: str, fix: str | None = None) -> None:
        self.file = str(file)
        self.column = column
        self.problem = problem
        self.fix = fix
        where = f"column '{column}'" if column else "table"
        message = f"{self.file}: {where}: {problem}"
        if fix:
            message += f". Fix: {fix}"
        super().__init__(message)


def _examples(values: pd.Series, n: int = 3) -> str:
    return ", ".join(repr(v) for v in values.head(n).tolist())


def rows_where(mask: pd.Series, values: pd.Series | None = None) -> str:
    """'3 row(s), e.g. 'x', 'y' at row(s) [4, 9]': count, a few values and their row numbers
    (data rows counted from 0, the header not included), so a person can find them."""
    n = int(mask.sum())
    rows = list(map(int, mask.index[mask.to_numpy()][:3]))
    shown = f", e.g. {_examples(values[mask])}" if values is not None else ""
    return f"{n} row(s){shown} at row(s) {rows}"


def source_named(source_column: str | None) -> str:
    """' (source column 'X')' or '': the name the user's file has, not only the canonical one."""
    return f" (source column '{source_column}')" if source_column else ""


def names_shown(names: Iterable[object], limit: int = 40, width: int = 60) -> str:
    """A file's column names for a message: at most `limit` of them, each cut to `width`
    characters (a file with no line breaks has one 'name' the size of the file)."""
    text = [str(n) for n in names]
    cut = [n if len(n) <= width else f"{n[: width - 3]}..." for n in text[:limit]]
    more = f" and {len(text) - limit} more" if len(text) > limit else ""
    return f"{cut}{more}"
