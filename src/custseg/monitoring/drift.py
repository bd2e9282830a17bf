"""Segment drift between two periods: fit on the earlier one, apply to the later one, compare.

Segments are only useful while they describe today's customers. Splitting the transactions at a
date and fitting the segmentation on the earlier period ("model A") answers three questions:
where did each segment's customers go (migration of customers active in both periods), did the
segment sizes shift, and would a model refitted on the later period find the same segments
(ARI between model A's labels and the refit's, over the later period's customers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from custseg.config.schema import Config, Off
from custseg.model import CustomerModel


@dataclass
class DriftResult:
    split: pd.Timestamp
    # rows: segment in period A (model A on A); columns: segment in period B (model A on B);
    # counts of customers active in both periods
    migration: pd.DataFrame
    sizes: pd.DataFrame  # index segment; share_a, share_b (both by model A), shift = b - a
    ari_refit: float  # model A vs a model refitted on B, over period B's customers
    moved_share: float  # share of customers active in both periods whose segment changed
    customers_a: int
    customers_b: int
    customers_both: int
    labels_b_by_a: pd.Series  # customer -> segment (model A applied to B)
    labels_b_by_b: pd.Series  # customer -> segment (refit on B)
    # with a value stage: each customer's value as of the split (CLV, or expected purchases
    # without money), summed like `migration`, and the share of it held by customers who moved
    value_migration: pd.DataFrame | None = None
    value_moved_share: float | None = None
    value_measure: str = ""
    personas: dict[str, str] = field(default_factory=dict)  # model A's segment -> persona name


def _label_order(labels: pd.Index | np.ndarray) -> list[int]:
    """Segments in numeric order, unassigned (-1) last, as every figure shows them."""
    return sorted({int(x) for x in labels}, key=lambda v: (v < 0, v))


def split_date(tx: pd.DataFrame, split: str | None) -> pd.Timestamp:
    """The configured split date, or the midpoint of the data's date range (at midnight) when
    none is given; a date that would leave one period empty is a config error, said so early."""
    dates = pd.to_datetime(tx["invoice_date"])
    first, last = dates.min(), dates.max()
    if pd.isna(first):
        raise ValueError("monitoring.split: the transactions have no dates to split")
    at = (first + (last - first) / 2).normalize() if split is None else pd.Timestamp(split)
    if not first < at <= last:
        raise ValueError(
            f"monitoring.split: {at.date()} leaves a period empty; choose a date after "
            f"{first.date()} and up to {last.date()}"
        )
    return at


def migration_table(labels_a: pd.Series, labels_b: pd.Series) -> tuple[pd.DataFrame, float]:
    """Counts of customers in both series by (segment in A, segment in B), square over every
    segment seen in either, plus the share of those customers whose segment changed."""
    both = labels_a.index.intersection(labels_b.index)
    a = labels_a.loc[both].astype("int64")
    b = labels_b.loc[both].astype("int64")
    order = _label_order(np.concatenate([labels_a.to_numpy(), labels_b.to_numpy()]))
    table = pd.crosstab(a, b).reindex(index=order, columns=order, fill_value=0)
    table.index.name, table.columns.name = "segment_a", "segment_b"
    moved = float((a.to_numpy() != b.to_numpy()).mean()) if len(both) else 0.0
    return table.astype("int64"), moved


def size_shares(labels_a: pd.Series, labels_b: pd.Series) -> pd.DataFrame:
    """Each segment's share of all customers of period A and of period B, and the shift."""
    order = _label_order(np.concatenate([labels_a.to_numpy(), labels_b.to_numpy()]))
    share_a = labels_a.astype("int64").value_counts(normalize=True).reindex(order, fill_value=0.0)
    share_b = labels_b.astype("int64").value_counts(normalize=True).reindex(order, fill_value=0.0)
    sizes = pd.DataFrame({"share_a": share_a, "share_b": share_b}, index=order)
    sizes["shift"] = sizes["share_b"] - sizes["share_a"]
    sizes.index.name = "segment"
    return sizes


def _check_period(customers: int, name: str, at: pd.Timestamp, need: int) -> None:
    if customers < need:
        raise ValueError(
            f"monitoring.split: period {name} ({'before' if name == 'A' else 'from'} "
            f"{at.date()}) has {customers} customers, fewer than 2 x n_clusters = {need}; move "
            "the split date"
        )


