"""Segment numbers that mean something, and keep meaning it.

A clusterer numbers its segments in whatever order its initialisation found them, so
"segment 2" changes from run to run and says nothing. Here the numbers follow value: segment 0
holds the largest share of revenue (without a money column, as in price-less basket data: the
most lines, then the most customers). With `segment.align_to`, a run takes the numbers of a
reference run instead, matched one-to-one by the Hungarian algorithm, so segment i is the same
persona in both; segments the reference lacks get the next numbers after its highest.

The numbers are applied to the fitted clusterer itself (`Renumbered`), so the model's
`segment()` on new customers returns the numbers the run logged. Unassigned (-1) stays -1.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils.validation import check_is_fitted

from custseg.config.errors import ConfigError
from custseg.data.schema import has_column
from custseg.segment.algorithms import UNASSIGNED
from custseg.segment.stability import jaccard_matrix

SHARED_ENOUGH = 0.5  # align by customers when the reference holds this share of this run's


def relabel(labels: Any, mapping: Mapping[int, int]) -> np.ndarray:
    """`labels` through `mapping` (-1 stays -1); a label the map lacks is an error."""
    full = {int(k): int(v) for k, v in mapping.items()} | {UNASSIGNED: UNASSIGNED}
    labels = np.asarray(labels, dtype="int64")
    keys = np.array(sorted(full), dtype="int64")
    at = np.searchsorted(keys, labels).clip(0, keys.size - 1)
    unknown = keys[at] != labels
    if unknown.any():
        raise ValueError(f"segment label(s) {sorted(set(labels[unknown].tolist()))} have no "
                         f"number in {full}")  # fmt: skip
    return np.array([full[k] for k in keys], dtype="int64")[at]


class Renumbered(ClusterMixin, BaseEstimator):
    """A fitted clusterer whose segment numbers pass through a fixed map.

    The clusterer comes fitted (as scikit-learn's prefit wrappers take theirs): numbering is
    decided after the fit, from the transactions, and never refits. `fit(X)` checks the map
    covers the clusterer's segments and numbers its training labels.
    """

    def __init__(self, estimator: Any = None, mapping: Mapping[int, int] | None = None) -> None:
        self.estimator = estimator
        self.mapping = mapping

    def fit(self, X: Any = None, y: Any = None) -> Renumbered:
        self.estimator_ = self.estimator
        self.mapping_ = {int(k): int(v) for k, v in (self.mapping or {}).items()}
        self.labels_ = self.renumber(self.estimator_.labels_)
        return self

    def renumber(self, labels: Any) -> np.ndarray:
        """The clusterer's own labels in this numbering."""
        check_is_fitted(self, "mapping_")
        return relabel(labels, self.mapping_)

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "mapping_")
        return self.renumber(self.estimator_.predict(X))

    def label(self) -> str:
        return self.estimator_.label()

    def quality(self, X: Any) -> dict[str, float]:
        return self.estimator_.quality(X)


def completed(mapping: Mapping[int, int], possible: Iterable[int]) -> dict[int, int]:
    """`mapping` plus the labels it lacks, numbered after its highest: a mixture component (or
    a Spark cluster) no training customer fell in still has a number for a new customer."""
    out = {int(k): int(v) for k, v in mapping.items()}
    nxt = max(out.values(), default=-1) + 1
    for label in sorted({int(p) for p in possible} - set(out) - {UNASSIGNED}):
        out[label], nxt = nxt, nxt + 1
    return out


def customer_value(tx: pd.DataFrame, customers: pd.Index) -> pd.DataFrame:
    """Lines, and revenue when the data has money, per customer in the order of `customers`
    (counted on the id codes, then matched as text: the feature tables' index). Customers
    without lines get 0."""
    ids = tx["customer_id"]
    if isinstance(ids.dtype, pd.CategoricalDtype):
        codes, labels = ids.cat.codes.to_numpy(), pd.Index(ids.cat.categories)
    else:
        codes, labels = pd.factorize(ids)
        labels = pd.Index(labels)
    ok = codes >= 0
    n = len(labels)
    per = {"lines": np.bincount(codes[ok], minlength=n).astype("float64")}
    if has_column(tx, "amount"):
        amount = tx["amount"].to_numpy(dtype="float64")[ok]
        per["revenue"] = np.bincount(codes[ok], weights=np.nan_to_num(amount), minlength=n)
    want = pd.Index(customers).astype("str")
    names = labels.astype("str")
    at = np.arange(n) if names.equals(want) else names.get_indexer(want)
    found = at >= 0
    cols = {c: np.where(found, v[np.maximum(at, 0)], 0.0) for c, v in per.items()}
    return pd.DataFrame(cols, index=want)


def customer_revenue(tx: pd.DataFrame, customers: pd.Index) -> np.ndarray | None:
    """Revenue per customer, in the order of `customers`; None when the data has no money."""
    per = customer_value(tx, customers)
    return per["revenue"].to_numpy(dtype="float64") if "revenue" in per else None


