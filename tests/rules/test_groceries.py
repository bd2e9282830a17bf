"""Issue 15: supports are shares of ALL the baskets of a scope, checked on Kaggle Groceries.

custseg mines the member x day baskets the way a run does (data=groceries, clean, make_baskets,
mine, overall and per segment); the test recounts everything independently from the raw CSV
with pandas and mlxtend on a dense one-hot of every basket, the denominator being every basket
of the scope. At rules.min_item_count=30 the rare-item pruning empties 2 baskets: before the
fix they left the denominator (14,961 instead of 14,963) and every support and lift shifted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from mlxtend.frequent_patterns import association_rules as mlxtend_rules
from mlxtend.frequent_patterns import fpgrowth

from custseg.rules.baskets import make_baskets
from custseg.rules.mining import frequent_itemsets, mine
from tests.conftest import make_config

CONFIDENCE = 0.05
MAX_LEN = 3


@pytest.fixture(scope="module")
def onehot(groceries_path) -> pd.DataFrame:
    """Every basket (member x day) x item, bool; index (member, day). Raw CSV, plain pandas."""
    raw = pd.read_csv(groceries_path)
    raw = raw.assign(
        item=raw["itemDescription"].str.strip(),  # as custseg's loader: 'cream cheese ' is one
        day=pd.to_datetime(raw["Date"], format="%d-%m-%Y"),
    )
    # crosstab > 0: an item listed twice in a basket is in it once
    return pd.crosstab([raw["Member_number"], raw["day"]], raw["item"]).gt(0)


def _independent(x: pd.DataFrame, support: float) -> tuple[dict, dict]:
    """mlxtend on the scope's one-hot: {itemset: support}, {(ante, cons): measures}."""
    sets = fpgrowth(x, min_support=support, use_colnames=True, max_len=MAX_LEN)
    rules = mlxtend_rules(sets, num_itemsets=len(x), metric="confidence",
                          min_threshold=CONFIDENCE)  # fmt: skip
    return (
        dict(zip(sets["itemsets"], sets["support"], strict=True)),
        {
            (tuple(sorted(a)), tuple(sorted(c))): (s, conf, lift)
            for a, c, s, conf, lift in rules[
                ["antecedents", "consequents", "support", "confidence", "lift"]
            ].itertuples(index=False)
        },
    )


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("support", "min_item_count", "emptied", "expected_all"),
    [
        # itemsets of 1-3 items; nothing is emptied at the YAML's min_item_count
        (0.001, 5, 0, (750, 450)),
        # 41 items under 30 baskets dropped, 2 baskets emptied; 30 = a segment's threshold,
        # so no dropped item could have been frequent in any scope
        (0.004, 30, 2, (163, 82)),
    ],
)
def test_groceries_supports_use_every_basket_of_the_scope(
    groceries_lines, onehot, support, min_item_count, emptied, expected_all
):
    cfg = make_config(
        "data=groceries", f"rules.min_support={support}", f"rules.min_confidence={CONFIDENCE}",
        "rules.min_lift=0", "rules.prune_redundant=false", f"rules.max_len={MAX_LEN}",
        f"rules.min_item_count={min_item_count}", "rules.min_baskets=30",
    ).rules  # fmt: skip
    b = make_baskets(groceries_lines, cfg.basket, cfg.item, cfg.min_item_count)
    assert b.n_baskets == len(onehot) == 14_963
    assert b.emptied_baskets == emptied
    customers = pd.Index(pd.unique(b.keys["customer_id"]))
    segments = pd.Series(customers.astype(int) % 2, index=customers)  # two halves of members
    rules, _ = mine(b, segments, cfg)

    member_half = onehot.index.get_level_values("Member_number").to_numpy() % 2
    scopes = {"all": np.ones(len(onehot), dtype=bool), "0": member_half == 0,
              "1": member_half == 1}  # fmt: skip
    per_basket = b.keys["customer_id"].astype(int).to_numpy() % 2
    masks = {"all": np.ones(b.n_baskets, dtype=bool), "0": per_basket == 0,
             "1": per_basket == 1}  # fmt: skip
    for scope, keep in scopes.items():
        want_sets, want_rules = _independent(onehot[keep], support)
        sub = b.subset(masks[scope])
        assert sub.n_baskets == int(keep.sum()), scope  # the denominator: all its baskets

        sets = frequent_itemsets(sub, support, engine=cfg.engine,
                                 max_itemsets=cfg.max_itemsets, max_len=MAX_LEN)  # fmt: skip
        got_sets = dict(zip(sets["itemsets"], sets["support"], strict=True))
        assert set(got_sets) == set(want_sets), scope
        for s, v in want_sets.items():
            assert got_sets[s] == pytest.approx(v, rel=1e-12), (scope, s)

        mined = rules[rules["segment"] == scope]
        assert (mined["n_baskets"] == keep.sum()).all(), scope
        got_rules = {
            (a, c): (s, conf, lift)
            for a, c, s, conf, lift in mined[
                ["antecedent", "consequent", "support", "confidence", "lift"]
            ].itertuples(index=False)
        }
        assert len(got_rules) == len(mined) == len(want_rules), scope
        assert set(got_rules) == set(want_rules), scope
        for key, v in want_rules.items():
            assert got_rules[key] == pytest.approx(v, rel=1e-12), (scope, key)
        if scope == "all":
            assert (len(got_sets), len(got_rules)) == expected_all
        assert len(want_rules) > 0 and max(map(len, want_sets)) >= 2
