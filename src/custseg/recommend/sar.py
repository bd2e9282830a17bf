"""SAR (Smart Adaptive Recommendations) as Microsoft Recommenders defines it.

Item-item similarity from co-occurrence over customers (two items meet when one customer bought
both), by one of SAR's measures, pairs that met fewer than `threshold` times dropped; a customer's
scores are its affinity row (each purchase day weighted 2^(-age / half-life): frequent and recent
purchases count most) times the similarity matrix. Unlike the basket `similarity` source, which
asks what goes into the same basket, SAR asks what the same customers buy over time.
"""

from __future__ import annotations

from custseg.recommend.history import History
from custseg.recommend.similarity import ItemSimilarity


class SAR(ItemSimilarity):
    """Customer co-occurrence similarity, scored from time-decayed affinity."""

    source = "sar"
    decayed = True

    def fit_history(self, bought: History, measure: str, threshold: int, top_n: int | None) -> SAR:
        """Learn from the customers x items purchases (any customer's row counts once per item)."""
        self.fit(bought.matrix, bought.item_labels.to_numpy(dtype=object), measure, top_n,
                 threshold, counts=bought.cooccurrence())  # fmt: skip
        return self

    def _describe(self, item: str, value: float) -> str:
        return f"customers who bought {item} buy it too ({self.measure} {value:.2f})"
