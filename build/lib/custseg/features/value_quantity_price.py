"""The notebook baseline plus the average unit price, so cheap bulk buyers and buyers of a few
expensive items stop looking alike when their totals match."""

from __future__ import annotations

import pandas as pd

from custseg.features.value_quantity import ValueQuantity


class ValueQuantityPrice(ValueQuantity):
    NAME = "value_quantity_price"
    COLUMNS = ("total_value", "total_quantity", "avg_unit_price")

    def _build(self, tx: pd.DataFrame) -> pd.DataFrame:
        f = super()._build(tx)
        return f.assign(avg_unit_price=f["total_value"] / f["total_quantity"])
