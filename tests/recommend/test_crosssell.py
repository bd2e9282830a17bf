from __future__ import annotations

import pandas as pd
import pytest

from custseg.recommend import crosssell
from custseg.recommend.history import History


def _rules(rows: list[tuple[str, tuple[str, ...], tuple[str, ...], float, float]]) -> pd.DataFrame:
    """A rules frame with every column the rules stage emits; the unused measures are filler."""
    df = pd.DataFrame(rows, columns=["segment", "antecedent", "consequent", "confidence", "lift"])
    return df.assign(
        antecedent_support=0.2,
        consequent_support=0.1,
        support=0.05,
        leverage=0.02,
        conviction=2.0,
        zhang=0.5,
        jaccard=0.3,
        count=5,
        n_baskets=100,
    )


RULES = _rules(
    [
        ("0", ("A",), ("C",), 0.5, 4.0),
        ("0", ("B",), ("C",), 0.7, 1.0),  # C again: max over the rules that fire
        ("0", ("A",), ("B",), 0.9, 2.0),  # B is already bought by c1
        ("0", ("A", "B"), ("D",), 0.4, 9.0),  # two-item antecedent, fires for c1
        ("0", ("A", "E"), ("F",), 0.95, 10.0),  # E missing: never fires
        ("1", ("A",), ("G",), 0.6, 3.0),
        ("1", ("A",), ("E",), 0.6, 3.0),  # ties G: item id decides
        ("all", ("X",), ("H", "I"), 0.3, 1.5),
        ("all", ("A",), ("Z",), 0.99, 20.0),  # only for customers with no segment rule firing
    ]
)
HISTORY = {"c1": {"A", "B"}, "c2": {"A"}, "c3": {"X"}, "c4": {"A", "C"}}
SEGMENT = pd.Series({"c1": 0, "c2": 1, "c3": 0})  # c4 has no segment


def _items(recs: pd.DataFrame) -> dict[str, list[str]]:
    return recs.groupby("customer_id")["item"].agg(list).to_dict()


def test_segment_rules_only_history_excluded_and_overall_fallback():
    recs = crosssell.recommend(HISTORY, SEGMENT, RULES, k=10, score="confidence")
    assert list(recs.columns) == ["customer_id", "item", "score", "source", "reason"]
    assert _items(recs) == {
        "c1": ["C", "D"],  # not B (bought), not Z (segment 0 rules fired), not F
        "c2": ["E", "G"],  # segment 1 rules only: no C, no Z
        "c3": ["H", "I"],  # no segment-0 rule fires: overall rules
        "c4": ["Z"],  # no segment: overall rules; C is bought
    }
    c1 = recs.loc[recs["customer_id"] == "c1"].set_index("item")
    assert c1.loc["C", "score"] == 0.7 and c1.loc["D", "score"] == 0.4
    assert c1.loc["C", "reason"] == "bought B in segment 0 -> rule conf 0.70 lift 1.0"
    assert c1.loc["D", "reason"] == "bought A + B in segment 0 -> rule conf 0.40 lift 9.0"
    c3 = recs.loc[recs["customer_id"] == "c3"]
    assert c3["reason"].str.contains("overall rule, no segment 0 rule fired").all()
    assert (recs["source"] == "crosssell").all()


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        ("confidence", [("C", 0.7), ("D", 0.4)]),
        ("lift", [("D", 9.0), ("C", 4.0)]),
        ("confidence_x_lift", [("D", 3.6), ("C", 2.0)]),
    ],
)
def test_score_choice_ranks_by_the_chosen_measure(score, expected):
    recs = crosssell.recommend(HISTORY, SEGMENT, RULES, score=score)
    c1 = recs.loc[recs["customer_id"] == "c1"]
    assert c1["item"].tolist() == [e[0] for e in expected]
    assert c1["score"].tolist() == pytest.approx([e[1] for e in expected])
    if score == "lift":  # the reason cites the rule that gave the score
        assert c1["reason"].iloc[1] == "bought A in segment 0 -> rule conf 0.50 lift 4.0"


def test_k_and_no_fallback():
    recs = crosssell.recommend(HISTORY, SEGMENT, RULES, k=1, fallback_overall=False)
    assert _items(recs) == {"c1": ["C"], "c2": ["E"]}


def test_segment_rules_that_only_offer_bought_items_do_not_block_the_fallback():
    rules = _rules([("0", ("X",), ("X2",), 0.8, 2.0), ("all", ("X",), ("H",), 0.3, 1.5)])
    recs = crosssell.recommend({"c3": {"X", "X2"}}, SEGMENT, rules)
    assert recs["item"].tolist() == ["H"]


def test_bad_inputs_name_the_problem():
    with pytest.raises(ValueError, match="unknown score 'support'"):
        crosssell.recommend(HISTORY, SEGMENT, RULES, score="support")
    with pytest.raises(ValueError, match="lacks column"):
        crosssell.recommend(HISTORY, SEGMENT, RULES.drop(columns="lift"))
    assert crosssell.recommend(HISTORY, SEGMENT, RULES.iloc[:0]).empty
    assert crosssell.recommend(HISTORY, SEGMENT, pd.DataFrame()).empty  # nothing was mined


def test_a_history_and_a_plain_dict_give_the_same_recommendations():
    as_history = History.from_mapping(HISTORY)
    for fallback in (True, False):
        pd.testing.assert_frame_equal(
            crosssell.recommend(as_history, SEGMENT, RULES, k=2, fallback_overall=fallback),
            crosssell.recommend(HISTORY, SEGMENT, RULES, k=2, fallback_overall=fallback),
        )
