"""Rules from itemsets: hand-computed measures, mlxtend's numbers, filters and redundancy.

The measures are checked on TINY (tests/rules/helpers.py), whose itemset counts are listed there.
"""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from custseg.rules.guard import MiningTooLarge
from custseg.rules.rules import RULE_COLUMNS, association_rules, scope_rules
from tests.rules.helpers import TINY, baskets_of, itemsets_of, rule


def test_no_frequent_items_gives_empty_frames():
    b = baskets_of(TINY)
    sets = itemsets_of(b, 0.9)
    assert sets.empty and list(sets.columns) == ["itemsets", "support", "count"]
    rules = association_rules(sets, b.n_baskets)
    assert rules.empty and list(rules.columns) == list(RULE_COLUMNS)


def test_rule_measures_by_hand():
    b = baskets_of(TINY)
    rules = association_rules(itemsets_of(b, 0.2), b.n_baskets)
    assert list(rules.columns) == list(RULE_COLUMNS)
    # ab ac bc ae be give 2 rules each, abe gives 6
    assert len(rules) == 16

    r = rule(rules, "a", "b")  # s(a)=.6 s(b)=.6 s(ab)=.4
    assert r["antecedent_support"] == pytest.approx(0.6)
    assert r["consequent_support"] == pytest.approx(0.6)
    assert r["support"] == pytest.approx(0.4)
    assert r["confidence"] == pytest.approx(2 / 3)
    assert r["lift"] == pytest.approx(10 / 9)  # (2/3) / .6
    assert r["leverage"] == pytest.approx(0.04)  # .4 - .36
    assert r["conviction"] == pytest.approx(1.2)  # .4 / (1/3)
    assert r["zhang"] == pytest.approx(0.25)  # .04 / max(.4*.4, .6*(.6-.4))
    assert r["jaccard"] == pytest.approx(0.5)  # .4 / (.6+.6-.4)
    assert r["count"] == 4

    r = rule(rules, "c", "a")  # s(c)=.4 s(a)=.6 s(ac)=.2: a negative association
    assert r["confidence"] == pytest.approx(0.5)
    assert r["lift"] == pytest.approx(5 / 6)
    assert r["leverage"] == pytest.approx(-0.04)
    assert r["conviction"] == pytest.approx(0.8)  # .4 / .5
    assert r["zhang"] == pytest.approx(-0.25)  # -.04 / max(.2*.6, .4*(.6-.2))
    assert r["jaccard"] == pytest.approx(0.25)  # .2 / (.4+.6-.2)

    r = rule(rules, "e", "a")  # e only ever with a: confidence 1
    assert r["confidence"] == 1.0
    assert r["lift"] == pytest.approx(5 / 3)
    assert r["leverage"] == pytest.approx(0.08)  # .2 - .2*.6
    assert math.isinf(r["conviction"])
    assert r["zhang"] == pytest.approx(0.5)  # .08 / max(.2*.8, .2*(.6-.2))
    assert r["jaccard"] == pytest.approx(1 / 3)

    r = rule(rules, "ab", "e")  # s(ab)=.4 s(e)=.2 s(abe)=.2
    assert (r["antecedent_support"], r["consequent_support"]) == pytest.approx((0.4, 0.2))
    assert r["confidence"] == pytest.approx(0.5)
    assert r["lift"] == pytest.approx(2.5)
    assert r["leverage"] == pytest.approx(0.12)
    assert r["conviction"] == pytest.approx(1.6)  # .8 / .5
    assert r["zhang"] == pytest.approx(1.0)  # .12 / max(.2*.6, .4*(.2-.2))
    assert r["jaccard"] == pytest.approx(0.5)  # .2 / (.4+.2-.2)
    assert r["count"] == 2

    r = rule(rules, "e", "ab")
    assert r["confidence"] == 1.0 and math.isinf(r["conviction"])
    assert r["zhang"] == pytest.approx(0.75)  # .12 / max(.2*.8, .2*(.4-.2))

    # sorted by lift, descending
    assert rules["lift"].is_monotonic_decreasing


def test_rule_measures_match_mlxtend():
    from mlxtend.frequent_patterns import association_rules as mlx_rules

    b = baskets_of(TINY)
    sets = itemsets_of(b, 0.2)
    ours = association_rules(sets, b.n_baskets)
    theirs = mlx_rules(sets[["support", "itemsets"]], num_itemsets=b.n_baskets,
                       metric="confidence", min_threshold=0.0)  # fmt: skip
    theirs = theirs.assign(
        antecedent=theirs["antecedents"].map(lambda s: tuple(sorted(s))),
        consequent=theirs["consequents"].map(lambda s: tuple(sorted(s))),
    ).rename(
        columns={
            "antecedent support": "antecedent_support",
            "consequent support": "consequent_support",
            "zhangs_metric": "zhang",
        }
    )
    merged = ours.merge(theirs, on=["antecedent", "consequent"], suffixes=("", "_mlx"))
    assert len(merged) == len(ours) == len(theirs)
    for col in ("antecedent_support", "consequent_support", "support", "confidence", "lift",
                "leverage", "conviction", "zhang", "jaccard"):  # fmt: skip
        np.testing.assert_allclose(merged[col], merged[f"{col}_mlx"], rtol=1e-12, err_msg=col)


