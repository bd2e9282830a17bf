"""The notebook baseline plus the average unit price, so cheap bulk buyers and buyers of a few
expensive items stop looking alike when their totals match."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from custseg.features import value_quantity
from custseg.features.registry import FeatureSet, register


def build(tx: pd.DataFrame, params: Mapping[str, Any]) -> pd.DataFrame:
    f = value_quantity.build(tx, params)
    return f.assign(avg_unit_price=f["total_value"] / f["total_quantity"])


FEATURES = register(FeatureSet("value_quantity_price", ("amount", "quantity"), build))
