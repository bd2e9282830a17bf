"""Value-aware offers: a customer's candidate items reranked by the revenue each is expected to
bring, P(purchase at its list position) x the item's value x P(alive).

Relevance alone puts a card bought for 0.40 above a lamp bought for 40 when both are as likely
to be bought; a campaign with a budget asks for expected revenue. The purchase probability by
position is measured, not assumed: on the learned blend's validation window (the last days of
the training data, never the evaluation's test) it is the share of the window's buyers who
bought the item at each position of their blended list, made non-increasing. An item's value is
the median amount of a line that bought it, or its median margin when the data has a margin
column. P(alive) comes from the value stage; it scales a customer's whole list, so it changes
what a list is worth (what a campaign compares across customers), never the order within it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from custseg.data.schema import has_column
from custseg.notices import warn
from custseg.recommend.codes import labels_of
from custseg.recommend.history import History
from custseg.recommend.kernels import order_in_runs, rank_within
from custseg.recommend.metrics import Ranked, ranked

if TYPE_CHECKING:  # learned imports this module
    from custseg.recommend.learned import BlendChoice

COLUMN = "expected_value"  # the served list's column: P(purchase) x value x P(alive)
RELEVANCE_RANK = "relevance_rank"  # where the offer stood in relevance order


@dataclass
class ExpectedValue:
    """What reranking needs, learned in `fit`: item values and the purchase curve."""

    values: pd.Series  # item label -> value of one purchase line (median amount or margin)
    basis: str  # "amount" | "margin": what `values` measure
    purchase: np.ndarray  # P(purchase | position 1..n) on the validation window, non-increasing
    window: dict[str, Any] = field(default_factory=dict)  # where the curve was measured

    def value_of(self, items: pd.Series) -> np.ndarray:
        """Each item's value (0 for an item whose lines carry none); looked up once per
        distinct item, then taken by code."""
        code, labels = labels_of(items)
        return _lookup(self.values, labels, 0.0)[code]

    def chance_at(self, positions: np.ndarray) -> np.ndarray:
        """P(purchase) at 1-based list positions (beyond the measured ones: the last)."""
        last = len(self.purchase) - 1
        return self.purchase[np.clip(np.asarray(positions, dtype=np.int64) - 1, 0, last)]


def _lookup(values: pd.Series, labels: pd.Index, missing: float) -> np.ndarray:
    """values[label] for each label (`missing` where absent or NaN), as float64, with one more
    `missing` at the end: indexed by `labels_of` codes, a missing code (-1) takes it."""
    at = values.index.get_indexer(labels.astype("str"))
    found = values.to_numpy(dtype="float64")[np.maximum(at, 0)] if len(values) else 0.0
    out = np.nan_to_num(np.where(at >= 0, found, missing), nan=missing)
    return np.append(out, missing)


def item_values(tx: pd.DataFrame, item: str) -> tuple[pd.Series, str] | None:
    """Median margin (when the lines have one) or amount of a line, per item; None when the
    lines carry neither (price-less data: no expected revenue)."""
    basis = "margin" if has_column(tx, "margin") else "amount"
    if not has_column(tx, basis):
        return None
    lines = tx[[item, basis]].dropna()
    values = lines.groupby(lines[item].astype("str"), sort=True)[basis].median()
    unvalued = tx[item].nunique() - len(values)
    if basis == "margin" and unvalued > 0:
        warn("recommend.rank_by.margin", f"recommend.rank_by=expected_value: {unvalued:,} "
             f"item(s) have no margin on any line, so their offers are worth 0; give every line "
             "a margin (data.columns.margin), or leave it unmapped to rank by amount")  # fmt: skip
    return values.astype("float64").rename(basis), basis


def learn_expected(
    tx: pd.DataFrame, item: str, choice: BlendChoice, say: bool = True, alive: bool = True
) -> ExpectedValue | None:
    """Item values from the lines and the purchase curve of the learned blend's `choice`
    (`learned.BlendChoice`); None, said when `say`, when either is missing: the lists then stay
    in relevance order. `alive=False` (no value stage) is said too: P(alive) counts as 1."""
    if say and not alive:
        warn("recommend.rank_by.p_alive", "recommend.rank_by=expected_value without a "
             "value stage: every customer counts as active (P(alive) = 1); value=bgnbd adds it")
    why = ""
    found = item_values(tx, item)
    purchase = choice.purchase
    if not len(purchase):
        why = f"the learned blend had no validation window ({choice.window.get('skipped')})"
    elif found is None:
        why = "the lines carry no amounts (or margins) to value an item by"
    elif not purchase[0] > 0:
        why = "no validation customer bought an item of their list"
    if why:
        if say:
            warn("recommend.rank_by", f"recommend.rank_by=expected_value: {why}; the lists "
                 "stay in relevance order")  # fmt: skip
        return None
    values, basis = found  # type: ignore[misc]
    return ExpectedValue(values, basis, purchase, dict(choice.window))


def purchase_by_position(recs: pd.DataFrame, truth: History, n: int) -> np.ndarray:
    """Share of `truth`'s buyers (customers with a true item) whose list held a bought item at
    each position 1..n, made non-increasing: a deeper position is never more likely."""
    r = ranked(recs)
    top = r.pos <= n
    row = truth.customers.get_indexer(r.customers)[r.cust[top]]
    col = truth.item_labels.get_indexer(r.items)[r.item[top]]
    hit = truth.contains(row, col)
    buyers = max(int(np.count_nonzero(truth.sizes())), 1)
    rate = np.bincount(r.pos[top][hit] - 1, minlength=n)[:n] / buyers
    return np.minimum.accumulate(rate.astype("float64"))


def rerank(
    candidates: pd.DataFrame, k: int, *, expected: ExpectedValue, p_alive: pd.Series | None
) -> pd.DataFrame:
    """The top k of each customer's relevance-ranked `candidates` (a blended list with `rank`)
    by expected value, ties kept in relevance order; `score` and COLUMN hold the expected value
    and `rank` the new position, RELEVANCE_RANK the old one. Without P(alive) every customer
    counts as active. An offer worth less than nothing (a negative margin) is never made, so a
    list may be shorter."""
    if candidates.empty:
        return candidates.assign(**{COLUMN: pd.Series(dtype="float64"),
                                    RELEVANCE_RANK: pd.Series(dtype="int64")})  # fmt: skip
    cust, customers = labels_of(candidates["customer_id"])
    rank = candidates["rank"].to_numpy(dtype=np.int64)
    worth = expected.chance_at(rank) * expected.value_of(candidates["item"])
    if p_alive is not None:
        alive = p_alive.set_axis(p_alive.index.astype("str"))
        worth = worth * _lookup(alive, customers, 1.0)[cust]
    base = np.lexsort((rank, cust))
    keep = base[order_in_runs(cust[base], worth[base], k)]
    keep = keep[worth[keep] >= 0]
    out = candidates.iloc[keep].reset_index(drop=True)
    out["score"] = worth[keep]
    out["rank"] = rank_within(cust[keep]) + 1
    out[COLUMN] = worth[keep]
    out[RELEVANCE_RANK] = rank[keep]
    return out


def revenue(r: Ranked, truth: History, k: int, values: pd.Series) -> float:
    """Mean over `truth`'s buyers of the value of the top-k items they went on to buy: the
    revenue a list captured, in the units of `values`."""
    buyers = truth.sizes() > 0
    if not buyers.any():
        return float("nan")
    top = r.pos <= k
    row = truth.customers.get_indexer(r.customers)[r.cust[top]]
    col = truth.item_labels.get_indexer(r.items)[r.item[top]]
    hit = truth.contains(row, col)
    at = values.index.get_indexer(r.items.astype("str"))
    worth = np.where(at >= 0, values.to_numpy()[np.maximum(at, 0)], 0.0)[r.item[top]]
    per_customer = np.bincount(row[hit], weights=worth[hit], minlength=len(buyers))
    return float(per_customer[buyers].mean())


def top_offers(recs: pd.DataFrame, segments: pd.Series, n: int = 5) -> pd.DataFrame:
    """Per segment, the n items whose offers add up to the most expected revenue: segment,
    item, customers offered it, expected revenue (sum of COLUMN), best first."""
    seg = segments.reindex(recs["customer_id"].astype("str")).to_numpy()
    frame = pd.DataFrame({"segment": seg, "item": recs["item"].astype("str"),
                          "expected_revenue": recs[COLUMN].to_numpy(dtype="float64")})  # fmt: skip
    frame = frame[pd.notna(frame["segment"])]
    per = (frame.groupby(["segment", "item"], sort=True)["expected_revenue"]
           .agg(customers="size", expected_revenue="sum").reset_index())  # fmt: skip
    per["segment"] = per["segment"].astype("int64")
    per = per.sort_values(["segment", "expected_revenue", "item"], ascending=[True, False, True])
    return per.groupby("segment", sort=True).head(n).reset_index(drop=True)
