"""The time window the kept lines span: dates far from all the others, and a single day.

One line dated 1900-01-01 (a placeholder) or 2101 (a typo for 2011) among a year of sales
stretches every window measured in calendar days: recency and tenure gain a century, and the
evaluation's cut-off (the last fifth of the days) lands decades before the real data, leaving a
line or two to train on. Such lines are recognised by the gap that separates them from the
bulk of the lines (a year or more, and over twice the span of the bulk), dropped as a counted
cleaning rule, and named in a `notices.warn` with their rows, so a run neither fails on one
bad line nor silently measures nonsense.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from custseg.notices import warn

MIN_GAP = pd.Timedelta(days=365)  # a gap shorter than a year is a slow season, not a typo
_DAY = np.int64(86_400 * 10**9)


def _cut(days: np.ndarray, counts: np.ndarray, limit: int, core: int) -> tuple[int, int]:
    """The index range [lo, hi) of distinct days kept: days at either end holding at most
    `limit` lines in all and separated from the rest by a gap of MIN_GAP and over twice the
    `core` span are cut off (the largest such gap on each side)."""
    lo, hi = 0, len(days)
    gaps = np.diff(days)
    need = max(MIN_GAP.value, 2 * core)
    left = np.cumsum(counts)[:-1]  # lines on days[: i + 1]
    right = np.cumsum(counts[::-1])[:-1][::-1]  # lines on days[i + 1 :]
    ok = (left <= limit) & (gaps >= need)
    if ok.any():
        lo = int(np.flatnonzero(ok)[-1]) + 1
    ok = (right <= limit) & (gaps >= need)
    ok[:lo] = False  # keep at least the first day left
    if ok.any():
        hi = int(np.flatnonzero(ok)[0]) + 1
    return lo, hi


def far_dates(dates: pd.Series, alive: np.ndarray) -> np.ndarray:
    """Rows among `alive` whose day lies far outside the bulk of the alive rows' days."""
    out = np.zeros(len(dates), dtype=bool)
    n = int(alive.sum())
    if n < 3:
        return out
    values = dates.to_numpy(dtype="datetime64[ns]").view("int64")
    live = values[alive]
    if int(live.max()) - int(live.min()) < MIN_GAP.value:
        return out  # no gap that long fits: the common case, decided without sorting
    day = values - values % _DAY
    days, counts = np.unique(day[alive], return_counts=True)
    limit = min(max(2, n // 50), (n - 1) // 3)
    cum = np.cumsum(counts)
    at = lambda k: days[np.searchsorted(cum, k, side="right")]  # noqa: E731 (k-th line's day)
    core = int(at(n - 1 - limit) - at(limit)) if n > 2 * limit else 0
    lo, hi = _cut(days, counts, limit, core)
    if lo == 0 and hi == len(days):
        return out
    return alive & ((day < days[lo]) | (day > days[hi - 1]))


def report_far(dates: pd.Series, far: np.ndarray, kept_from: pd.Timestamp,
               kept_to: pd.Timestamp, file: str) -> None:  # fmt: skip
    """The warning for dropped far dates: how many, which, where, and what would keep them."""
    rows = np.flatnonzero(far)
    shown = ", ".join(repr(str(d)) for d in dates.iloc[rows[:3]])
    warn(
        "data.invoice_date_outliers",
        f"{file}: column 'invoice_date': {len(rows):,} line(s) dated far from all the others "
        f"were dropped (clean.dropped.date_outliers), e.g. {shown} at row(s) "
        f"{rows[:5].tolist()}; the other lines span {kept_from.date()} to {kept_to.date()}. A "
        "placeholder date or a mistyped year? Correct those dates in the file to keep the lines",
    )
