"""Value-aware offers (recommend.rank_by=expected_value): each part against a hand count, then
the whole on planted demo data, where ranking by expected revenue must capture more revenue on
the time split than the same blend in relevance order, which must stay exactly the
relevance-ranked run's list."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custseg.clean import clean
from custseg.config.errors import ConfigError
from custseg.data.sources import load
from custseg.model import CustomerModel
from custseg.notices import collecting
from custseg.recommend import recommenders
from custseg.recommend.expected import (
    COLUMN,
    ExpectedValue,
    item_values,
    purchase_by_position,
    rerank,
    revenue,
    top_offers,
)
from custseg.recommend.frame import TEXT
from custseg.recommend.history import History
from custseg.recommend.holdout import evaluate
from custseg.recommend.metrics import ranked
from custseg.recommend.recommenders import BLEND, RELEVANCE
from tests.conftest import make_config

SMALL = "data.generator.n_rows=20000"
BY_VALUE = "recommend.rank_by=expected_value"


def _recs(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    """A blended list: (customer, item, rank)."""
    c, i, r = zip(*rows, strict=True)
    return pd.DataFrame({"customer_id": c, "item": i, "score": [1.0 / x for x in r],
                         "source": "ease", "reason": "", "rank": r})  # fmt: skip


def test_purchase_by_position_counts_buyers_and_never_rises():
    truth = History.from_mapping({"a": ["x"], "b": ["q", "r"], "c": ["z"], "d": []})
    recs = _recs([("a", "x", 1), ("a", "y", 2), ("a", "w", 3),
                  ("b", "p", 1), ("b", "q", 2), ("b", "r", 3),
                  ("c", "s", 1), ("c", "t", 2), ("c", "u", 3)])  # fmt: skip
    # by hand: position 1 bought by a (1 of 3 buyers; d bought nothing), position 2 by b,
    # position 3 by b: 1/3 each; nothing deeper
    got = purchase_by_position(recs, truth, 4)
    np.testing.assert_allclose(got, [1 / 3, 1 / 3, 1 / 3, 0.0])
    # a deeper position that happens to hit more often is capped at the one above it
    recs2 = _recs([("a", "y", 1), ("a", "x", 2), ("b", "q", 1), ("b", "p", 2),
                   ("c", "s", 1), ("c", "z", 2)])  # fmt: skip
    np.testing.assert_allclose(purchase_by_position(recs2, truth, 2), [1 / 3, 1 / 3])


def _ev(values: dict[str, float], purchase: list[float]) -> ExpectedValue:
    return ExpectedValue(pd.Series(values, dtype="float64"), "amount", np.array(purchase))


def test_rerank_orders_by_chance_times_value_and_keeps_relevance_on_ties():
    ev = _ev({"cheap": 1.0, "dear": 40.0, "mid": 10.0, "tie": 10.0}, [0.5, 0.25, 0.1])
    cands = _recs([("a", "cheap", 1), ("a", "mid", 2), ("a", "dear", 3),
                   ("b", "mid", 1), ("b", "tie", 2), ("b", "cheap", 3)])  # fmt: skip
    out = rerank(cands, 2, expected=ev, p_alive=None)
    # a: cheap .5, mid 2.5, dear 4.0 -> dear, mid;  b: mid 5.0, tie 2.5, cheap .1 -> mid, tie
    assert out[["customer_id", "item", "rank"]].values.tolist() == [
        ["a", "dear", 1], ["a", "mid", 2], ["b", "mid", 1], ["b", "tie", 2]]  # fmt: skip
    np.testing.assert_allclose(out[COLUMN], [4.0, 2.5, 5.0, 2.5])
    assert (out["score"] == out[COLUMN]).all()
    # equal expected value: relevance order decides
    flat = _ev({"p": 2.0, "q": 1.0}, [0.5, 0.25])  # q: .5 x 1, p: .25 x 2
    same = rerank(_recs([("a", "q", 1), ("a", "p", 2)]), 2, expected=flat, p_alive=None)
    assert same["item"].tolist() == ["q", "p"]


def test_an_offer_worth_less_than_nothing_is_never_made():
    ev = _ev({"loss": -5.0, "gain": 1.0, "nil": 0.0}, [0.5, 0.25, 0.1])
    out = rerank(_recs([("a", "loss", 1), ("a", "gain", 2), ("a", "nil", 3)]), 3,
                 expected=ev, p_alive=None)  # fmt: skip
    assert out["item"].tolist() == ["gain", "nil"]


def test_p_alive_scales_a_customers_worth_but_not_their_order():
    ev = _ev({"x": 10.0, "y": 3.0, "z": 1.0}, [0.4, 0.3, 0.2])
    cands = _recs([("a", "z", 1), ("a", "y", 2), ("a", "x", 3),
                   ("b", "z", 1), ("b", "y", 2), ("b", "x", 3)])  # fmt: skip
    alive = pd.Series({"a": 0.1, "b": 1.0})
    with_p = rerank(cands, 3, expected=ev, p_alive=alive)
    without = rerank(cands, 3, expected=ev, p_alive=None)
    assert with_p["item"].tolist() == without["item"].tolist()
    a = with_p["customer_id"] == "a"
    np.testing.assert_allclose(with_p.loc[a, COLUMN], 0.1 * without.loc[a, COLUMN])
    np.testing.assert_allclose(with_p.loc[~a, COLUMN], without.loc[~a, COLUMN])


def test_revenue_sums_the_value_of_the_bought_top_k_items_per_buyer():
    truth = History.from_mapping({"a": ["x", "y"], "b": ["z"], "c": []})
    recs = _recs([("a", "x", 1), ("a", "w", 2), ("a", "y", 3), ("b", "w", 1), ("b", "z", 2)])
    values = pd.Series({"x": 5.0, "y": 7.0, "z": 2.0, "w": 100.0})
    r = ranked(recs)
    # k=2: a bought x (5), b bought z (2): (5 + 2) / 2 buyers; k=3 adds a's y
    assert revenue(r, truth, 2, values) == pytest.approx(3.5)
    assert revenue(r, truth, 3, values) == pytest.approx(7.0)
    assert np.isnan(revenue(r, History.from_mapping({"a": []}), 2, values))


def test_item_values_are_median_margins_when_there_are_margins_else_amounts():
    tx = pd.DataFrame({"product_id": ["x", "x", "x", "y"], "amount": [1.0, 2.0, 30.0, 4.0]})
    values, basis = item_values(tx, "product_id")
    assert basis == "amount" and values.to_dict() == {"x": 2.0, "y": 4.0}
    values, basis = item_values(tx.assign(margin=[0.5, np.nan, 1.5, -1.0]), "product_id")
    assert basis == "margin" and values.to_dict() == {"x": 1.0, "y": -1.0}
    notes: dict[str, str] = {}
    with collecting(notes):  # y's only line has no margin: it is worth 0, and that is said
        values, _ = item_values(tx.assign(margin=[0.5, np.nan, 1.5, np.nan]), "product_id")
    assert values.to_dict() == {"x": 1.0} and "1 item(s) have no margin" in notes[
        "recommend.rank_by.margin"]  # fmt: skip
    assert item_values(tx.assign(amount=np.nan), "product_id") is None


def test_top_offers_sum_expected_revenue_per_segment():
    recs = _recs([("a", "x", 1), ("a", "y", 2), ("b", "x", 1), ("c", "y", 1)])
    recs[COLUMN] = [1.0, 3.0, 2.5, 0.5]
    segments = pd.Series({"a": 0, "b": 0, "c": 1})
    got = top_offers(recs, segments, n=1)
    assert got.values.tolist() == [[0, "x", 2, 3.5], [1, "y", 1, 0.5]]


@pytest.fixture(scope="module")
def demo() -> pd.DataFrame:
    cfg = make_config(SMALL)
    return clean(load(cfg.data, cfg.seed).transactions, cfg.clean)[0]


@pytest.fixture(scope="module")
def by_value(demo: pd.DataFrame) -> CustomerModel:
    return CustomerModel(make_config(SMALL, "report=none", BY_VALUE)).fit(demo)


@pytest.mark.slow
def test_ranking_by_value_captures_more_revenue_and_keeps_the_relevance_list(demo, by_value):
    """The demo's items differ in price; the value ranking must win on revenue captured in the
    held-out weeks, and its relevance row must be the relevance-ranked run's own list."""
    model = by_value
    assert model.expected_ is not None and model.expected_.basis == "amount"
    curve = model.expected_.purchase
    assert len(curve) == 30 and curve[0] > 0 and (np.diff(curve) <= 0).all()
    table = evaluate(model.config, demo, model).table
    print(table[["hit_rate@10", "ndcg@10", "revenue@10"]].round(3).to_string())
    for k in (5, 10):
        assert table.loc[BLEND, f"revenue@{k}"] > 1.1 * table.loc[RELEVANCE, f"revenue@{k}"]
    plain = make_config(SMALL, "report=none")
    relevance = evaluate(plain, demo, CustomerModel(plain).fit(demo)).table
    assert "revenue@10" not in relevance.columns and RELEVANCE not in relevance.index
    shared = relevance.columns
    pd.testing.assert_series_equal(table.loc[RELEVANCE, shared], relevance.loc[BLEND, shared],
                                   check_names=False)  # fmt: skip
    # the served list is the reranked one, with its expected value
    served = model.recommend(demo, clean=False)
    assert COLUMN in served.columns and served.groupby("customer_id").size().max() == 10
    assert (served.groupby("customer_id", sort=False)[COLUMN].diff().dropna() <= 1e-12).all()


