"""Bought together: items frequently bought with a basket's items, with no customer behind it.

The shop-page question ("people who bought this also bought") is answered by the basket
similarity source alone: a basket is treated as a short history, so the same item-item model
that serves customers serves product pages.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from custseg.recommend.history import History
from custseg.recommend.recommenders import Recommender


def bought_together(
    recommenders: Mapping[str, Recommender], lines: pd.DataFrame, item: str, k: int
) -> pd.DataFrame:
    """The recs frame with the basket (`invoice_id`; one basket when absent) in `customer_id`."""
    if item not in lines.columns:
        raise ValueError(f"'bought together' needs a {item} column (the items of a basket)")
    if "similarity" not in recommenders:
        raise ValueError("this model has no basket similarity (rules or recommend off)")
    basket = lines["invoice_id"] if "invoice_id" in lines.columns else "basket"
    frame = pd.DataFrame({"customer_id": basket, item: lines[item]}).dropna()
    history = History.from_transactions(frame, item)
    return recommenders["similarity"].recommend(history, pd.Series(dtype="int64"), k)
