"""What cleaning did, and the error it raises when it leaves nothing to segment.

Every dropped or clipped row is counted by rule so an analyst can see exactly what was thrown
away and why; the pipeline logs the counts as metrics. When the rules take every row, the error
names the rules that took them and the setting that would keep them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from custseg.data.errors import SchemaError

# the setting that switches each rule off, for messages that say how to keep the rows
RULE_KEYS = {
    "duplicates": "clean.drop_duplicates=false",
    "missing_customer": "clean.drop_missing_customer=false",
    "cancellations": "clean.cancellation_prefix=null",
    "nonpositive_quantity": "clean.drop_nonpositive_quantity=false",
    "nonpositive_price": "clean.drop_nonpositive_price=false",
    "non_product_codes": "clean.non_product_codes=[] clean.non_product_patterns=[]",
    "date_outliers": "clean.drop_date_outliers=false",
    "outliers": "clean.outliers.method=none",
}


class CleaningError(SchemaError):
    """Loaded data that cleaning cannot turn into something to segment: every row removed, or
    values beyond the configured caps. Same shape as SchemaError (file, column, problem, fix)."""


@dataclass
class CleaningReport:
    """Rows in and out, and per rule what was dropped, clipped or skipped (and why)."""

    rows_in: int
    dropped: dict[str, int] = field(default_factory=dict)
    clipped: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    rows_out: int = 0
    customers: int = 0
    invoices: int = 0
    revenue: float = float("nan")

    def as_metrics(self) -> dict[str, float]:
        """The counts as flat `clean.*` metric names (a source without amounts has no revenue)."""
        out: dict[str, float] = {"clean.rows_in": self.rows_in, "clean.rows_out": self.rows_out}
        out |= {f"clean.dropped.{k}": v for k, v in self.dropped.items()}
        out |= {f"clean.clipped.{k}": v for k, v in self.clipped.items()}
        out |= {"clean.customers": self.customers, "clean.invoices": self.invoices}
        if not np.isnan(self.revenue):
            out["clean.revenue"] = self.revenue
        return out


def nothing_left(report: CleaningReport, file: str) -> CleaningError:
    """Which rules took the rows, biggest first, and the setting that would keep them."""
    took = sorted(((n, r) for r, n in report.dropped.items() if n), reverse=True)
    counts = ", ".join(f"{rule} removed {n:,}" for n, rule in took)
    keep = RULE_KEYS.get(took[0][1], "clean.*") if took else "clean.*"
    return CleaningError(
        file,
        None,
        f"cleaning removed every row ({report.rows_in:,} in, 0 left): {counts}",
        f"check those lines in the file; to keep them switch the rule off ({keep})",
    )
