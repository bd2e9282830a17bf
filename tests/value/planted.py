"""Customers drawn from the BG/NBD and Gamma-Gamma stories themselves, as transaction lines.

Each customer has a purchase rate lambda ~ Gamma(r, scale 1/alpha) and a dropout probability
p ~ Beta(a, b); from their first purchase they buy as a Poisson process and, after each repeat
purchase, leave for good with probability p. Each purchase's spend is Gamma(p, rate nu) with
the customer's nu ~ Gamma(q, rate v). A purchase day is written as one or two invoices of one
or two lines each, so the summary has to add lines and invoices up to days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

PURCHASE = {"r": 0.9, "alpha": 40.0, "a": 0.8, "b": 3.0}
SPEND = {"p": 6.0, "q": 4.0, "v": 15.0}
START = pd.Timestamp("2024-01-01")


@dataclass(frozen=True)
class Planted:
    lines: pd.DataFrame  # customer_id, invoice_id, invoice_date, amount
    alive: pd.Series  # truly alive at the end of the period, by customer id (text)
    end: pd.Timestamp  # the last day


def simulate(n: int = 5000, days: int = 365, first_within: int = 270, seed: int = 7) -> Planted:
    """`n` customers whose first purchase falls in the first `first_within` of `days` days."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(PURCHASE["r"], 1 / PURCHASE["alpha"], n)
    drop = rng.beta(PURCHASE["a"], PURCHASE["b"], n)
    nu = rng.gamma(SPEND["q"], 1 / SPEND["v"], n)
    first = rng.integers(0, first_within, n)
    horizon = (days - first).astype(float)  # from the first purchase day to the last day's end
    owner, when = [np.arange(n)], [first.astype(float)]
    t = np.zeros(n)
    active, alive = np.ones(n, dtype=bool), np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        t[idx] += rng.exponential(1 / lam[idx])
        inside = t[idx] < horizon[idx]
        active[idx[~inside]] = False  # still alive when the period ends
        bought = idx[inside]
        owner.append(bought)
        when.append(first[bought] + t[bought])
        died = bought[rng.random(len(bought)) < drop[bought]]
        active[died] = alive[died] = False
    who = np.concatenate(owner)
    day = np.floor(np.concatenate(when)).astype(np.int64)
    spend = rng.gamma(SPEND["p"], 1 / nu[who])
    ids = _ids(np.arange(n))
    return Planted(
        _lines(rng, ids[who], day, spend),
        pd.Series(alive, index=pd.Index(ids, dtype="str", name="customer_id")),
        START + pd.Timedelta(days=days - 1),
    )


def _ids(numbers: np.ndarray) -> np.ndarray:
    return np.array([f"K{i:05d}" for i in numbers], dtype=object)


def _lines(rng: np.random.Generator, who: np.ndarray, day: np.ndarray, spend: np.ndarray):
    """Each purchase as 1-2 invoices of 1-2 lines at random times of its day, splitting its
    spend; lines come out in no particular order."""
    n = len(who)
    invoices = rng.integers(1, 3, n)
    lines_per = rng.integers(1, 3, n) * invoices
    row = np.repeat(np.arange(n), lines_per)
    share = rng.random(len(row)) + 0.1
    share /= np.bincount(row, weights=share)[row]
    within = np.arange(len(row)) - np.repeat(np.cumsum(lines_per) - lines_per, lines_per)
    invoice_no = np.repeat(np.cumsum(invoices) - invoices, lines_per) + within % invoices[row]
    seconds = rng.integers(0, 86400, len(row))
    frame = pd.DataFrame(
        {
            "customer_id": who[row],
            "invoice_id": [f"I{i}" for i in invoice_no],
            "invoice_date": START
            + pd.to_timedelta(day[row], unit="D")
            + pd.to_timedelta(seconds, unit="s"),
            "amount": spend[row] * share,
        }
    )
    return frame.sample(frac=1.0, random_state=1).reset_index(drop=True)