def max_revenue_share(labels: np.ndarray, revenue: np.ndarray) -> float:
    """The largest share of all revenue one segment (not -1) holds."""
    labels = np.asarray(labels)
    on = labels != UNASSIGNED
    total = float(revenue.sum())
    if not on.any() or total <= 0:
        return 0.0
    per = np.bincount(np.unique(labels[on], return_inverse=True)[1], weights=revenue[on])
    return float(per.max() / total)


def segment_value(labels: np.ndarray, customers: pd.Index, tx: pd.DataFrame) -> pd.DataFrame:
    """Revenue (when the data has money), lines and customers per segment (not -1)."""
    per = customer_value(tx, customers).assign(customers=1, segment=np.asarray(labels, "int64"))
    return per[per["segment"] != UNASSIGNED].groupby("segment").sum()


def value_order(labels: np.ndarray, customers: pd.Index, tx: pd.DataFrame) -> dict[int, int]:
    """Old label -> new number: by revenue share, largest first; without a money column by
    lines, then customers (ties: the old label, so the order is deterministic)."""
    value = segment_value(labels, customers, tx)
    keys = [c for c in ("revenue", "lines", "customers") if c in value]
    ranked = value.reset_index().sort_values([*keys, "segment"], ascending=[False] * len(keys)
                                             + [True], kind="stable")  # fmt: skip
    return {int(s): i for i, s in enumerate(ranked["segment"])}


def _assign(similar: np.ndarray, mine: np.ndarray, theirs: np.ndarray,
            maximize: bool, keep: np.ndarray) -> dict[int, int]:  # fmt: skip
    rows, cols = linear_sum_assignment(similar, maximize=maximize)
    return {int(mine[r]): int(theirs[c]) for r, c in zip(rows, cols, strict=True) if keep[r, c]}


def match_by_customers(labels: np.ndarray, reference: np.ndarray) -> dict[int, int]:
    """This run's segment -> the reference segment it shares most with (labels of the same
    customers), one-to-one by maximal total Jaccard similarity; pairs sharing no customer are
    not matched."""
    mine, theirs, jac = jaccard_matrix(np.asarray(labels), np.asarray(reference))
    if not mine.size or not theirs.size:
        return {}
    return _assign(jac, mine, theirs, True, jac > 0)


def match_by_centres(centres: Mapping[int, np.ndarray],
                     reference: Mapping[int, np.ndarray]) -> dict[int, int]:  # fmt: skip
    """This run's segment -> the reference segment with the nearest centre (both in this
    run's scaled feature space), one-to-one by minimal total distance."""
    mine, theirs = np.array(sorted(centres)), np.array(sorted(reference))
    if not mine.size or not theirs.size:
        return {}
    a = np.stack([centres[s] for s in mine])
    b = np.stack([reference[s] for s in theirs])
    dist = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2))
    return _assign(dist, mine, theirs, False, np.ones_like(dist, dtype=bool))


def centres(X: np.ndarray, labels: np.ndarray) -> dict[int, np.ndarray]:
    """Mean scaled features per segment (not -1)."""
    labels = np.asarray(labels)
    return {int(s): X[labels == s].mean(axis=0) for s in np.unique(labels[labels != UNASSIGNED])}


def aligned(order: Mapping[int, int], matches: Mapping[int, int],
            reference_numbers: list[int]) -> dict[int, int]:  # fmt: skip
    """Old label -> final number: the reference's number when matched (`matches` is keyed by
    the numbers of `order`), else the next numbers after the reference's highest, in value
    order."""
    nxt = max(reference_numbers, default=-1) + 1
    out = {}
    for old, new in sorted(order.items(), key=lambda kv: kv[1]):
        if new in matches:
            out[old] = int(matches[new])
        else:
            out[old], nxt = nxt, nxt + 1
    return out


def align_to_reference(
    numbered: np.ndarray, customers: pd.Index, X: np.ndarray, transform: Any,
    reference: pd.DataFrame, order: Mapping[int, int],
) -> dict[int, int]:  # fmt: skip
    """Old label -> final number, matched to a reference run's segments table (index
    customer_id, `segment`, raw features). `numbered` are this run's labels in value order
    (`order` applied). When the reference holds at least half of these customers, segments
    are matched by the customers they share; otherwise by their centres, the reference's raw
    features scaled by this run's `transform` (so the feature sets must agree)."""
    theirs = reference["segment"].to_numpy(dtype="int64")
    ids = pd.Index(customers).astype("str")
    shared = ids.isin(reference.index)
    if shared.mean() >= SHARED_ENOUGH:
        ref = reference["segment"].reindex(ids[shared]).to_numpy(dtype="int64")
        matches = match_by_customers(numbered[shared], ref)
    else:
        columns = list(getattr(transform, "feature_names_in_", []))
        missing = [c for c in columns if c not in reference.columns]
        if missing or not columns:
            raise ConfigError(
                f"segment.align_to: the reference run shares {shared.mean():.0%} of these "
                f"customers and lacks the feature columns {missing or '(unknown)'}; align to a "
                "run on the same customers or with the same features",
                "segment.align_to",
            )
        scaled = transform.transform(reference[columns])
        matches = match_by_centres(centres(X, numbered), centres(scaled, theirs))
    return aligned(order, matches, sorted(set(theirs.tolist()) - {UNASSIGNED}))
