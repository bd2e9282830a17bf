"""Significance test and item constraints on rules (`rules.significance`, `rules.constraints`).

p-values are checked against scipy's `fisher_exact` on 2x2 tables counted here from the baskets
(not from the rules' supports), the corrections against plain loops over the textbook
definitions, and the filter end to end on synthetic baskets with a planted and a chance pair.
"""

from __future__ import annotations

import logging
from itertools import product
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact

from custseg.config import ConfigError, load
from custseg.config.schema import Rules
from custseg.rules.constraints import allowed, constrain, unknown_items
from custseg.rules.mining import mine
from custseg.rules.rules import RULE_COLUMNS, association_rules, scope_rules
from custseg.rules.significance import adjust, bh, fisher_greater, holm, rule_counts
from tests.rules.helpers import NO_FILTERS, YAML_RULES, baskets_of, itemsets_of

# 24 baskets over a-f: counted by hand below, never from the miner's numbers
ROWS = ["abc", "abc", "abc", "ab", "ab", "ab", "abd", "ac", "ad", "bc", "bd", "cd", "cde",
        "de", "de", "e", "e", "a", "b", "f", "ef", "abce", "bcd", "ae"]  # fmt: skip


def rules_cfg(**changes: Any) -> Rules:
    """The YAML's rules section with some keys changed (nested sections as dicts)."""
    data = YAML_RULES.model_dump(by_alias=True)
    for key, value in changes.items():
        data[key] = data[key] | value if isinstance(value, dict) else value
    return Rules.model_validate(data)


def sig(name: str, alpha: float, correction: str) -> dict[str, Any]:
    """A `rules.significance` section."""
    return {"test": name, "alpha": alpha, "correction": correction}


def counted_table(baskets: list[frozenset[str]], a: tuple[str, ...], c: tuple[str, ...]):
    """The 2x2 table of baskets with/without A by with/without C, counted basket by basket."""
    has_a = [set(a) <= s for s in baskets]
    has_c = [set(c) <= s for s in baskets]
    both = sum(x and y for x, y in zip(has_a, has_c, strict=True))
    only_a = sum(x and not y for x, y in zip(has_a, has_c, strict=True))
    only_c = sum(y and not x for x, y in zip(has_a, has_c, strict=True))
    return [[both, only_a], [only_c, len(baskets) - both - only_a - only_c]]


# ---------------------------------------------------------------- (a) Fisher p-values


def test_p_values_are_fishers_exact_test_on_counted_tables():
    b = baskets_of(ROWS)
    sets = [frozenset(r) for r in ROWS]
    rules = association_rules(itemsets_of(b, 2 / 24), b.n_baskets)  # every rule, lift < 1 too
    assert len(rules) > 20 and (rules["lift"] < 1).any() and (rules["lift"] > 1).any()
    p = fisher_greater(*rule_counts(rules, b.n_baskets), b.n_baskets)
    for (a, c), got in zip(zip(rules["antecedent"], rules["consequent"], strict=True), p,
                           strict=True):  # fmt: skip
        want = fisher_exact(counted_table(sets, a, c), alternative="greater").pvalue
        assert got == pytest.approx(want, rel=1e-9, abs=1e-15), (a, c)
    assert ((p >= 0) & (p <= 1)).all()


def test_each_scope_is_tested_on_its_own_baskets():
    """Segment 0's p-values come from segment 0's baskets alone (N, n_A, n_C, n_AC), and the
    columns come after the rule columns, before n_baskets."""
    rows = ROWS * 3 + ["ab", "ab", "cd", "f"] * 5
    customers = [f"c{i % 7}" for i in range(len(rows))]
    b = baskets_of(rows, customers)
    segments = pd.Series({f"c{i}": i % 2 for i in range(7)})
    cfg = rules_cfg(**NO_FILTERS, min_support=0.05, min_baskets=1,
                    significance=sig("fisher", 0.999, "none"))  # fmt: skip
    rules, _ = mine(b, segments, cfg)
    assert list(rules.columns) == ["segment", *RULE_COLUMNS, "p_value", "p_adjusted", "n_baskets"]
    assert set(rules["segment"]) == {"all", "0", "1"}
    for scope, part in rules.groupby("segment"):
        sets = [frozenset(r) for r, cust in zip(rows, customers, strict=True)
                if scope == "all" or str(segments[cust]) == scope]  # fmt: skip
        assert (part["n_baskets"] == len(sets)).all()
        for a, c, got in zip(part["antecedent"], part["consequent"], part["p_value"], strict=True):
            want = fisher_exact(counted_table(sets, a, c), alternative="greater").pvalue
            assert got == pytest.approx(want, rel=1e-9, abs=1e-15), (scope, a, c)
        assert (part["p_adjusted"] == part["p_value"]).all()  # correction none
        assert (part["p_value"] <= 0.999).all()


# ---------------------------------------------------------------- (b) corrections


