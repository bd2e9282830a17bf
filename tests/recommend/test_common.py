from __future__ import annotations

import pandas as pd

from custseg.data.schema import validate
from custseg.recommend.common import histories, segment_labels, top_k


def test_histories_are_sets_of_str_per_customer_whatever_the_id_dtype():
    tx = validate(
        pd.DataFrame(
            {
                "customer_id": pd.Categorical(["a", "a", "b", "a"]),
                "invoice_id": ["1", "1", "2", "3"],
                "invoice_date": ["2024-01-01"] * 4,
                "product_id": pd.Categorical(["x", "y", "x", "x"]),
                "quantity": [1, 1, 1, 1],
                "unit_price": [1.0] * 4,
                "amount": [1.0] * 4,
            }
        ),
        "t",
    )
    assert histories(tx) == {"a": {"x", "y"}, "b": {"x"}}


def test_segment_labels_spell_integers_like_rules_do():
    s = pd.Series([2.0, 0.0, None], index=["a", "b", "c"])
    assert segment_labels(s).to_dict() == {"a": "2", "b": "0"}
    assert segment_labels(pd.Series([-1, 3], index=[1, 2])).to_dict() == {"1": "-1", "2": "3"}


def test_top_k_breaks_ties_by_item_id():
    recs = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b"],
            "item": ["z", "b", "m", "q"],
            "score": [0.5, 0.5, 0.9, 0.1],
            "source": "x",
            "reason": "r",
        }
    )
    out = top_k(recs, 2)
    assert out["item"].tolist() == ["m", "b", "q"]
