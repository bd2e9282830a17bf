"""Cross-sell from association rules: what customers like this one bought next to what it has.

Rules mined inside a segment describe that segment's baskets, so a customer is served its own
segment's rules first; the rules mined over all baskets are the fallback for customers whose
segment offers nothing (few baskets, no rule above the thresholds).

Rules are matched by joining the exploded histories with the exploded antecedents and counting
matched antecedent items per (customer, rule): a rule fires when every antecedent item matched.
That is one merge and one groupby, never a loop over customers x rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np
import pandas as pd

from custseg.recommend.common import (
    drop_seen,
    empty_recs,
    finish,
    history_pairs,
    segment_labels,
)

SOURCE = "crosssell"
OVERALL = "all"

# config name -> the rule measure a candidate item is scored by (max over the rules that fire)
SCORES: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "confidence": lambda r: r["confidence"],
    "lift": lambda r: r["lift"],
    "confidence_x_lift": lambda r: r["confidence"] * r["lift"],
}

_NEEDED = ("segment", "antecedent", "consequent", "confidence", "lift")


def _itemset(x: object) -> tuple[str, ...]:
    if isinstance(x, str):
        return (x,)
    return tuple(sorted({str(i) for i in x}))  # type: ignore[union-attr]


def _prepare(rules: pd.DataFrame, score: str) -> pd.DataFrame:
    """Normalise itemsets and number the rules in a fixed order so ties resolve the same way."""
    missing = [c for c in _NEEDED if c not in rules.columns]
    if missing:
        raise ValueError(f"rules frame lacks column(s) {missing}; has {list(rules.columns)}")
    out = pd.DataFrame(
        {
            "scope": rules["segment"].astype("str").to_numpy(),
            "antecedent": [_itemset(a) for a in rules["antecedent"]],
            "consequent": [_itemset(c) for c in rules["consequent"]],
            "confidence": rules["confidence"].astype("float64").to_numpy(),
            "lift": rules["lift"].astype("float64").to_numpy(),
            "score": SCORES[score](rules).astype("float64").to_numpy(),
        }
    )
    out = out.loc[out["antecedent"].map(len) > 0]
    out = out.sort_values(
        ["score", "confidence", "lift", "scope", "antecedent", "consequent"],
        ascending=[False, False, False, True, True, True],
        kind="stable",
    ).reset_index(drop=True)
    out["rule_id"] = np.arange(len(out))
    out["n_ante"] = out["antecedent"].map(len)
    return out


def _fire(hist: pd.DataFrame, rules: pd.DataFrame) -> pd.DataFrame:
    """(customer_id, item, rule_id) for every consequent item of every rule that fires.

    `hist` has customer_id, item and scope: the rule scope each customer is matched against.
    """
    if hist.empty or rules.empty:
        return pd.DataFrame(columns=["customer_id", "item", "rule_id"])
    ante = (
        rules[["rule_id", "scope", "antecedent"]]
        .explode("antecedent")
        .rename(columns={"antecedent": "item"})
        .astype({"item": "str", "scope": "str"})
    )
    matched = hist.merge(ante, on=["scope", "item"], how="inner")
    hits = matched.groupby(["customer_id", "rule_id"], sort=False).size().rename("hits")
    hits = hits.reset_index()
    n_ante = rules.set_index("rule_id")["n_ante"]
    fired = hits.loc[hits["hits"].to_numpy() == n_ante.loc[hits["rule_id"]].to_numpy()]
    cons = (
        rules[["rule_id", "consequent"]]
        .explode("consequent")
        .rename(columns={"consequent": "item"})
        .astype({"item": "str"})
    )
    return fired[["customer_id", "rule_id"]].merge(cons, on="rule_id", how="inner")


def _best(cands: pd.DataFrame, history: Mapping[str, Iterable[str]]) -> pd.DataFrame:
    """Drop bought items, then keep the best rule per (customer, item): rule_id is score order."""
    cands = drop_seen(cands, history)
    cands = cands.sort_values(["customer_id", "item", "rule_id"], kind="stable")
    return cands.drop_duplicates(["customer_id", "item"], keep="first")


def _reasons(picked: pd.DataFrame, rules: pd.DataFrame, segment: pd.Series) -> list[str]:
    r = rules.set_index("rule_id").loc[picked["rule_id"]]
    seg = picked["customer_id"].map(segment)
    out = []
    for ante, conf, lift, scope, s in zip(
        r["antecedent"], r["confidence"], r["lift"], r["scope"], seg, strict=True
    ):
        bought = " + ".join(ante)
        tail = f"-> rule conf {conf:.2f} lift {lift:.1f}"
        if scope != OVERALL:
            out.append(f"bought {bought} in segment {scope} {tail}")
        elif isinstance(s, str):
            out.append(f"bought {bought} (overall rule, no segment {s} rule fired) {tail}")
        else:
            out.append(f"bought {bought} (overall rule, customer has no segment) {tail}")
    return out


def recommend(
    history: Mapping[str, Iterable[str]],
    segment_of: pd.Series,
    rules: pd.DataFrame,
    k: int = 10,
    score: str = "confidence",
    fallback_overall: bool = True,
) -> pd.DataFrame:
    """Top-k consequents of the customer's segment rules, or of the overall rules as fallback.

    "No firing rule" means no segment rule yields an item the customer has not bought yet: a rule
    whose consequents are all in the history recommends nothing, so it should not block the
    fallback. Customers without a segment only get overall rules.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if score not in SCORES:
        raise ValueError(f"recommend.score: unknown score {score!r}; one of {list(SCORES)}")
    if rules.empty:  # e.g. no rule met the thresholds; its columns may be missing too
        return empty_recs()
    prepared = _prepare(rules, score)
    segment = segment_labels(segment_of)
    hist = history_pairs(history)
    if hist.empty or prepared.empty:
        return empty_recs()

    seg_rules = prepared.loc[prepared["scope"] != OVERALL]
    hist_seg = hist.assign(scope=hist["customer_id"].map(segment)).dropna(subset=["scope"])
    picked = _best(_fire(hist_seg, seg_rules), history)

    if fallback_overall:
        served = set(picked["customer_id"])
        rest = hist.loc[~hist["customer_id"].isin(served)].assign(scope=OVERALL)
        overall = _best(_fire(rest, prepared.loc[prepared["scope"] == OVERALL]), history)
        picked = pd.concat([picked, overall], ignore_index=True)
    if picked.empty:
        return empty_recs()

    score_of = prepared.set_index("rule_id")["score"]
    picked = picked.assign(score=score_of.loc[picked["rule_id"]].to_numpy(), source=SOURCE)
    # reasons are formatted only for the rows that survive top-k: string work is the slow part
    picked = picked.sort_values(
        ["customer_id", "score", "item"], ascending=[True, False, True], kind="stable"
    )
    picked = picked.loc[picked.groupby("customer_id", sort=False).cumcount().to_numpy() < k]
    picked = picked.assign(reason=_reasons(picked, prepared, segment))
    return finish(picked, k)
