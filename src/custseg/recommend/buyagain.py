"""Buy again: the customer's own items, by purchase frequency and recency.

Most of what a retail customer buys next it has bought before (Li et al. 2023 measure repeat
items as the bulk of next baskets), and the strongest simple predictor of a repeat is the
time-decayed frequency itself: each purchase day counts 2^(-age / half-life). It is a list of its
own, never blended into cross-sell (which must offer only new items) and evaluated on repeat
items.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from custseg.recommend.frame import empty_recs, recs_from_codes
from custseg.recommend.history import History

SOURCE = "buy_again"


class BuyAgain:
    """Top-k bought items per customer by affinity; needs a dated history (else by days)."""

    def recommend(self, history: History, segments: pd.Series, k: int) -> pd.DataFrame:
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        m = history.matrix
        if m.nnz == 0:
            return empty_recs()
        score = history.affinity.data if history.affinity is not None else np.ones(m.nnz)
        days = history.days.data if history.days is not None else np.ones(m.nnz)
        rows = np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(m.indptr))
        n_days = days.astype(np.int64)
        texts, code = np.unique(n_days, return_inverse=True)
        reasons = [f"bought it on {n} day{'s' if n > 1 else ''}" for n in texts]
        return recs_from_codes(rows, history.customers, m.indices.astype(np.int64),
                               history.item_labels, score, SOURCE, code, reasons, k)  # fmt: skip