@pytest.mark.slow
def test_a_longer_evaluated_list_leaves_the_served_one_as_it_is(demo, by_value):
    """The evaluation asks for its largest k too: the k=10 lists must still be the served ones
    (picked from recommend.candidates), and the relevance order can be asked alone."""
    served = by_value.recommend(demo, clean=False)
    both = by_value.recommend_lengths(demo, [BLEND], [10, 50], clean=False)
    pd.testing.assert_frame_equal(both[10][BLEND].astype({c: str for c in TEXT}),
                                  served.astype({c: str for c in TEXT}))  # fmt: skip
    assert both[50][BLEND].groupby("customer_id").size().max() == 50
    alone = by_value.recommend_all(demo, [RELEVANCE], clean=False)[RELEVANCE]
    assert COLUMN not in alone.columns and alone.groupby("customer_id").size().max() == 10


@pytest.mark.slow
def test_customers_ranked_in_chunks_get_the_same_lists(demo, by_value, monkeypatch):
    whole = by_value.recommend(demo, clean=False)
    monkeypatch.setattr(recommenders, "RERANK_CHUNK", 50)
    chunked = by_value.recommend(demo, clean=False)
    assert whole["customer_id"].nunique() > 5 * 50
    pd.testing.assert_frame_equal(chunked.astype({c: str for c in TEXT}),
                                  whole.astype({c: str for c in TEXT}))  # fmt: skip


