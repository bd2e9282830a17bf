"""Name segments by how their customers buy, with suggested actions from a playbook.

Cluster numbers are arbitrary, so a persona is decided from the segment's behaviour alone: the
median of log1p of each descriptor, as a z-score against all customers. Each trait has a score
(the weakest of the signals it needs, so one extreme column cannot carry it) and a segment takes
its best trait when that clears THRESHOLD, else it is "regular". Several segments may share a
key when the data says so; an analyst cannot act on "(1)" and "(2)", so their names then say
how they differ, by the descriptor that separates them most (`custseg.profiling.twins`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from custseg.profiling.twins import distinct_names

UNASSIGNED = "unassigned"
REGULAR = "regular"
NAMES: dict[str, str] = {
    "high_value": "High-value frequent buyers",
    "bulk": "Bulk buyers, low unit price",
    "premium": "Premium occasional buyers",
    "lapsed": "Lapsed one-off buyers",
    "at_risk": "At-risk valuable customers",
    "regular": "Regular mid-value buyers",
    "occasional": "Occasional low spenders",
    "unassigned": "Unassigned (outliers)",
}
# A trait must clear this z-score (half a standard deviation on every signal it needs) to win
# over "regular": middling segments in the demo reach ~0.4, planted traits exceed 1; on Online
# Retail the weakest real trait (recent low spenders) scores ~0.57.
THRESHOLD = 0.5
# The least spread P(alive) is judged against (in log1p units, about 0.15 in probability):
# differences smaller than that say nothing about who is leaving.
ALIVE_SPREAD = 0.1
# Order breaks exact ties, so the result never depends on dict or cluster order.
TRAITS = ("lapsed", "at_risk", "bulk", "premium", "high_value", "occasional")


@dataclass
class Persona:
    """A segment's name, one-line description from its numbers, RFM label and actions."""

    segment: str
    key: str
    name: str
    description: str
    rfm_label: str | None
    actions: list[str] = field(default_factory=list)


def _col(z: pd.DataFrame, name: str) -> pd.Series:
    """A descriptor's z-scores, NaN when the data lacks it (no amounts: no money columns)."""
    return z[name] if name in z.columns else pd.Series(np.nan, index=z.index)


def trait_scores(z: pd.DataFrame) -> pd.DataFrame:
    """Score each trait per segment from median log1p z-scores (rows segment, columns trait).

    Each score is the minimum of its signals: a segment is "bulk" only if it buys many units per
    basket AND cheap ones. NaN (missing column) means the trait cannot be judged, except
    high_value, which falls back to frequency when the data has no amounts.
    """
    mon, freq = _col(z, "monetary"), _col(z, "frequency")
    rec, upb = _col(z, "recency_days"), _col(z, "units_per_basket")
    price, tenure = _col(z, "mean_unit_price"), _col(z, "tenure_days")
    # how gone a segment is: long since its last purchase, or, when the value stage ran, a low
    # P(alive) (which weighs that time against each customer's own purchase rhythm)
    alive = _col(z, "p_alive")
    gone = np.fmax(rec, -alive)
    worth = np.fmin(mon, freq)  # without amounts, frequency alone is the evidence of value
    scores = {
        "lapsed": np.minimum(gone, -freq),
        # valuable customers slipping away: P(alive) only, as recency alone cannot tell a slow,
        # loyal rhythm from a customer who left; high value needs them not fading
        "at_risk": np.minimum(worth, -alive),
        "bulk": np.minimum(upb, -price),
        # "frequency not high": rare-ish buyers are fine, frequent ones are high value instead
        "premium": np.minimum(price, 1.0 - freq),
        "high_value": np.minimum(worth, (alive + 1.0).fillna(np.inf)),
        # low spend and few purchases, but not gone (those are lapsed); "few purchases" averages
        # invoices and tenure, as two invoices on one day are still a single visit
        "occasional": np.minimum(np.minimum(-mon, -(freq + tenure) / 2), 0.5 - gone),
    }
    return pd.DataFrame(scores, index=z.index)[list(TRAITS)]


