"""Frequent itemsets and mining per scope: engine agreement, planted pairs, the config's knobs.

Itemset counts are compared with set inclusion over the baskets and, on Online Retail, with an
independent count in plain pandas and itertools. TINY is described in tests/rules/helpers.py.
"""

from __future__ import annotations

from collections import Counter
from itertools import combinations
from typing import get_args

import numpy as np
import pandas as pd
import pytest

from custseg.config.schema import Rules
from custseg.rules.baskets import make_baskets
from custseg.rules.engines import ENGINES
from custseg.rules.guard import MiningTooLarge, min_count
from custseg.rules.mining import frequent_itemsets, mine
from custseg.rules.rules import RULE_COLUMNS, association_rules
from tests.conftest import make_config
from tests.rules.helpers import (
    NO_FILTERS,
    TINY,
    YAML_RULES,
    baskets_of,
    demo_baskets,
    itemsets_of,
    rows_as_sets,
)

# ---------------------------------------------------------------- itemsets


def test_engines_are_the_configs_choices():
    assert set(ENGINES) == set(get_args(Rules.model_fields["engine"].annotation))


@pytest.mark.parametrize("engine", list(ENGINES))
def test_tiny_itemsets_every_engine(engine):
    b = baskets_of(TINY)
    sets = itemsets_of(b, 0.2, engine=engine)
    assert list(sets.columns) == ["itemsets", "support", "count"]
    got = {"".join(sorted(s)): int(c) for s, c in zip(sets["itemsets"], sets["count"], strict=True)}
    assert got == {"a": 6, "b": 6, "c": 4, "e": 2, "ab": 4, "ac": 2, "bc": 2, "ae": 2, "be": 2,
                   "abe": 2}  # fmt: skip
    assert np.allclose(sets["support"], sets["count"] / 10)
    # deterministic order: support descending, then sorted items
    assert [tuple(sorted(s)) for s in sets["itemsets"]] == [
        ("a",), ("b",), ("a", "b"), ("c",), ("a", "b", "e"), ("a", "c"), ("a", "e"),
        ("b", "c"), ("b", "e"), ("e",),
    ]  # fmt: skip
    assert all(type(x) is str for s in sets["itemsets"] for x in s)
    assert sets["count"].dtype == np.int64
    # max_len caps the itemset size
    assert itemsets_of(b, 0.2, max_len=2, engine=engine)["itemsets"].map(len).max() == 2
    assert len(itemsets_of(b, 0.2, max_len=1, engine=engine)) == 4


@pytest.mark.parametrize("engine", list(ENGINES))
def test_threshold_at_a_float_edge_is_the_same_for_every_engine(engine):
    # 0.07 * 100 baskets is 7.000000000000001: a plain ceil would demand 8 baskets
    b = baskets_of(["ab"] * 7 + ["c"] * 6 + ["z"] * 87)
    sets = itemsets_of(b, 0.07, engine=engine)
    got = {"".join(sorted(s)): int(c) for s, c in zip(sets["itemsets"], sets["count"], strict=True)}
    assert got == {"z": 87, "a": 7, "b": 7, "ab": 7}


@pytest.mark.parametrize("engine", list(ENGINES))
def test_an_item_in_every_basket_is_still_reported(engine):
    # pyfim 6.28 drops items present in every transaction unless told otherwise
    b = baskets_of(["ab"] * 5 + ["a"])
    sets = itemsets_of(b, 0.5, engine=engine)
    got = {"".join(sorted(s)): int(c) for s, c in zip(sets["itemsets"], sets["count"], strict=True)}
    assert got == {"a": 6, "b": 5, "ab": 5}
    same = itemsets_of(baskets_of(["abc"] * 4), 1.0, engine=engine)
    assert len(same) == 7 and (same["count"] == 4).all()


def test_bad_engine_support_and_max_len_are_named():
    b = baskets_of(TINY)
    limit = YAML_RULES.max_itemsets
    with pytest.raises(ValueError, match=r"rules\.engine.*'eclair'.*fpgrowth"):
        frequent_itemsets(b, 0.2, engine="eclair", max_itemsets=limit)
    with pytest.raises(ValueError, match=r"rules\.min_support"):
        frequent_itemsets(b, 0.0, engine="fpgrowth", max_itemsets=limit)
    with pytest.raises(ValueError, match=r"rules\.min_support"):
        frequent_itemsets(b, 1.5, engine="fpgrowth", max_itemsets=limit)
    with pytest.raises(ValueError, match=r"rules\.max_len"):
        frequent_itemsets(b, 0.2, engine="fpgrowth", max_itemsets=limit, max_len=0)


