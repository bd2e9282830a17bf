"""Does BG/NBD predict purchases it has not seen? The literature's calibration/holdout check.

The lines are cut `holdout_days` before the last day: the purchase model is fitted on the
calibration side only, each calibration customer's purchase days in the holdout are predicted,
and the predictions are compared with what those customers did. The baseline any model must
beat is naive: every customer keeps buying at their own calibration rate.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from custseg.config.value import Value
from custseg.notices import warn
from custseg.value.fit import ValueFitError, check_purchases, compile_mode, fit_purchases
from custseg.value.summary import line_days, observation_end, purchase_summary

log = logging.getLogger(__name__)

BUCKETS = 7  # calibration repeat purchases 0..6 get a row each, the rest share "7+"


@dataclass(frozen=True)
class Holdout:
    """The holdout check's result.

    `metrics`: mae, rmse (per customer, in purchase days), mae_naive (the naive baseline's mae),
    correlation (Pearson, predicted vs actual), customers, holdout_days, actual_total and
    predicted_total. `calibration`: one row per number of calibration repeat purchases
    ("0".."6", "7+"): customers, and mean actual, predicted and naive holdout purchase days.
    `cutoff`: the last day of the calibration period.
    """

    metrics: dict[str, float]
    calibration: pd.DataFrame
    cutoff: pd.Timestamp


def _skip(message: str) -> None:
    warn("value.holdout", f"value: holdout validation skipped: {message}")


def validate(spec: Value, tx: pd.DataFrame) -> Holdout | None:
    """Fit on all but the last `spec.holdout_days` days, predict them, and score the predictions.

    Customers are those first seen in the calibration period; a purchase is a purchase day, as
    in the fit. The naive baseline predicts each customer's calibration rate of repeat purchase
    days, frequency / T per day (0 for a customer first seen on the cut day), times the holdout
    length. None (with a warning, the run goes on) when the cut leaves nothing to learn from or
    to check; None without one when `holdout_days` is 0 (validation switched off).
    """
    days = spec.holdout_days
    if days == 0:
        log.info("value.holdout_days=0: the value models' predictions are not checked")
        return None
    last = observation_end(tx)
    day = line_days(tx["invoice_date"])
    span = int(day.max() - day.min())
    if days >= span:
        _skip(
            f"value.holdout_days={days} leaves no calibration period: the data spans {span} "
            "day(s); set a smaller value.holdout_days (or 0 to skip validation)"
        )
        return None
    cutoff = last - pd.Timedelta(days=days)
    calib = tx.loc[day <= day.max() - days]
    summary = purchase_summary(calib, cutoff)
    try:
        check_purchases(summary)  # before pytensor is imported to choose a compile mode
        params = fit_purchases(summary, compile_mode())
    except ValueFitError as exc:
        _skip(f"the calibration period (up to {cutoff.date()}) cannot be fitted: {exc}")
        return None
    from custseg.value.predict import PurchasePredictor

    predicted = PurchasePredictor(params, summary).expected_purchases(days)
    actual = _holdout_purchases(tx.loc[day > day.max() - days], summary.index)
    rate = summary["frequency"].to_numpy() / summary["T"].where(summary["T"] > 0).to_numpy()
    naive = np.nan_to_num(rate, nan=0.0) * days
    return Holdout(
        _metrics(actual, predicted, naive, days),
        _calibration_table(summary["frequency"].to_numpy(), actual, predicted, naive),
        cutoff,
    )


def _holdout_purchases(holdout: pd.DataFrame, customers: pd.Index) -> np.ndarray:
    """Each calibration customer's purchase days in the holdout lines (0 for the absent)."""
    if not len(holdout):
        return np.zeros(len(customers))
    trips = purchase_summary(holdout)["frequency"] + 1
    return trips.reindex(customers, fill_value=0).to_numpy(dtype=np.float64)


def _metrics(
    actual: np.ndarray, predicted: np.ndarray, naive: np.ndarray, days: int
) -> dict[str, float]:
    error = predicted - actual
    both_vary = actual.std() > 0 and predicted.std() > 0
    return {
        "mae": float(np.abs(error).mean()),
        "mae_naive": float(np.abs(naive - actual).mean()),
        "rmse": float(np.sqrt((error**2).mean())),
        "correlation": float(np.corrcoef(actual, predicted)[0, 1]) if both_vary else float("nan"),
        "customers": float(len(actual)),
        "holdout_days": float(days),
        "actual_total": float(actual.sum()),
        "predicted_total": float(predicted.sum()),
    }


def _calibration_table(
    frequency: np.ndarray, actual: np.ndarray, predicted: np.ndarray, naive: np.ndarray
) -> pd.DataFrame:
    bucket = np.minimum(frequency, BUCKETS).astype(np.int64)
    labels = [str(i) for i in range(BUCKETS)] + [f"{BUCKETS}+"]
    customers = np.bincount(bucket, minlength=BUCKETS + 1)
    seen = customers > 0

    def mean(values: np.ndarray) -> np.ndarray:
        return np.bincount(bucket, weights=values, minlength=BUCKETS + 1)[seen] / customers[seen]

    table = pd.DataFrame(
        {
            "customers": customers[seen],
            "actual": mean(actual),
            "predicted": mean(predicted),
            "naive": mean(naive),
        },
        index=pd.Index(
            [name for name, s in zip(labels, seen, strict=True) if s], name="repeat_purchases"
        ),
    )
    return table
