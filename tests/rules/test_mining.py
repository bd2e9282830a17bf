"""Frequent itemsets and rules: hand-computed measures, engine agreement, planted pairs, guard.

The tiny basket set used for the measures (10 baskets):
   1 a b e    2 a b e    3 a b c    4 a c    5 b c
   6 a        7 b        8 c        9 a b   10 d
Baskets per itemset: a 6, b 6, c 4, d 1, e 2; ab 4, ac 2, bc 2, ae 2, be 2, abe 2, abc 1.
At min_support 0.2 (2 baskets) the frequent itemsets are a b c e, ab ac bc ae be, abe.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from custseg.data import sources, synthetic
from custseg.data.clean import clean
from custseg.data.schema import validate
from custseg.rules import mining
from custseg.rules.baskets import Baskets, make_baskets
from custseg.rules.mining import (
    ENGINES,
    RULE_COLUMNS,
    MiningTooLarge,
    association_rules,
    estimate_itemsets,
    frequent_itemsets,
    min_count,
    mine,
)
from tests.conftest import make_cfg

TINY = ["abe", "abe", "abc", "ac", "bc", "a", "b", "c", "ab", "d"]


def baskets_of(rows: list[str | list[str]], customers: list[str] | None = None) -> Baskets:
    """Invoice baskets from lists of items, through the canonical table and make_baskets."""
    cust, inv, prod = [], [], []
    for i, items in enumerate(rows):
        for item in items:
            cust.append(customers[i] if customers else f"c{i}")
            inv.append(f"i{i:04d}")
            prod.append(item)
    n = len(prod)
    tx = validate(
        pd.DataFrame(
            {
                "customer_id": cust,
                "invoice_id": inv,
                "invoice_date": ["2024-01-01"] * n,
                "product_id": prod,
                "quantity": [1] * n,
                "unit_price": [1.0] * n,
                "amount": [1.0] * n,
            }
        ),
        "t",
    )
    return make_baskets(tx)


def _clean_cfg() -> dict:
    return OmegaConf.to_container(make_cfg().clean, resolve=True)


def demo_baskets(n_rows: int, seed: int) -> tuple[Baskets, synthetic.Demo]:
    demo = synthetic.generate(synthetic.DemoParams(n_rows=n_rows), seed=seed)
    tx, _ = clean(demo.transactions, _clean_cfg())
    return make_baskets(tx), demo


@pytest.fixture(scope="module")
def demo30k() -> Baskets:
    return demo_baskets(30_000, 1)[0]


def rows_as_sets(b: Baskets) -> list[frozenset[str]]:
    m = b.matrix
    return [
        frozenset(str(b.items[j]) for j in m.indices[m.indptr[i] : m.indptr[i + 1]])
        for i in range(b.n_baskets)
    ]


def rule(rules: pd.DataFrame, a: str, c: str) -> pd.Series:
    hit = rules[(rules["antecedent"] == tuple(a)) & (rules["consequent"] == tuple(c))]
    assert len(hit) == 1, (a, c)
    return hit.iloc[0]


# ---------------------------------------------------------------- threshold and itemsets


def test_min_count_is_one_integer_threshold():
    assert 0.07 * 100 > 7  # float noise: 7.000000000000001
    assert min_count(0.07, 100) == 7
    assert min_count(0.071, 100) == 8
    assert min_count(0.2, 10) == 2
    assert min_count(1e-12, 10) == 1
    assert min_count(1.0, 10) == 10


@pytest.mark.parametrize("engine", list(ENGINES))
def test_tiny_itemsets_every_engine(engine):
    b = baskets_of(TINY)
    sets = frequent_itemsets(b, 0.2, engine=engine)
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
    assert frequent_itemsets(b, 0.2, max_len=2, engine=engine)["itemsets"].map(len).max() == 2
    assert len(frequent_itemsets(b, 0.2, max_len=1, engine=engine)) == 4


@pytest.mark.parametrize("engine", list(ENGINES))
def test_threshold_at_a_float_edge_is_the_same_for_every_engine(engine):
    # 0.07 * 100 baskets is 7.000000000000001: a plain ceil would demand 8 baskets
    b = baskets_of(["ab"] * 7 + ["c"] * 6 + ["z"] * 87)
    sets = frequent_itemsets(b, 0.07, engine=engine)
    got = {"".join(sorted(s)): int(c) for s, c in zip(sets["itemsets"], sets["count"], strict=True)}
    assert got == {"z": 87, "a": 7, "b": 7, "ab": 7}


@pytest.mark.parametrize("engine", list(ENGINES))
def test_an_item_in_every_basket_is_still_reported(engine):
    # pyfim 6.28 drops items present in every transaction unless told otherwise
    b = baskets_of(["ab"] * 5 + ["a"])
    sets = frequent_itemsets(b, 0.5, engine=engine)
    got = {"".join(sorted(s)): int(c) for s, c in zip(sets["itemsets"], sets["count"], strict=True)}
    assert got == {"a": 6, "b": 5, "ab": 5}
    same = frequent_itemsets(baskets_of(["abc"] * 4), 1.0, engine=engine)
    assert len(same) == 7 and (same["count"] == 4).all()


def test_bad_engine_support_and_max_len_are_named():
    b = baskets_of(TINY)
    with pytest.raises(ValueError, match=r"rules\.engine.*'eclat'.*fpgrowth"):
        frequent_itemsets(b, 0.2, engine="eclat")
    with pytest.raises(ValueError, match=r"rules\.min_support"):
        frequent_itemsets(b, 0.0)
    with pytest.raises(ValueError, match=r"rules\.min_support"):
        frequent_itemsets(b, 1.5)
    with pytest.raises(ValueError, match=r"rules\.max_len"):
        frequent_itemsets(b, 0.2, max_len=0)


def test_no_frequent_items_gives_empty_frames():
    b = baskets_of(TINY)
    sets = frequent_itemsets(b, 0.9)
    assert sets.empty and list(sets.columns) == ["itemsets", "support", "count"]
    rules = association_rules(sets, b.n_baskets)
    assert rules.empty and list(rules.columns) == list(RULE_COLUMNS)


def test_engines_agree_on_demo_baskets(demo30k):
    b = demo30k
    assert b.n_baskets > 3_000
    sets_ = {e: frequent_itemsets(b, 0.005, engine=e) for e in ENGINES}
    ref = sets_["fim"]
    assert ref["itemsets"].map(len).max() >= 3  # more than pairs, or the test says little
    for e, got in sets_.items():
        pd.testing.assert_frame_equal(got, ref, obj=e)
    pairs_and_singles = ref[ref["itemsets"].map(len) <= 2].reset_index(drop=True)
    for e in ENGINES:
        capped = frequent_itemsets(b, 0.005, max_len=2, engine=e)
        pd.testing.assert_frame_equal(capped, pairs_and_singles, obj=e)
    # and every count is right, recounted by set inclusion
    rows = rows_as_sets(b)
    for s, c in zip(ref["itemsets"], ref["count"], strict=True):
        assert sum(s <= r for r in rows) == c, s


# ---------------------------------------------------------------- rule measures


def test_rule_measures_by_hand():
    b = baskets_of(TINY)
    rules = association_rules(frequent_itemsets(b, 0.2), b.n_baskets)
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
    sets = frequent_itemsets(b, 0.2)
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
    sets = frequent_itemsets(b, 0.2)
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


# ---------------------------------------------------------------- redundancy


def test_prune_redundant_against_an_immediate_subset():
    # a -> c: 4/5 = .8; {a,x} -> c: 1/2 (redundant); {a,y} -> c: 2/2 beats a (.8) and y (2/3)
    b = baskets_of(["ac", "acy", "acy", "axc", "ax", "y"])
    sets = frequent_itemsets(b, 1 / 6)
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
    sets = frequent_itemsets(b, 1 / len(rows))
    full = association_rules(sets, b.n_baskets)
    assert rule(full, "axz", "c")["confidence"] == pytest.approx(0.75)
    for sub in ("ax", "az", "xz"):
        assert rule(full, sub, "c")["confidence"] == pytest.approx(3 / 8)
    assert rule(full, "a", "c")["confidence"] == pytest.approx(33 / 42)
    pruned = association_rules(sets, b.n_baskets, prune_redundant=True)
    keys = set(zip(pruned["antecedent"], pruned["consequent"], strict=True))
    assert (("a", "x", "z"), ("c",)) not in keys
    assert (("a",), ("c",)) in keys


# ---------------------------------------------------------------- the guard


def test_guard_refuses_a_tiny_support_and_its_suggestion_passes(demo30k):
    b = demo30k
    items, pairs = estimate_itemsets(b, 0.0005)
    assert pairs > 100
    with pytest.raises(MiningTooLarge, match=r"rules\.min_support") as err:
        frequent_itemsets(b, 0.0005, max_itemsets=1_000)
    exc = err.value
    assert isinstance(exc, ValueError)
    assert (exc.items, exc.pairs) == (items, pairs)
    assert f"{pairs:,} frequent pairs" in str(exc)
    s = exc.suggested_support
    shown = re.search(r"try rules\.min_support=([0-9.e-]+)", str(exc))
    assert shown and float(shown.group(1)) == s  # what the message shows is what passes
    assert len(shown.group(1)) <= 8  # a number a person can type
    sets = frequent_itemsets(b, s, max_itemsets=1_000)
    assert 0 < (sets["itemsets"].map(len) == 2).sum() <= 100
    assert estimate_itemsets(b, s)[1] <= 100
    # and it is the smallest such support: one basket fewer is over the limit
    k = min_count(s, b.n_baskets)
    with pytest.raises(MiningTooLarge):
        frequent_itemsets(b, (k - 1) / b.n_baskets, max_itemsets=1_000)


def test_estimate_counts_pairs_exactly(demo30k):
    b = demo30k
    sets = frequent_itemsets(b, 0.01, engine="fim")
    sizes = sets["itemsets"].map(len)
    assert estimate_itemsets(b, 0.01) == ((sizes == 1).sum(), (sizes == 2).sum())


def test_guard_falls_back_to_item_counts_when_pairs_are_too_costly(demo30k, monkeypatch):
    b = demo30k
    monkeypatch.setattr(mining, "PAIR_WORK_LIMIT", 0)
    with pytest.raises(MiningTooLarge, match=r"rules\.min_support.*too many to count") as err:
        frequent_itemsets(b, 0.001, max_itemsets=1_000)
    assert err.value.pairs is None
    s = err.value.suggested_support
    assert f"try rules.min_support={s:.12g} " in str(err.value)
    sets = frequent_itemsets(b, s, max_itemsets=1_000)
    f = (sets["itemsets"].map(len) == 1).sum()
    assert f * (f - 1) // 2 <= 100
    with pytest.raises(MiningTooLarge):
        estimate_itemsets(b, 0.001)


# ---------------------------------------------------------------- mine, per segment


def test_mine_scopes_supports_and_skips():
    # 40 baskets: customers x (20 baskets, segment 0), y (15, segment -1), z (5, segment 1)
    rows = ["ab"] * 10 + ["a"] * 10 + ["ab"] * 15 + ["cd"] * 5
    customers = ["x"] * 20 + ["y"] * 15 + ["z"] * 5
    b = baskets_of(rows, customers)
    segments = pd.Series({"x": 0, "y": -1, "z": 1})
    cfg = {"min_support": 0.1, "engine": "fim", "min_baskets": 10}
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


def test_mine_finds_the_planted_pairs_in_their_segment():
    b, demo = demo_baskets(100_000, 42)
    cust = demo.truth.customers
    codes, names = pd.factorize(cust["segment"])
    segments = pd.Series(codes, index=cust["customer_id"])
    rules, seconds = mine(b, segments, {"min_support": 0.02, "engine": "fpgrowth"})
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


@pytest.fixture(scope="module")
def online_retail_lines(online_retail_path) -> pd.DataFrame:
    cfg = OmegaConf.to_container(make_cfg("data=online_retail").data, resolve=True)
    tx, _ = clean(sources.load(cfg).transactions, _clean_cfg())
    return tx


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
        got = {e: frequent_itemsets(b, s, engine=e) for e in ENGINES}
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
