"""Did-you-mean hints: typos in column, config and option names are the commonest bad input, so
every error that names a choice also suggests the closest valid ones."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable


def close_matches(name: str, options: Iterable[object], n: int = 3) -> list[str]:
    """Options that look like `name` (case, spaces, '_', '-' and '.' ignored), best first."""

    def key(text: str) -> str:
        return re.sub(r"[\s_\-.]", "", text.lower())

    by_key: dict[str, str] = {}
    for option in map(str, options):
        by_key.setdefault(key(option), option)
    hits = difflib.get_close_matches(key(str(name)), list(by_key), n=n, cutoff=0.6)
    return [by_key[h] for h in hits if by_key[h] != name]


def did_you_mean(name: str, options: Iterable[object]) -> str:
    """' (did you mean 'X'?)' or '' -- ready to append to a message."""
    hits = close_matches(name, options)
    return f" (did you mean {' or '.join(map(repr, hits))}?)" if hits else ""
