"""Baskets small enough to count by hand, demo baskets, and the YAML's rules section for tests.

TINY (10 baskets):
   1 a b e    2 a b e    3 a b c    4 a c    5 b c
   6 a        7 b        8 c        9 a b   10 d
Baskets per itemset: a 6, b 6, c 4, d 1, e 2; ab 4, ac 2, bc 2, ae 2, be 2, abe 2, abc 1.
At min_support 0.2 (2 baskets) the frequent itemsets are a b c e, ab ac bc ae be, abe.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from custseg.clean import clean
from custseg.config.schema import Rules
from custseg.data import synthetic
from custseg.data.schema import validate
from custseg.rules.baskets import Baskets, make_baskets
from custseg.rules.mining import frequent_itemsets
from tests.conftest import make_config

TINY = ["abe", "abe", "abc", "ac", "bc", "a", "b", "c", "ab", "d"]

# the rules section as conf/ composes it by default, and the filters that keep every rule
YAML_RULES: Rules = make_config().rules
NO_FILTERS: dict[str, Any] = {
    "min_confidence": 0.0,
    "min_lift": 0.0,
    "max_len": None,
    "prune_redundant": False,
}


def itemsets_of(b: Baskets, min_support: float, **kw: Any) -> pd.DataFrame:
    """frequent_itemsets with mlxtend's FP-growth, no size limit and the YAML's guard budget
    unless `kw` says otherwise: most tests are about the itemsets, not these choices."""
    args = {"engine": "fpgrowth", "max_itemsets": YAML_RULES.max_itemsets, "max_len": None}
    return frequent_itemsets(b, min_support, **(args | kw))


def baskets_of(
    rows: list[str | list[str]], customers: list[str] | None = None, min_item_count: int = 1
) -> Baskets:
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
    return make_baskets(tx, min_item_count=min_item_count)


def demo_baskets(n_rows: int, seed: int) -> tuple[Baskets, synthetic.Demo]:
    demo = synthetic.generate(synthetic.DemoParams(n_rows=n_rows), seed=seed)
    tx, _ = clean(demo.transactions, make_config().clean)
    return make_baskets(tx), demo


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