def holm_loop(p: list[float]) -> list[float]:
    """Holm (1979) from its definition: sort, multiply the i-th smallest by m - i + 1, running
    maximum, cap at 1."""
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    out = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order, start=1):
        running = max(running, (m - rank + 1) * p[i])
        out[i] = min(1.0, running)
    return out


def bh_loop(p: list[float]) -> list[float]:
    """Benjamini-Hochberg (1995) adjusted p-values: the i-th smallest is min over j >= i of
    m p_(j) / j, capped at 1."""
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    out = [0.0] * m
    for pos, i in enumerate(order):
        out[i] = min(1.0, min(m * p[order[j]] / (j + 1) for j in range(pos, m)))
    return out


def test_corrections_by_hand():
    p = [0.01, 0.04, 0.03, 0.005]
    assert holm(np.array(p)) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert bh(np.array(p)) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert adjust(np.array(p), "none") == pytest.approx(p)
    assert len(holm(np.array([]))) == 0 and len(bh(np.array([]))) == 0


@pytest.mark.parametrize("seed", range(5))
def test_corrections_equal_the_textbook_definitions(seed):
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.random(40) ** 3, rng.choice([0.001, 0.02, 1.0], 10)])  # with ties
    rng.shuffle(p)
    for got, want in ((holm(p), holm_loop(list(p))), (bh(p), bh_loop(list(p)))):
        assert got == pytest.approx(want, rel=1e-12)
        assert (got >= p).all() and (got <= 1).all()
        order = np.argsort(p, kind="stable")
        assert (np.diff(got[order]) >= -1e-15).all()  # monotone in p
    assert (holm(p) >= bh(p) - 1e-15).all()  # Holm is the stricter


# ---------------------------------------------------------------- (c) planted vs chance pairs


def planted_rows(seed: int = 2, n: int = 1000) -> list[list[str]]:
    """x then y far more often than chance (y in 70% of x's baskets, 3% of the others); u and v
    independent, each in 30% of baskets; five noise items."""
    rng = np.random.default_rng(seed)
    x = rng.random(n) < 0.15
    y = np.where(x, rng.random(n) < 0.7, rng.random(n) < 0.03)
    u, v = rng.random(n) < 0.3, rng.random(n) < 0.3
    noise = rng.random((n, 5)) < 0.1
    cols = {"x": x, "y": y, "u": u, "v": v} | {f"w{k}": noise[:, k] for k in range(5)}
    return [[name for name, col in cols.items() if col[i]] or ["z"] for i in range(n)]


@pytest.mark.parametrize("correction", ["holm", "bh"])
def test_a_planted_pair_survives_and_a_chance_pair_is_dropped(correction):
    b = baskets_of(planted_rows())
    plain, _ = mine(b, None, rules_cfg(min_support=0.02))
    pairs = set(zip(plain["antecedent"], plain["consequent"], strict=True))
    # without the test, the chance pair passes the YAML's confidence and lift thresholds
    assert {(("x",), ("y",)), (("u",), ("v",)), (("v",), ("u",))} <= pairs
    uv = plain[(plain["antecedent"] == ("u",)) & (plain["consequent"] == ("v",))].iloc[0]
    assert 1.0 < uv["lift"] < 1.2
    cfg = rules_cfg(min_support=0.02, significance=sig("fisher", 0.05, correction))
    tested, _ = mine(b, None, cfg)
    kept = set(zip(tested["antecedent"], tested["consequent"], strict=True))
    assert {(("x",), ("y",)), (("y",), ("x",))} <= kept
    assert (("u",), ("v",)) not in kept and (("v",), ("u",)) not in kept
    assert kept < pairs and (tested["p_adjusted"] <= 0.05).all()
    assert (tested["p_adjusted"] >= tested["p_value"]).all()
    # kept rules keep their numbers and order
    cols = list(RULE_COLUMNS)
    same = plain.merge(tested[["antecedent", "consequent"]], on=["antecedent", "consequent"])
    pd.testing.assert_frame_equal(tested[cols], same[cols])


def test_test_none_changes_nothing():
    b = baskets_of(ROWS)
    sets = itemsets_of(b, 2 / 24)
    off, _ = scope_rules("all", b.n_baskets, lambda: sets, min_confidence=0.0, min_lift=0.0,
                         prune_redundant=False, significance=YAML_RULES.significance,
                         constraints=YAML_RULES.constraints)  # fmt: skip
    assert YAML_RULES.significance.test == "none"
    assert list(off.columns) == ["segment", *RULE_COLUMNS, "n_baskets"]
    pd.testing.assert_frame_equal(off[list(RULE_COLUMNS)], association_rules(sets, b.n_baskets))


# ---------------------------------------------------------------- (d) constraints


def breaks(a: tuple[str, ...], c: tuple[str, ...], spec: dict[str, list[str]]) -> bool:
    return (any(x in spec["antecedent_exclude"] for x in a)
            or any(x in spec["consequent_exclude"] for x in c)
            or (bool(spec["consequent_include"])
                and any(x not in spec["consequent_include"] for x in c)))  # fmt: skip