def _id_rank(index: pd.Index) -> np.ndarray:
    """Each customer id's position in text order: the last tiebreak of every quintile."""
    if index.is_monotonic_increasing:
        return np.arange(len(index))
    rank = np.empty(len(index), dtype=np.int64)
    rank[index.argsort()] = np.arange(len(index))
    return rank


def _quintile(
    values: pd.Series, tiebreak: pd.Series, ascending: bool = True,
    id_rank: np.ndarray | None = None,
) -> pd.Series:  # fmt: skip
    """Scores 1..5 by population quintile of the rank, ties broken by `tiebreak` then by
    customer id (as the classic qcut-on-rank does), so every quintile holds a fifth of the
    customers and a mass of equal values (one-off buyers) is never lifted by an average rank.
    One integer lexsort: a million customers' ids are ranked once, not sorted as text."""
    sign = 1 if ascending else -1
    ids = _id_rank(values.index) if id_rank is None else id_rank
    order = np.lexsort((ids, sign * tiebreak.to_numpy(dtype="float64"),
                        sign * values.to_numpy(dtype="float64")))  # fmt: skip
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(1, len(order) + 1)
    scores = np.clip(np.ceil(rank / max(len(order), 1) * 5), 1, 5).astype("int64")
    return pd.Series(scores, index=values.index)


def _segment_score(scores: pd.Series, seg: pd.Series) -> pd.Series:
    """A segment's score: its customers' lower median, a score one of them really has (an even
    count never rounds a 2.5 up to a 3)."""
    return scores.groupby(seg).quantile(0.5, interpolation="lower").astype("int64")


def rfm_label(r: int, fm: int) -> str:
    """The standard RFM segment map on the recency score and the mean of F and M scores."""
    if r <= 2:
        if fm == 5:
            return "Can't lose them"
        if fm >= 3:
            return "At risk"
        return "Lost" if r == 1 and fm == 1 else "Hibernating"
    if r == 3:
        if fm <= 2:
            return "About to sleep"
        return "Need attention" if fm == 3 else "Loyal customers"
    if fm == 1:
        return "New customers" if r == 5 else "Promising"
    if fm <= 3:
        return "Potential loyalists"
    return "Champions" if r == 5 else "Loyal customers"


def _rfm_labels(desc: pd.DataFrame, seg: pd.Series) -> dict[str, str]:
    freq = desc["frequency"]
    mon = desc["monetary"] if "monetary" in desc.columns else freq
    ids = _id_rank(desc.index)
    r = _quintile(desc["recency_days"], freq, ascending=False, id_rank=ids)  # recent -> 5
    # F and M together: the quintile of their summed ranks, so FM is a whole score too
    fm = _quintile(_quintile(freq, mon, id_rank=ids) + _quintile(mon, freq, id_rank=ids), mon,
                   id_rank=ids)  # fmt: skip
    r_s, fm_s = _segment_score(r, seg), _segment_score(fm, seg)
    return {s: rfm_label(int(r_s[s]), int(fm_s[s])) for s in r_s.index}


def _fmt_money(x: float, currency: str) -> str:
    return f"{currency}{x:,.0f}"


def _describe(desc: pd.DataFrame, seg: pd.Series, currency: str) -> dict[str, str]:
    n = len(desc)
    g = desc.groupby(seg)
    size = g.size()
    med = g.median()
    money = "monetary" in desc.columns
    total = desc["monetary"].sum() if money else np.nan
    overall_mon = desc["monetary"].median() if money else np.nan
    alive = g["p_alive"].mean() if "p_alive" in desc.columns else None
    out = {}
    for s in size.index:
        text = f"{size[s]:,} customers ({size[s] / n:.1%})"
        if money and total:
            text += f", {g['monetary'].sum()[s] / total:.0%} of revenue"
        inv = med.loc[s, "frequency"]
        text += f"; median {inv:g} invoice{'' if inv == 1 else 's'}"
        if money:
            text += f", spend {_fmt_money(med.loc[s, 'monetary'], currency)}"
            if overall_mon > 0:
                text += f", {med.loc[s, 'monetary'] / overall_mon:.1f}x the median customer"
        text += (
            f", {med.loc[s, 'units_per_basket']:.0f} units per basket, "
            f"last bought {med.loc[s, 'recency_days']:.0f} days ago"
        )
        if alive is not None:
            text += f", P(alive) {alive[s]:.2f}"
        out[s] = text
    return out


