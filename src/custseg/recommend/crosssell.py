"""Cross-sell from association rules: what customers like this one bought next to what it has.

Rules mined inside a segment describe that segment's baskets, so a customer is served its own
segment's rules first; the rules mined over all baskets are the fallback for customers whose
segment offers nothing (few baskets, no rule above the thresholds).

Rules are matched on integer codes: one sparse product of the customers x items history with
the items x rules antecedent matrix counts the matched antecedent items per (customer, rule),
per rule scope; a rule fires when every antecedent item matched. Never a loop over customers,
never a join on strings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from custseg.recommend.codes import labels_of
from custseg.recommend.frame import empty_recs, recs_from_codes
from custseg.recommend.history import History, as_history
from custseg.recommend.kernels import fits_int64, group_starts, unique_inverse
from custseg.recommend.segments import segment_codes

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


def _itemset_matrix(itemsets: Sequence[tuple[str, ...]], items: pd.Index) -> sp.csr_matrix:
    """Rules x items 0/1 matrix of antecedents or consequents (in `items` column codes)."""
    lengths = np.fromiter(map(len, itemsets), dtype=np.int64, count=len(itemsets))
    cols = items.get_indexer(pd.Index([i for s in itemsets for i in s], dtype="str"))
    indptr = np.r_[0, np.cumsum(lengths)]
    return sp.csr_matrix(
        (np.ones(len(cols), dtype=np.int32), cols, indptr), shape=(len(itemsets), len(items))
    )


def _fire(
    h: sp.csr_matrix,
    customer_scope: np.ndarray,
    rule_scope: np.ndarray,
    ante: sp.csr_matrix,
    n_ante: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(customer row, rule id) of every rule that fires: per scope, one sparse product counts
    the customer's items in each antecedent, and a rule fires when the count is its length.

    Customers are matched only against rules of their own scope (-1: none).
    """
    cs, rs = [], []
    for scope in np.unique(rule_scope[rule_scope >= 0]):
        rows = np.flatnonzero(customer_scope == scope)
        rids = np.flatnonzero(rule_scope == scope)
        if len(rows) == 0:
            continue
        hits = (h[rows] @ ante[rids].T).tocoo()
        fired = hits.data == n_ante[rids[hits.col]]
        cs.append(rows[hits.row[fired]])
        rs.append(rids[hits.col[fired]])
    if not cs:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(cs).astype(np.int64), np.concatenate(rs).astype(np.int64)


def _best(
    fired: tuple[np.ndarray, np.ndarray],
    cons: sp.csr_matrix,
    hist: History,
    hist_col: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Consequents of the fired rules the customer has not bought, each with its best rule:
    (customer row, item code, rule id); rule ids are in score order, so best = smallest."""
    c, r = fired
    lengths = np.diff(cons.indptr)[r]
    c, r = np.repeat(c, lengths), np.repeat(r, lengths)
    first = np.repeat(np.cumsum(lengths) - lengths, lengths)
    item = cons.indices[cons.indptr[r] + np.arange(len(r)) - first].astype(np.int64)
    fresh = ~hist.contains(c, hist_col[item])
    c, r, item = c[fresh], r[fresh], item[fresh]
    n_items, n_rules = max(cons.shape[1], 1), max(cons.shape[0], 1)
    if fits_int64(len(hist), n_items, n_rules):
        order = np.argsort((c * n_items + item) * n_rules + r)
    else:
        order = np.lexsort((r, c * n_items + item))
    best = order[group_starts((c * n_items + item)[order])]
    return c[best], item[best], r[best]


def _reason(ante: tuple[str, ...], conf: float, lift: float, scope: str, seg: str | None) -> str:
    bought = " + ".join(ante)
    tail = f"-> rule conf {conf:.2f} lift {lift:.1f}"
    if scope != OVERALL:
        return f"bought {bought} in segment {scope} {tail}"
    if seg is not None:
        return f"bought {bought} (overall rule, no segment {seg} rule fired) {tail}"
    return f"bought {bought} (overall rule, customer has no segment) {tail}"


def _reasons(
    prepared: pd.DataFrame, rule: np.ndarray, segment: np.ndarray, seg_labels: pd.Index
) -> tuple[np.ndarray, list[str]]:
    """One text per distinct (rule, customer's segment) case, and each pick's code into them.

    Segment rules read the same for everyone; overall rules say which segment (if any) had
    nothing to offer, so their text depends on the customer's segment too.
    """
    n_cases = len(seg_labels) + 1  # 0: a segment rule, or a customer without segment
    overall = prepared["scope"].to_numpy(dtype=object) == OVERALL
    key = rule * n_cases + np.where(overall[rule], segment + 1, 0)
    uniq, code = unique_inverse(key, len(prepared) * n_cases)
    ante, scope = prepared["antecedent"].tolist(), prepared["scope"].tolist()
    conf, lift = prepared["confidence"].to_numpy(), prepared["lift"].to_numpy()
    segs = [None, *seg_labels.tolist()]
    texts = [
        _reason(ante[r], conf[r], lift[r], scope[r], segs[case])
        for r, case in zip((uniq // n_cases).tolist(), (uniq % n_cases).tolist(), strict=True)
    ]
    return code, texts


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
    hist = as_history(history)
    if hist.nnz == 0 or prepared.empty:
        return empty_recs()

    # one item numbering for history and rules: rules may name items nobody has bought
    rule_items = [i for col in ("antecedent", "consequent") for s in prepared[col] for i in s]
    known = np.asarray(hist.item_labels, dtype=object)
    _, items = labels_of(np.concatenate([known, np.asarray(rule_items, dtype=object)]))
    h = hist.columns_in(items, np.int32)
    hist_col = hist.item_labels.get_indexer(items)
    ante = _itemset_matrix(list(prepared["antecedent"]), items)
    cons = _itemset_matrix(list(prepared["consequent"]), items)
    n_ante = prepared["n_ante"].to_numpy()
    scope, scopes = labels_of(prepared["scope"])
    segment, seg_labels = segment_codes(segment_of, hist.customers)

    is_overall = (scopes == OVERALL)[scope]
    own = np.where(segment >= 0, scopes.get_indexer(seg_labels)[np.maximum(segment, 0)], -1)
    fired = _fire(h, own, np.where(is_overall, -1, scope), ante, n_ante)
    c, item, rule = _best(fired, cons, hist, hist_col)

    if fallback_overall:
        rest = np.ones(len(hist), dtype=bool)
        rest[c] = False
        fired = _fire(h, np.where(rest, 0, -1), np.where(is_overall, 0, -1), ante, n_ante)
        more = _best(fired, cons, hist, hist_col)
        c, item, rule = (np.concatenate(pair) for pair in zip((c, item, rule), more, strict=True))
    if len(c) == 0:
        return empty_recs()
    reason, texts = _reasons(prepared, rule, segment[c], seg_labels)
    scores = prepared["score"].to_numpy(dtype=np.float64)[rule]
    return recs_from_codes(c, hist.customers, item, items, scores, SOURCE, reason, texts, k)