SPECS = [
    {"antecedent_exclude": ["a"], "consequent_exclude": [], "consequent_include": []},
    {"antecedent_exclude": [], "consequent_exclude": ["b", "e"], "consequent_include": []},
    {"antecedent_exclude": [], "consequent_exclude": [], "consequent_include": ["a", "c"]},
    {"antecedent_exclude": ["d"], "consequent_exclude": ["a"], "consequent_include": ["a", "b"]},
    {"antecedent_exclude": [], "consequent_exclude": [], "consequent_include": []},
]


@pytest.mark.parametrize("spec", SPECS, ids=[str(i) for i in range(len(SPECS))])
def test_constraints_drop_exactly_the_rules_that_break_them(spec):
    b = baskets_of(ROWS)
    everything = association_rules(itemsets_of(b, 2 / 24), b.n_baskets)
    assert everything["antecedent"].map(len).max() == 2  # multi-item sides are covered
    constraints = rules_cfg(constraints=spec).constraints
    got = constrain(everything, constraints)
    pairs = list(zip(everything["antecedent"], everything["consequent"], strict=True))
    want = everything[[not breaks(a, c, spec) for a, c in pairs]].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want)
    assert allowed(everything, constraints).sum() == len(want)
    if any(spec.values()):
        assert 0 < len(got) < len(everything)


def test_constraints_apply_in_every_scope_and_unknown_ids_are_logged(caplog):
    b = baskets_of(ROWS * 2, [f"c{i % 4}" for i in range(48)])
    segments = pd.Series({f"c{i}": i % 2 for i in range(4)})
    spec = {"antecedent_exclude": ["NOPE"], "consequent_exclude": ["a", "POST"],
            "consequent_include": []}  # fmt: skip
    cfg = rules_cfg(**NO_FILTERS, min_support=0.05, min_baskets=1, constraints=spec)
    with caplog.at_level(logging.WARNING, logger="custseg.rules.constraints"):
        rules, _ = mine(b, segments, cfg)
    assert set(rules["segment"]) == {"all", "0", "1"}
    assert not rules["consequent"].map(lambda c: "a" in c).any()
    assert rules["antecedent"].map(lambda a: "a" in a).any()  # a may still recommend
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "rules.constraints.antecedent_exclude: ['NOPE']" in logged
    assert "rules.constraints.consequent_exclude: ['POST']" in logged
    assert "'a'" not in logged
    assert unknown_items(cfg.constraints, b.items) == {"antecedent_exclude": ["NOPE"],
                                                       "consequent_exclude": ["POST"]}  # fmt: skip


# ---------------------------------------------------------------- (e) config


def test_the_yaml_defaults_change_nothing():
    assert YAML_RULES.significance.model_dump() == {"test": "none", "alpha": 0.05,
                                                    "correction": "holm"}  # fmt: skip
    assert not any(YAML_RULES.constraints.model_dump().values())


@pytest.mark.parametrize(
    ("overrides", "key", "hint"),
    [
        (["rules.significance.test=chi2"], "rules.significance.test", "none, fisher"),
        (["rules.significance.alpha=1.5"], "rules.significance.alpha", "below 1"),
        (["rules.significance.alpha=0"], "rules.significance.alpha", "above 0"),
        (["rules.significance.correction=bonferoni"], "rules.significance.correction",
         "holm, bh, none"),
        (["rules.constraints.consequent_exclude=POST"], "rules.constraints.consequent_exclude",
         "list"),
        (["rules.constraints.antecedent_exclude=[M,true]"],
         "rules.constraints.antecedent_exclude[1]", "string"),
        (["rules.constraints.consequent_inclde=[a]"], "rules.constraints.consequent_inclde",
         "did you mean 'consequent_include'"),
    ],
)  # fmt: skip
def test_a_bad_value_is_refused_naming_its_key(overrides, key, hint):
    with pytest.raises(ConfigError) as err:
        load(overrides)
    assert err.value.key == key and str(err.value).startswith(key), str(err.value)
    assert hint in str(err.value), str(err.value)


def test_numeric_item_ids_are_read_as_strings():
    cfg = load(["rules.significance.test=fisher", "rules.constraints.consequent_exclude=[22423,M]"])
    assert cfg.rules.constraints.consequent_exclude == ["22423", "M"]  # type: ignore[union-attr]
    assert cfg.rules.significance.test == "fisher"  # type: ignore[union-attr]


def test_every_pair_of_test_and_correction_runs():
    b = baskets_of(ROWS)
    for name, correction in product(["none", "fisher"], ["holm", "bh", "none"]):
        cfg = rules_cfg(min_support=2 / 24, min_baskets=1, significance=sig(name, 0.5, correction))
        rules, _ = mine(b, None, cfg)
        assert ("p_value" in rules) == (name == "fisher")
