"""Fitting BG/NBD and Gamma-Gamma by maximum likelihood with pymc-marketing.

Flat priors make the MAP point the maximum-likelihood estimate of the papers (pymc-marketing's
default priors are informative and do not reproduce the published CDNOW estimates).
pymc-marketing and pytensor are slow to import, so they are imported inside the functions,
never when custseg starts.

The compiled likelihood is pytensor's C backend when a C++ compiler is there; without one
pytensor falls back to Python ops, far too slow for a large shop, so the fit then compiles
with numba instead (`compile_mode`), which needs no compiler and finds the same point.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

PURCHASE_PARAMS = ("r", "alpha", "a", "b")
SPEND_PARAMS = ("p", "q", "v")
MIN_CUSTOMERS = 2


class ValueFitError(ValueError):
    """The value models cannot be fitted on this data; the message says what to change."""


def compile_mode() -> str | None:
    """pytensor mode for the fits: None (pytensor's own default, the C backend) when a C++
    compiler is configured, else "NUMBA"."""
    import pytensor

    return None if pytensor.config.cxx else "NUMBA"


def flat_priors(names: tuple[str, ...]) -> dict[str, Any]:
    """A HalfFlat prior per parameter: MAP is then maximum likelihood."""
    from pymc_extras.prior import Prior

    return {name: Prior("HalfFlat") for name in names}


def _map_point(model: Any, data: pd.DataFrame, names: tuple[str, ...], mode: str | None) -> dict:
    """Fit `model` by MAP on `data` (compiled in `mode`) and return its parameters as floats."""
    import pytensor

    with pytensor.config.change_flags(**({"mode": mode} if mode else {})):
        model.fit(data=data, method="map", progressbar=False)
    return {name: float(np.asarray(model.fit_result[name]).squeeze()) for name in names}


def numbered(summary: pd.DataFrame) -> pd.DataFrame:
    """A purchase summary as pymc-marketing reads it: customer_id 0..n-1 (ids play no part in
    the models, and its results are aligned by that number) and the count columns."""
    return pd.DataFrame(
        {
            "customer_id": np.arange(len(summary)),
            "frequency": summary["frequency"].to_numpy(),
            "recency": summary["recency"].to_numpy(),
            "T": summary["T"].to_numpy(),
        }
    )


def _check_finite(params: Mapping[str, float], what: str, fix: str) -> None:
    bad = {k: v for k, v in params.items() if not (math.isfinite(v) and v > 0)}
    if bad:
        raise ValueFitError(
            f"value=bgnbd: the {what} fit did not converge (parameters {bad}); {fix}"
        )


def check_purchases(summary: pd.DataFrame) -> None:
    """Raise ValueFitError when BG/NBD has nothing to learn from: too few customers, one day,
    or nobody who came back (the repeat purchases are what identify the purchase rate)."""
    n = len(summary)
    fix = "use value=none, or data covering a longer period with returning customers"
    if n < MIN_CUSTOMERS:
        raise ValueFitError(
            f"value=bgnbd needs at least {MIN_CUSTOMERS} customers to fit; the data has {n}; {fix}"
        )
    if not (summary["T"] > 0).any():
        raise ValueFitError(
            f"value=bgnbd needs purchases on more than one day; all {n} customers' lines fall "
            f"on one day, the end of the period; {fix}"
        )
    if not (summary["frequency"] > 0).any():
        raise ValueFitError(
            f"value=bgnbd needs customers with repeat purchases; all {n} customers bought on "
            f"one day only; {fix}"
        )


def fit_purchases(summary: pd.DataFrame, mode: str | None = None) -> dict[str, float]:
    """BG/NBD's r, alpha, a, b fitted on a `purchase_summary` (times in days)."""
    check_purchases(summary)  # before the slow import: bad data fails at once
    from pymc_marketing.clv import BetaGeoModel

    model = BetaGeoModel(model_config=flat_priors(PURCHASE_PARAMS))
    params = _map_point(model, numbered(summary), PURCHASE_PARAMS, mode)
    _check_finite(params, "BG/NBD purchase", "use value=none or check the dates of the lines")
    return params


def spend_sample(summary: pd.DataFrame) -> pd.DataFrame:
    """The customers Gamma-Gamma learns from: repeat buyers with a positive mean spend."""
    keep = (summary["frequency"] > 0) & (summary["monetary_value"] > 0)
    return summary.loc[keep, ["frequency", "monetary_value"]]


def spend_unusable(summary: pd.DataFrame) -> str | None:
    """Why Gamma-Gamma cannot be fitted on this summary, or None when it can."""
    if summary["monetary_value"].isna().all():
        return "no amount column: the lines carry no money (map amount or unit_price)"
    n = len(spend_sample(summary))
    if n < MIN_CUSTOMERS:
        return (
            f"{n} customer(s) with repeat purchases of positive value; Gamma-Gamma needs at "
            f"least {MIN_CUSTOMERS}"
        )
    return None


def fit_spend(summary: pd.DataFrame, mode: str | None = None) -> dict[str, float]:
    """Gamma-Gamma's p, q, v fitted on the repeat buyers of a `purchase_summary`."""
    from pymc_marketing.clv import GammaGammaModel

    sample = spend_sample(summary)
    data = pd.DataFrame(
        {
            "customer_id": np.arange(len(sample)),
            "frequency": sample["frequency"].to_numpy(),
            "monetary_value": sample["monetary_value"].to_numpy(),
        }
    )
    model = GammaGammaModel(model_config=flat_priors(SPEND_PARAMS))
    params = _map_point(model, data, SPEND_PARAMS, mode)
    _check_finite(params, "Gamma-Gamma spend", "check the amounts of the lines")
    return params