def test_engines_agree_on_demo_baskets(demo30k):
    b = demo30k
    assert b.n_baskets > 3_000
    sets_ = {e: itemsets_of(b, 0.005, engine=e) for e in ENGINES}
    ref = sets_["fim"]
    assert ref["itemsets"].map(len).max() >= 3  # more than pairs, or the test says little
    for e, got in sets_.items():
        pd.testing.assert_frame_equal(got, ref, obj=e)
    pairs_and_singles = ref[ref["itemsets"].map(len) <= 2].reset_index(drop=True)
    for e in ENGINES:
        capped = itemsets_of(b, 0.005, max_len=2, engine=e)
        pd.testing.assert_frame_equal(capped, pairs_and_singles, obj=e)
    # and every count is right, recounted by set inclusion
    rows = rows_as_sets(b)
    for s, c in zip(ref["itemsets"], ref["count"], strict=True):
        assert sum(s <= r for r in rows) == c, s


# ---------------------------------------------------------------- mine, per segment


def test_mine_scopes_supports_and_skips():
    # 40 baskets: customers x (20 baskets, segment 0), y (15, segment -1), z (5, segment 1)
    rows = ["ab"] * 10 + ["a"] * 10 + ["ab"] * 15 + ["cd"] * 5
    customers = ["x"] * 20 + ["y"] * 15 + ["z"] * 5
    b = baskets_of(rows, customers)
    segments = pd.Series({"x": 0, "y": -1, "z": 1})
    cfg = YAML_RULES.model_copy(
        update={**NO_FILTERS, "min_support": 0.1, "engine": "fim", "min_baskets": 10}
    )
    rules, seconds = mine(b, segments, cfg)
    assert list(rules.columns) == ["segment", *RULE_COLUMNS, "n_baskets"]
    assert set(seconds) == {"all", "0", "-1"}  # z's 5 baskets are under min_baskets
    assert all(v >= 0 for v in seconds.values())
    assert rules["segment"].map(type).eq(str).all()
    n = rules.groupby("segment")["n_baskets"].first().to_dict()
    assert n == {"all": 40, "0": 20, "-1": 15}
    # support is relative to the scope's baskets: a -> b is in 25 of 40, 10 of 20, 15 of 15
    ab = rules[(rules["antecedent"] == ("a",)) & (rules["consequent"] == ("b",))]
    ab = ab.set_index("segment")
    assert ab.loc["all", "support"] == pytest.approx(25 / 40)
    assert ab.loc["all", "confidence"] == pytest.approx(25 / 35)
    assert ab.loc["0", "support"] == pytest.approx(0.5)
    assert ab.loc["0", "confidence"] == pytest.approx(0.5)
    assert ab.loc["-1", "confidence"] == 1.0
    assert ab["count"].to_dict() == {"all": 25, "-1": 15, "0": 10}
    # c -> d: 5 of 40 baskets overall (0.125), but z's own scope was skipped
    assert set(rules.loc[rules["antecedent"] == ("c",), "segment"]) == {"all"}

    only_all, seconds = mine(b, None, cfg)
    assert set(only_all["segment"]) == {"all"} and set(seconds) == {"all"}
    pd.testing.assert_frame_equal(only_all, rules[rules["segment"] == "all"].reset_index(drop=True))


def test_mine_divides_by_every_basket_of_the_scope_even_emptied_ones():
    # x: 4 baskets "ab" + 4 of one rare item each; y: 2 "ab". Dropping the rare items (in one
    # basket each) empties x's 4 baskets, which must still count: a -> b is in 4 of x's 8
    rows = ["ab"] * 4 + ["p", "q", "r", "s"] + ["ab"] * 2
    customers = ["x"] * 8 + ["y"] * 2
    pruned = baskets_of(rows, customers, min_item_count=2)
    assert (pruned.n_baskets, pruned.emptied_baskets, pruned.dropped_items) == (10, 4, 4)
    cfg = YAML_RULES.model_copy(update={**NO_FILTERS, "min_support": 0.2, "min_baskets": 2})
    rules, _ = mine(pruned, pd.Series({"x": 0, "y": 1}), cfg)
    ab = rules[rules["antecedent"] == ("a",)].set_index("segment")
    assert ab["n_baskets"].to_dict() == {"all": 10, "0": 8, "1": 2}
    assert ab["support"].to_dict() == {"all": 0.6, "0": 0.5, "1": 1.0}
    assert ab.loc["0", "antecedent_support"] == 0.5 and ab.loc["0", "lift"] == 2.0