def test_confidence_and_lift_filters():
    b = baskets_of(TINY)
    sets = itemsets_of(b, 0.2)
    everything = association_rules(sets, b.n_baskets)
    conf = association_rules(sets, b.n_baskets, min_confidence=0.6)
    assert len(conf) == (everything["confidence"] >= 0.6).sum() > 0
    assert conf["confidence"].min() >= 0.6
    lift = association_rules(sets, b.n_baskets, min_lift=1.0)
    assert len(lift) == (everything["lift"] >= 1.0).sum()
    assert not ((lift["antecedent"] == ("c",)) & (lift["consequent"] == ("a",))).any()


def test_itemsets_missing_a_subset_are_refused():
    sets = pd.DataFrame({"itemsets": [frozenset("ab"), frozenset("a")], "support": [0.5, 0.5],
                         "count": [5, 5]})  # fmt: skip
    with pytest.raises(ValueError, match="not closed under subsets"):
        association_rules(sets, 10)


def test_scope_rules_passes_its_thresholds_and_names_the_scope():
    b = baskets_of(TINY)
    sets = itemsets_of(b, 0.2)
    rules, got = scope_rules("3", b.n_baskets, lambda: sets, min_confidence=0.6, min_lift=1.0,
                             prune_redundant=True)  # fmt: skip
    assert got is sets
    want = association_rules(sets, b.n_baskets, min_confidence=0.6, min_lift=1.0,
                             prune_redundant=True)  # fmt: skip
    assert list(rules.columns) == ["segment", *RULE_COLUMNS, "n_baskets"]
    assert set(rules["segment"]) == {"3"} and set(rules["n_baskets"]) == {10}
    pd.testing.assert_frame_equal(rules[list(RULE_COLUMNS)], want)

    def explode() -> pd.DataFrame:
        raise MiningTooLarge("rules.min_support=0.001 is too low", 7, 99, 0.25)

    with pytest.raises(MiningTooLarge, match=r"^scope '3': rules\.min_support=0\.001") as err:
        scope_rules("3", 10, explode, min_confidence=0.0, min_lift=0.0, prune_redundant=False)
    assert (err.value.items, err.value.pairs, err.value.suggested_support) == (7, 99, 0.25)


# ---------------------------------------------------------------- redundancy


def test_prune_redundant_against_an_immediate_subset():
    # a -> c: 4/5 = .8; {a,x} -> c: 1/2 (redundant); {a,y} -> c: 2/2 beats a (.8) and y (2/3)
    b = baskets_of(["ac", "acy", "acy", "axc", "ax", "y"])
    sets = itemsets_of(b, 1 / 6)
    full = association_rules(sets, b.n_baskets)
    assert rule(full, "a", "c")["confidence"] == pytest.approx(0.8)
    assert rule(full, "ax", "c")["confidence"] == pytest.approx(0.5)
    assert rule(full, "ay", "c")["confidence"] == 1.0
    assert rule(full, "y", "c")["confidence"] == pytest.approx(2 / 3)
    pruned = association_rules(sets, b.n_baskets, prune_redundant=True)
    keys = set(zip(pruned["antecedent"], pruned["consequent"], strict=True))
    assert (("a", "x"), ("c",)) not in keys
    assert (("a", "y"), ("c",)) in keys
    # single-item antecedents have no smaller antecedent: never pruned
    singles = full[full["antecedent"].map(len) == 1]
    assert len(pruned[pruned["antecedent"].map(len) == 1]) == len(singles)
    # every pruned rule really has a subset antecedent with at least its confidence
    conf = dict(zip(zip(full["antecedent"], full["consequent"], strict=True), full["confidence"],
                    strict=True))  # fmt: skip
    for a, c, x in zip(full["antecedent"], full["consequent"], full["confidence"], strict=True):
        subs = [s for r in range(1, len(a)) for s in combinations(a, r)]
        redundant = any(conf[(s, c)] >= x for s in subs)
        assert ((a, c) not in keys) == redundant, (a, c)


def test_prune_redundant_looks_past_the_immediate_subsets():
    # {a,x,z} -> c has confidence .75, above its immediate subsets ({a,x}, {a,z}, {x,z}: 3/8)
    # but below a -> c (33/42): redundant only through the two-steps-smaller antecedent {a}
    rows = ["ac"] * 30 + ["axzc"] * 3 + ["axz"] + ["ax"] * 4 + ["az"] * 4 + ["xz"] * 4
    b = baskets_of(rows)
    sets = itemsets_of(b, 1 / len(rows))
    full = association_rules(sets, b.n_baskets)
    assert rule(full, "axz", "c")["confidence"] == pytest.approx(0.75)
    for sub in ("ax", "az", "xz"):
        assert rule(full, sub, "c")["confidence"] == pytest.approx(3 / 8)
    assert rule(full, "a", "c")["confidence"] == pytest.approx(33 / 42)
    pruned = association_rules(sets, b.n_baskets, prune_redundant=True)
    keys = set(zip(pruned["antecedent"], pruned["consequent"], strict=True))
    assert (("a", "x", "z"), ("c",)) not in keys
    assert (("a",), ("c",)) in keys