def drift(tx: pd.DataFrame, config: Config, model: CustomerModel | None = None) -> DriftResult:
    """Fit on period A (before the split; or take `model`), apply to period B (on/after it),
    refit on B, compare.

    Features are built per period by the model's own feature builder, so recency, frequency
    and spend describe each period alone, scaled as the model scales new customers.
    """
    at = split_date(tx, config.monitoring.split)
    dates = pd.to_datetime(tx["invoice_date"])
    tx_a, tx_b = tx[dates < at], tx[dates >= at]
    fixed = segmentation_only(config, model)
    k = getattr(fixed.segment, "n_clusters", None)
    need = 2 * int(k) if k is not None else 2
    _check_period(tx_a["customer_id"].nunique(), "A", at, need)
    _check_period(tx_b["customer_id"].nunique(), "B", at, need)

    if model is None:
        model = CustomerModel(fixed).fit(tx_a)
        seg = model.training_.segmentation
        labels_a = pd.Series(seg.labels, index=seg.features.index, name="segment", dtype="int64")
    else:
        labels_a = model.segment(tx_a, clean=False)
    labels_b_by_a = model.segment(tx_b, clean=False)
    refit = CustomerModel(_without_value(fixed)).fit(tx_b).training_.segmentation
    labels_b_by_b = pd.Series(refit.labels, index=refit.features.index, name="segment",
                              dtype="int64").reindex(labels_b_by_a.index)  # fmt: skip

    migration, moved = migration_table(labels_a, labels_b_by_a)
    value = _value_at_split(model, tx_a)
    moved_value = value_migration(labels_a, labels_b_by_a, value) if value is not None else None
    return DriftResult(
        split=at,
        migration=migration,
        sizes=size_shares(labels_a, labels_b_by_a),
        ari_refit=float(adjusted_rand_score(labels_b_by_a, labels_b_by_b)),
        moved_share=moved,
        customers_a=len(labels_a),
        customers_b=len(labels_b_by_a),
        customers_both=int(migration.to_numpy().sum()),
        labels_b_by_a=labels_b_by_a,
        labels_b_by_b=labels_b_by_b,
        value_migration=moved_value[0] if moved_value else None,
        value_moved_share=moved_value[1] if moved_value else None,
        value_measure=str(value.name) if value is not None else "",
        personas={str(p.segment): p.name for p in model.personas_},
    )


def _value_at_split(model: CustomerModel, tx_a: pd.DataFrame) -> pd.Series | None:
    """Each period-A customer's value as the split finds them (model A's value stage): CLV, or
    expected purchases when the model has no spend part; None without a value stage."""
    if getattr(model, "value_", None) is None:
        return None
    table = model.value(tx_a, clean=False)
    measure = "clv" if "clv" in table.columns else "expected_purchases"
    out = table[measure].astype("float64")
    out.index = out.index.astype("str")
    return out


def value_migration(
    labels_a: pd.Series, labels_b: pd.Series, value: pd.Series
) -> tuple[pd.DataFrame, float]:
    """`value` of the customers in both periods summed by (segment in A, segment in B), and
    the share of it held by customers whose segment changed: what a marketer loses track of
    when a segment's customers move on."""
    a = labels_a.copy()
    a.index = a.index.astype("str")
    b = labels_b.copy()
    b.index = b.index.astype("str")
    both = a.index.intersection(b.index).intersection(value.index)
    a, b, v = a.loc[both].astype("int64"), b.loc[both].astype("int64"), value.loc[both]
    order = _label_order(np.concatenate([labels_a.to_numpy(), labels_b.to_numpy()]))
    table = pd.crosstab(a, b, values=v, aggfunc="sum").reindex(
        index=order, columns=order).fillna(0.0)  # fmt: skip
    table.index.name, table.columns.name = "segment_a", "segment_b"
    total = float(v.sum())
    moved = float(v[a.to_numpy() != b.to_numpy()].sum()) / total if total else 0.0
    return table.astype("float64"), moved


def _without_value(config: Config) -> Config:
    """The refit on period B only compares segments: no value models."""
    return config.model_copy(update={"value": Off(enabled=False)})


def segmentation_only(config: Config, model: CustomerModel | None = None) -> Config:
    """The config a drift refit uses: the segmentation alone (the given model's parameters when
    there is one), no study, no bootstrap, no rules, recommendations or report."""
    off = Off(enabled=False)
    base = model.config if model is not None else config
    segment = model.algorithm_ if model is not None else config.segment
    stability = base.stability.model_copy(update={"rounds": 0})
    return base.model_copy(update={"segment": segment, "tuning": off, "rules": off,
                                   "recommend": off, "report": off,
                                   "stability": stability})  # fmt: skip
