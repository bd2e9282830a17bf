"""The customer value model in scikit-learn's manner: fit on lines, predict for any customers.

`fit` learns the BG/NBD and Gamma-Gamma parameters from the cleaned lines; `predict` summarises
any customers' lines (the training customers, or new ones being served) and scores them with
those parameters. The fitted object holds the parameters and the end of the training period,
nothing else, so it pickles in a few kilobytes whatever the size of the training data.
"""

from __future__ import annotations

import pandas as pd

from custseg.config.value import Value
from custseg.notices import warn
from custseg.value.fit import (
    check_purchases,
    compile_mode,
    fit_purchases,
    fit_spend,
    spend_unusable,
)
from custseg.value.summary import observation_end, purchase_summary


class ValueModel:
    """P(alive), expected purchases, expected order value and CLV per customer.

    Learned attributes: `purchase_params_` (BG/NBD r, alpha, a, b; times in days),
    `spend_params_` (Gamma-Gamma p, q, v, or None when spend was not modelled), `end_` (the day
    the training period ends) and `skipped_` (part -> why it was not modelled, e.g. "clv").
    """

    def __init__(self, spec: Value) -> None:
        self.spec = spec

    def fit_predict(self, tx: pd.DataFrame) -> pd.DataFrame:
        """`fit` then `predict` on the same lines, summarised once (the run's training table)."""
        return self._scored(self._fit(tx, None))

    def fit(self, tx: pd.DataFrame, end: pd.Timestamp | None = None) -> ValueModel:
        """Fit both models on cleaned lines observed up to `end` (default: the last line's day).

        Raises ValueFitError (a ValueError) when the purchase model cannot be fitted; a spend
        model that cannot be fitted (no money, too few repeat buyers, infinite mean spend) only
        drops the CLV, with the reason in `skipped_` and a warning.
        """
        self._fit(tx, end)
        return self

    def _fit(self, tx: pd.DataFrame, end: pd.Timestamp | None) -> pd.DataFrame:
        """Learn the parameters; the purchase summary they were learned from."""
        self.end_ = observation_end(tx) if end is None else pd.Timestamp(end).floor("D")
        summary = purchase_summary(tx, self.end_)
        check_purchases(summary)  # bad data fails before pytensor is imported to pick a mode
        mode = compile_mode()
        self.purchase_params_ = fit_purchases(summary, mode)
        self.spend_params_: dict[str, float] | None = None
        self.skipped_: dict[str, str] = {}
        reason = spend_unusable(summary)
        if reason is None:
            params = fit_spend(summary, mode)
            if params["q"] > 1:
                self.spend_params_ = params
            else:
                reason = (
                    f"Gamma-Gamma's q = {params['q']:.3g} <= 1: the fitted spend has no finite "
                    "mean (a few extreme order values?)"
                )
        if reason is not None:
            self.skipped_["clv"] = reason
            warn("value.clv_skipped", f"value: no expected order value or CLV: {reason}")
        return summary

    def predict(self, tx: pd.DataFrame, end: pd.Timestamp | None = None) -> pd.DataFrame:
        """One row per customer of `tx` (index customer_id, text), measured up to `end`
        (default: the day of `tx`'s last line): the purchase summary, p_alive,
        expected_purchases over `horizon_days`, and when spend was modelled
        expected_order_value and clv over `clv_months` at the monthly `discount_rate`."""
        return self._scored(purchase_summary(tx, end))

    def _scored(self, summary: pd.DataFrame) -> pd.DataFrame:
        from custseg.value.predict import PurchasePredictor, expected_order_value

        purchases = PurchasePredictor(self.purchase_params_, summary)
        out = summary.assign(
            p_alive=purchases.p_alive(),
            expected_purchases=purchases.expected_purchases(self.spec.horizon_days),
        )
        if self.spend_params_ is not None:
            spend = expected_order_value(self.spend_params_, summary)
            clv = purchases.clv(spend, self.spec.clv_months, self.spec.discount_rate)
            out = out.assign(expected_order_value=spend, clv=clv)
        return out