def segment_keys(descriptors: pd.DataFrame, segment_of: pd.Series) -> pd.Series:
    """Persona key per segment label (str), from the behaviour of its customers only."""
    desc, seg = _align(descriptors, segment_of)
    return _keys(desc, seg)[0]


def _align(descriptors: pd.DataFrame, segment_of: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    seg = pd.Series(segment_of.to_numpy(), index=segment_of.index.astype("str"))
    seg = seg.astype("int64").astype("str").rename("segment")
    desc = descriptors.copy()
    desc.index = desc.index.astype("str")
    common = desc.index.intersection(seg.index)
    return desc.loc[common], seg.loc[common]


def _keys(desc: pd.DataFrame, seg: pd.Series) -> tuple[pd.Series, pd.Series, pd.DataFrame]:
    """Key and its trait score per segment, and the segments' median z-scores."""
    lg = np.log1p(desc.clip(lower=0))
    std = lg.std().replace(0.0, np.nan)
    if "p_alive" in std.index:  # a probability: when nearly everyone is alive, a 0.01 gap
        std["p_alive"] = max(std["p_alive"], ALIVE_SPREAD)  # is no trait, whatever its z
    z = (lg.groupby(seg).median() - lg.mean()) / std
    scores = trait_scores(z).fillna(-np.inf)
    best = scores.max(axis=1)
    key = scores.idxmax(axis=1).where(best >= THRESHOLD, REGULAR)
    key[key.index == "-1"] = UNASSIGNED
    return key, best, z


def _order(labels: pd.Index) -> list[str]:
    codes = sorted(int(s) for s in labels)
    return [str(c) for c in codes if c >= 0] + (["-1"] if -1 in codes else [])


def assign_personas(
    descriptors: pd.DataFrame,
    segment_of: pd.Series,
    playbook: Mapping[str, list[str]],
    rfm: bool = False,
    currency: str = "",
) -> list[Persona]:
    """One persona per segment (label order, unassigned last).

    `descriptors` come from `customer_descriptors`; `segment_of` maps customer_id to an int
    label (-1 = unassigned). Segments sharing a key are told apart in their names by what
    separates them (behaviour only, so names do not depend on the cluster numbering either).
    """
    desc, seg = _align(descriptors, segment_of)
    key, _, z = _keys(desc, seg)
    names = distinct_names(key, z, NAMES)
    labels = _rfm_labels(desc, seg) if rfm else {}
    text = _describe(desc, seg, currency)
    out = []
    for s in _order(key.index):
        name = names[s]
        out.append(
            Persona(
                segment=s,
                key=key[s],
                name=name,
                description=text[s],
                rfm_label=labels.get(s) if rfm else None,
                actions=list(playbook.get(key[s], [])),
            )
        )
    return out


def personas_table(personas: list[Persona]) -> pd.DataFrame:
    """Personas as a table indexed by segment, actions joined with '; ' for CSV and reports."""
    rows = [
        {
            "segment": p.segment,
            "key": p.key,
            "name": p.name,
            "description": p.description,
            "rfm_label": p.rfm_label,
            "actions": "; ".join(p.actions),
        }
        for p in personas
    ]
    cols = ["segment", "key", "name", "description", "rfm_label", "actions"]
    return pd.DataFrame(rows, columns=cols).set_index("segment")
