"""The explorer's tables on hand-made run tables: each figure against a count by hand or an
independent implementation."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from custseg.dashboard import tables

PERSONAS = pd.DataFrame(
    {"key": ["high_value", "bulk"], "name": ["Big spenders", "Bulk buyers"],
     "description": ["d0", "d1"], "rfm_label": [None, None],
     "actions": ["Call them; Thank them; Invite them", "Bundle"]},
    index=pd.Index([0, 1], name="segment"),
)  # fmt: skip
SUMMARY = pd.DataFrame(
    {"customers": [30, 70, 100], "customer_share": [0.3, 0.7, 1.0],
     "revenue_share": [0.8, 0.2, 1.0]},
    index=pd.Index(["0", "1", "all"], name="segment"),
)  # fmt: skip


def test_overview_has_one_row_per_segment_with_persona_shares_and_actions():
    value = pd.DataFrame({"clv_share": [0.9, 0.1, 1.0], "lapsed_share": [0.0, 0.5, 0.35]},
                         index=["0", "1", "all"])  # fmt: skip
    offers = pd.DataFrame({"segment": [1, 0], "item": ["lamp", "card"], "customers": [3, 4],
                           "expected_revenue": [9.0, 8.0]})  # fmt: skip
    got = tables.overview(PERSONAS, SUMMARY, {"stability.jaccard.0": 0.9}, value, offers)
    assert got["segment"].tolist() == ["0", "1"]
    assert got["persona"].tolist() == ["Big spenders", "Bulk buyers"]
    assert got["customers"].tolist() == [30, 70]
    assert got["revenue share"].tolist() == [0.8, 0.2]
    assert got["future value share"].tolist() == [0.9, 0.1]
    assert got.loc[0, "stability"] == 0.9 and np.isnan(got.loc[1, "stability"])
    assert got["top offer"].tolist() == ["card", "lamp"]
    assert got.loc[0, "actions"] == "Call them; Thank them"  # the first two


def test_actions_come_back_as_a_list_from_text_or_list():
    assert tables.actions_of("a; b") == ["a", "b"]
    assert tables.actions_of(np.array(["a", "b"])) == ["a", "b"]
    assert tables.actions_of(None) == [] and tables.actions_of(float("nan")) == []


def test_segment_labels_lead_with_the_persona_and_keep_the_number():
    names = tables.persona_names(PERSONAS)
    assert names == {"0": "Big spenders", "1": "Bulk buyers"}
    assert tables.segment_label(1, names) == "1 · Bulk buyers"
    assert tables.segment_label(-1, names) == "-1"


RULES = pd.DataFrame({
    "segment": ["all", "all", "0", "0", "1"],
    "antecedent": ["mug", ["mug", "tea"], "mug", "lamp", "mugs"],  # text or a list, as logged
    "consequent": ["tea", "spoon", "saucer", "bulb", "tea"],
    "support": [0.1, 0.02, 0.05, 0.2, 0.3],
    "confidence": [0.5, 0.6, 0.9, 0.4, 0.7],
    "lift": [2.0, 5.0, 3.0, 1.5, 1.2],
})  # fmt: skip


def test_rule_filters_each_cut_the_table():
    assert len(tables.filter_rules(RULES)) == 5
    assert tables.filter_rules(RULES, item="MUG")["consequent"].tolist() == [
        "spoon", "saucer", "tea", "tea"]  # fmt: skip
    assert tables.filter_rules(RULES, min_lift=2.5)["lift"].tolist() == [5.0, 3.0]
    assert tables.filter_rules(RULES, min_confidence=0.65)["confidence"].tolist() == [0.9, 0.7]
    assert tables.filter_rules(RULES, min_support=0.1)["support"].tolist() == [0.1, 0.2, 0.3]


def test_partners_put_each_segments_consequents_side_by_side():
    got = tables.partners(RULES, "mug", tables.persona_names(PERSONAS))
    # the whole id: segment 1's rule starts from "mugs", another product
    assert list(got.columns) == ["all customers", "0 · Big spenders"]
    assert got["all customers"].tolist() == ["spoon (lift 5.0)", "tea (lift 2.0)"]
    assert got["0 · Big spenders"].tolist() == ["saucer (lift 3.0)", ""]
    assert tables.partners(RULES, "nothing", {}).empty


PRODUCTS = {"mug": "WHITE MUG", "tea": "ENGLISH TEA", "saucer": "BLUE SAUCER"}


def test_rules_show_and_find_products_by_name():
    shown = tables.readable_rules(RULES, PRODUCTS)
    assert shown["antecedent"].tolist()[:2] == ["WHITE MUG (mug)",
                                                "WHITE MUG (mug), ENGLISH TEA (tea)"]
    assert shown["consequent"].tolist()[3] == "bulb"  # no name logged: the id alone
    found = tables.filter_rules(RULES, item="english", products=PRODUCTS)
    assert found["consequent"].tolist() == ["spoon", "tea", "tea"]  # by lift: 5.0, 2.0, 1.2
    assert tables.filter_rules(RULES, item="english")["consequent"].tolist() == []  # ids only
    got = tables.partners(RULES, "white mug", tables.persona_names(PERSONAS), products=PRODUCTS)
    assert got["all customers"].tolist() == ["spoon (lift 5.0)", "ENGLISH TEA (tea) (lift 2.0)"]
    assert got["0 · Big spenders"].tolist() == ["BLUE SAUCER (saucer) (lift 3.0)", ""]
    assert tables.partners(RULES, "white", {}, products=PRODUCTS).empty  # a whole name only
    assert tables.partners(RULES, " ", {}, products=PRODUCTS).empty  # nothing asked


def test_alignment_matches_sklearn_and_names_where_each_segment_went():
    rng = np.random.default_rng(0)
    a = pd.Series(rng.integers(0, 3, 300), index=[f"c{i}" for i in range(300)])
    b = a.map({0: 2, 1: 0, 2: 1})  # the same segments, renumbered
    b.iloc[:30] = 0  # 30 customers moved (some already were in 0)
    b = pd.concat([b, pd.Series([1], index=["new"])])  # only in run B
    cross, ari, best = tables.alignment(a, b, {"0": "A0"}, {"2": "B2"})
    assert cross.to_numpy().sum() == 300
    assert ari == pytest.approx(adjusted_rand_score(a, b.loc[a.index]))
    assert best.loc[best["segment in run A"] == "0 · A0", "became"].item() == "2 · B2"
    assert (best["share of its customers"] > 0.8).all()


def test_campaign_lists_a_segments_customers_with_their_top_offers():
    segments = pd.Series([0, 1, 1], index=["a", "b", "c"])
    recs = pd.DataFrame({"customer_id": ["b", "b", "c", "a"], "item": ["y", "x", "z", "q"],
                         "rank": [2, 1, 1, 1]})  # fmt: skip
    got = tables.campaign(segments, recs, "1", offers=2)
    assert got.values.tolist() == [["b", "1", "x", "y"], ["c", "1", "z", ""]]


def test_downloaded_csv_runs_no_formula_in_a_spreadsheet():
    frame = pd.DataFrame({"customer_id": ["=HYPERLINK(\"x\")", "-1", "+cmd"],
                          "offer_1": ["@SUM(A1)", "mug", "2"]})  # fmt: skip
    back = pd.read_csv(io.BytesIO(tables.csv_bytes(frame)), dtype=str)
    assert back["customer_id"].tolist() == ["'=HYPERLINK(\"x\")", "-1", "'+cmd"]
    assert back["offer_1"].tolist() == ["'@SUM(A1)", "mug", "2"]


def test_projection_keeps_every_customer_up_to_the_cap_with_their_segment():
    rng = np.random.default_rng(1)
    seg = pd.DataFrame({"segment": np.repeat([0, 1], 50), "total": np.r_[rng.normal(10, 1, 50),
                        rng.normal(1000, 10, 50)], "count": np.r_[rng.integers(1, 4, 50),
                        rng.integers(20, 30, 50)]},
                       index=[f"c{i}" for i in range(100)])  # fmt: skip
    got = tables.projection(seg, max_points=1000)
    assert len(got) == 100 and set(got.columns) == {"customer_id", "x", "y", "segment"}
    # the planted split of `total` survives the projection: centroids far apart for the spread
    xy = {s: got.loc[got["segment"] == s, ["x", "y"]].to_numpy() for s in ("0", "1")}
    gap = np.linalg.norm(xy["0"].mean(axis=0) - xy["1"].mean(axis=0))
    assert gap > 2 * max(np.linalg.norm(v.std(axis=0)) for v in xy.values())
    assert len(tables.projection(seg, max_points=40)) == 40