@pytest.mark.slow
def test_price_less_lines_keep_relevance_order_and_say_so(demo):
    cfg = make_config(SMALL, "report=none", BY_VALUE, "features=visits")
    notes: dict[str, str] = {}
    with collecting(notes):
        model = CustomerModel(cfg).fit(demo.assign(amount=np.nan))
    assert model.expected_ is None
    assert "no amounts" in notes["recommend.rank_by"]
    assert "P(alive) = 1" in notes["recommend.rank_by.p_alive"]
    assert COLUMN not in model.recommend(demo, clean=False).columns


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ((BY_VALUE, "recommend.blend=weights"), "recommend.rank_by"),
        ((BY_VALUE, "recommend.candidates=5"), "recommend.candidates"),
    ],
)
def test_a_value_ranking_that_cannot_work_is_refused_naming_the_key(overrides, key):
    with pytest.raises(ConfigError) as err:
        make_config(*overrides)
    assert err.value.key == key and key in str(err.value)


def test_a_margin_column_mapped_from_a_file_values_the_items(tmp_path):
    cfg = make_config("data.generator.n_rows=5000")
    tx = load(cfg.data, cfg.seed).transactions
    path = tmp_path / "sales.csv"
    tx.assign(profit=(tx["amount"] * 0.3).round(2)).to_csv(path, index=False)
    cfg = make_config("data=csv", f"data.path={path}", "data.columns.margin=profit")
    lines = clean(load(cfg.data, cfg.seed).transactions, cfg.clean)[0]
    values, basis = item_values(lines, "product_id")
    assert basis == "margin"
    by_hand = (lines["amount"] * 0.3).round(2).groupby(lines["product_id"].astype(str)).median()
    pd.testing.assert_series_equal(values, by_hand, check_names=False, atol=0.011)
