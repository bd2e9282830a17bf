"""Cleaning: the configured rules that decide which loaded lines are sales to segment.

Implements the `clean` config group (conf/clean/*.yaml): `clean(tx, cfg.clean)` returns the
kept rows and a `CleaningReport` of what each rule removed; `CleaningError` stops a run whose
data cleaning cannot make usable.
"""

from custseg.clean.report import CleaningError, CleaningReport
from custseg.clean.steps import clean

__all__ = ["CleaningError", "CleaningReport", "clean"]
