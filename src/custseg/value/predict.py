"""Predictions from stored parameters, computed by pymc-marketing's own formulas.

A fitted value model keeps only the parameters (a handful of floats). To predict, the
pymc-marketing model is built again on the customers being scored, with the parameters
installed as its single MAP draw; its methods then give P(alive), expected purchases, expected
spend and CLV exactly as they would right after the fit, and no training table travels with
the fitted object. Customers are numbered 0..n-1 for pymc-marketing (its results are indexed
and aligned by that number) and the results come back as plain arrays in summary order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from custseg.value.fit import PURCHASE_PARAMS, SPEND_PARAMS, flat_priors, numbered

DAYS_PER_MONTH = 30  # pymc-marketing's month when time is counted in days ("D")


def _point(params: Mapping[str, float]) -> Any:
    """An InferenceData whose posterior is one chain of one draw: the MAP point."""
    import arviz as az

    return az.from_dict(posterior={k: np.array([[float(v)]]) for k, v in params.items()})


def _values(result: Any, n: int) -> np.ndarray:
    """The single draw of a (chain, draw, customer_id) result, in customer order."""
    ids = np.asarray(result["customer_id"])
    if len(ids) != n or (n and not np.array_equal(ids, np.arange(n))):
        raise RuntimeError("pymc-marketing returned customers in another order")
    return np.asarray(result.transpose(..., "customer_id")).reshape(-1, n)[0].astype(np.float64)


class PurchasePredictor:
    """BG/NBD predictions for the customers of one summary."""

    def __init__(self, params: Mapping[str, float], summary: pd.DataFrame) -> None:
        from pymc_marketing.clv import BetaGeoModel

        self.data = numbered(summary)
        self.model = BetaGeoModel(model_config=flat_priors(PURCHASE_PARAMS))
        self.model.build_model(self.data)
        self.model.idata = _point({k: params[k] for k in PURCHASE_PARAMS})

    def p_alive(self) -> np.ndarray:
        """P(alive) at the end of the period. BG/NBD counts a customer without repeat
        purchases as alive (dropout only happens after a purchase), so theirs is 1."""
        return _values(self.model.expected_probability_alive(self.data), len(self.data))

    def expected_purchases(self, days: float) -> np.ndarray:
        """Expected purchase days in the next `days` days."""
        out = self.model.expected_purchases(self.data, future_t=days)
        return _values(out, len(self.data))

    def clv(self, future_spend: np.ndarray, months: int, discount_rate: float) -> np.ndarray:
        """Discounted value of the purchases of the next `months` months at `future_spend`
        each (months of 30 days, discounted monthly)."""
        from pymc_marketing.clv import customer_lifetime_value

        out = customer_lifetime_value(
            self.model,
            self.data.assign(future_spend=future_spend),
            future_t=months,
            discount_rate=discount_rate,
            time_unit="D",
        )
        return _values(out, len(self.data))


def expected_order_value(params: Mapping[str, float], summary: pd.DataFrame) -> np.ndarray:
    """Gamma-Gamma's expected spend of each customer's future purchases: their own mean
    repeat spend shrunk toward the population's (the population's alone without repeats)."""
    from pymc_marketing.clv import GammaGammaModel

    model = GammaGammaModel(model_config=flat_priors(SPEND_PARAMS))
    model.idata = _point(params)
    frequency = summary["frequency"].to_numpy()
    mean = np.where(frequency > 0, summary["monetary_value"].fillna(0.0).to_numpy(), 0.0)
    data = pd.DataFrame(
        {"customer_id": np.arange(len(summary)), "frequency": frequency, "monetary_value": mean}
    )
    return _values(model.expected_customer_spend(data), len(summary))