def test_mine_applies_every_threshold_of_the_section(demo30k):
    # the YAML's filters (confidence, lift, max_len, redundancy) and engine, as set in conf/
    b = demo30k
    cfg = make_config("rules=apriori", "rules.min_support=0.005").rules
    assert (cfg.max_len, cfg.prune_redundant) == (3, True)
    assert cfg.min_confidence > 0 and cfg.min_lift > 0
    rules, _ = mine(b, None, cfg)
    sets = frequent_itemsets(b, 0.005, engine="fim", max_itemsets=cfg.max_itemsets, max_len=3)
    want = association_rules(sets, b.n_baskets, min_confidence=cfg.min_confidence,
                             min_lift=cfg.min_lift, prune_redundant=True)  # fmt: skip
    assert 0 < len(want) < len(association_rules(sets, b.n_baskets))
    pd.testing.assert_frame_equal(rules[list(RULE_COLUMNS)], want)
    # the guard's budget is the section's, and the error names the scope
    small = cfg.model_copy(update={"min_support": 0.0005, "max_itemsets": 1_000})
    with pytest.raises(MiningTooLarge, match=r"^scope 'all': rules\.min_support=0\.0005 "):
        mine(b, None, small)


def test_mine_finds_the_planted_pairs_in_their_segment():
    b, demo = demo_baskets(100_000, 42)
    cust = demo.truth.customers
    codes, names = pd.factorize(cust["segment"])
    segments = pd.Series(codes, index=cust["customer_id"])
    cfg = YAML_RULES.model_copy(
        update={**NO_FILTERS, "min_support": 0.02, "engine": "fpgrowth", "min_baskets": 30}
    )
    rules, seconds = mine(b, segments, cfg)
    assert set(seconds) == {"all", *map(str, range(len(names)))}
    code = {name: str(i) for i, name in enumerate(names)}
    found = []
    for p in demo.truth.pairs.itertuples():
        hit = rules[
            (rules["segment"] == code[p.segment])
            & (rules["antecedent"] == (p.antecedent,))
            & (rules["consequent"] == (p.consequent,))
        ]
        found.append(len(hit) == 1 and hit["lift"].iloc[0] > 1)
    assert np.mean(found) >= 0.9, found


# ---------------------------------------------------------------- Online Retail


@pytest.mark.slow
def test_online_retail_engines_agree_with_an_independent_count(online_retail_lines):
    tx = online_retail_lines
    b = make_baskets(tx)
    n = b.n_baskets
    assert n == 18_402  # the cleaned invoices (tests/data/test_clean.py)

    # the independent count: plain pandas and itertools, no sparse matrix, no engine
    contents = tx.groupby("invoice_id", observed=True)["product_id"].agg(set).tolist()
    assert len(contents) == n
    singles = Counter(item for basket in contents for item in basket)
    lowest = min_count(0.01, n)
    # pairs only of items frequent at the lower support: a pair is never in more baskets than
    # either of its items (and this keeps the plain-Python count to a few seconds)
    pairs = Counter(
        pair
        for basket in contents
        for pair in combinations(sorted(i for i in basket if singles[i] >= lowest), 2)
    )

    by_size = {}
    for s in (0.02, 0.01):
        k = min_count(s, n)
        got = {e: itemsets_of(b, s, engine=e) for e in ENGINES}
        for e in ENGINES:
            pd.testing.assert_frame_equal(got[e], got["fim"], obj=e)
        sets = got["fim"]
        by_size[s] = sets["itemsets"].map(len).value_counts().sort_index().to_dict()

        reported = dict(zip(sets["itemsets"], sets["count"], strict=True))
        for itemset, count in reported.items():
            assert count >= k
            assert sum(itemset <= basket for basket in contents) == count, itemset
        want_1 = {frozenset([i]): c for i, c in singles.items() if c >= k}
        want_2 = {frozenset(p): c for p, c in pairs.items() if c >= k}
        assert {s_: c for s_, c in reported.items() if len(s_) == 1} == want_1
        assert {s_: c for s_, c in reported.items() if len(s_) == 2} == want_2

    # pinned: itemsets by size on the cleaned Online Retail invoices
    assert by_size == {0.02: {1: 208, 2: 41, 3: 1}, 0.01: {1: 627, 2: 336, 3: 75, 4: 3}}
