"""TotalValue and total Quantity per customer: the notebook baseline, kept for comparison."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from custseg.features.registry import FeatureSet, per_customer, register


def build(tx: pd.DataFrame, params: Mapping[str, Any]) -> pd.DataFrame:
    return per_customer(tx).agg(total_value=("amount", "sum"), total_quantity=("quantity", "sum"))


FEATURES = register(FeatureSet("value_quantity", ("amount", "quantity"), build))
