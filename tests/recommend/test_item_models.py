"""SAR, EASE^R and buy-again against independent implementations of their definitions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from custseg.recommend.buyagain import BuyAgain
from custseg.recommend.ease import EASE
from custseg.recommend.history import History, histories
from custseg.recommend.itemitem import distinct_rows
from custseg.recommend.sar import SAR
from custseg.recommend.similarity import ItemSimilarity


def _random_history(seed: int = 0, customers: int = 200, items: int = 30) -> History:
    rng = np.random.default_rng(seed)
    dense = rng.random((customers, items)) < 0.12
    dense[:, 3] |= dense[:, 4]  # a planted complement: buyers of item 4 also buy item 3
    rows, cols = np.nonzero(dense)
    return History.from_codes(rows, cols, pd.Index([f"c{i:03d}" for i in range(customers)]),
                              pd.Index([f"i{j:02d}" for j in range(items)]))  # fmt: skip


def _dense(h: History) -> np.ndarray:
    return h.matrix.toarray().astype(np.float64)


def test_ease_weights_are_the_closed_form_of_steck_2019():
    h = _random_history()
    x = _dense(h)
    lam = 50.0
    p = np.linalg.inv(x.T @ x + lam * np.eye(x.shape[1]))
    want = np.eye(x.shape[1]) - p / np.diag(p)  # B = I - P diagMat(1 / diag(P))
    model = EASE(lam).fit_history(h)
    np.testing.assert_allclose(model.similarity, want, atol=1e-6)
    assert np.all(np.diag(model.similarity) == 0)


def test_ease_recommends_the_top_scores_of_x_times_b_never_a_bought_item():
    h = _random_history(1)
    model = EASE(50.0).fit_history(h)
    recs = model.recommend(h, k=5)
    scores = _dense(h) @ model.similarity.astype(np.float64)
    scores[_dense(h) > 0] = -np.inf
    for c, got in recs.groupby("customer_id", observed=True):
        row = scores[h.customers.get_loc(c)]
        best = np.argsort(-row, kind="stable")[:5]
        want = [h.item_labels[j] for j in best if row[j] > 0]
        assert got["item"].astype(str).tolist() == want[: len(got)]
        assert len(got) == min(5, int((row > 0).sum()))
    assert (recs["reason"].astype(str).str.startswith("goes with ")).all()


def sar_measure(c: np.ndarray, name: str, n: int) -> np.ndarray:
    """SAR's similarity measures from a co-occurrence matrix, written out plainly."""
    d = np.diag(c)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {
            "cooccurrence": c.astype(float),
            "jaccard": c / (d[:, None] + d[None, :] - c),
            "lift": c * n / np.outer(d, d),
            "cosine": c / np.sqrt(np.outer(d, d)),
            "mutual_information": np.log2(n * c / np.outer(d, d)),
        }[name]
    out = np.where(c > 0, out, 0.0)
    np.fill_diagonal(out, 0.0)
    return np.where(out > 0, out, 0.0)  # neighbours are positive


@pytest.mark.parametrize("measure", ["cooccurrence", "jaccard", "lift", "cosine",
                                     "mutual_information"])  # fmt: skip
def test_sar_similarity_is_the_measure_of_customer_cooccurrence(measure):
    h = _random_history(2)
    x = _dense(h)
    c = x.T @ x
    model = SAR().fit_history(h, measure, threshold=1, top_n=None)
    np.testing.assert_allclose(model.similarity.toarray(), sar_measure(c, measure, x.shape[0]),
                               rtol=1e-12)  # fmt: skip


def test_sar_threshold_drops_rarely_met_pairs():
    h = _random_history(3)
    x = _dense(h)
    c = x.T @ x
    model = SAR().fit_history(h, "jaccard", threshold=4, top_n=None)
    want = np.where(c >= 4, sar_measure(c, "jaccard", x.shape[0]), 0.0)
    np.testing.assert_allclose(model.similarity.toarray(), want, rtol=1e-12)


def _dated_lines() -> pd.DataFrame:
    """Customer a bought X 60 days before the last date, Y 30 and 0 days before it (twice on
    the last day: one purchase day), Z once 90 days before; b bought Y and Z."""
    rows = [("a", "X", "2024-01-01"), ("a", "Y", "2024-01-31"), ("a", "Y", "2024-03-01"),
            ("a", "Y", "2024-03-01"), ("a", "Z", "2023-12-02"), ("b", "Y", "2024-02-01"),
            ("b", "Z", "2024-02-01")]  # fmt: skip
    return pd.DataFrame(rows, columns=["customer_id", "product_id", "invoice_date"]).assign(
        invoice_date=lambda d: pd.to_datetime(d["invoice_date"])
    )


def test_affinity_halves_every_half_life_and_counts_a_day_once():
    h = histories(_dated_lines(), "product_id", half_life_days=30)
    a = pd.DataFrame(h.affinity.toarray(), index=h.customers, columns=h.item_labels)
    assert a.loc["a", "Y"] == pytest.approx(1.0 + 0.5 ** (30 / 30))  # today + 30 days ago
    assert a.loc["a", "X"] == pytest.approx(0.5 ** (60 / 30))
    assert a.loc["a", "Z"] == pytest.approx(0.5 ** (90 / 30))
    assert a.loc["b", "Y"] == pytest.approx(0.5 ** (29 / 30))  # 2024-02-01 is 29 days back
    days = pd.DataFrame(h.days.toarray(), index=h.customers, columns=h.item_labels)
    assert days.loc["a", "Y"] == 2 and days.loc["a", "X"] == 1
    sub = h.subset(["b"])
    assert sub.affinity.toarray().tolist() == [list(a.loc["b"])]


def test_sar_scores_are_affinity_times_similarity():
    tx = _dated_lines()
    extra = pd.DataFrame({"customer_id": ["c", "c", "d", "d"], "product_id": ["X", "W", "Z", "W"],
                          "invoice_date": pd.to_datetime(["2024-01-05"] * 4)})  # fmt: skip
    h = histories(pd.concat([tx, extra], ignore_index=True), "product_id", 30)
    model = SAR().fit_history(h, "cooccurrence", threshold=1, top_n=None)
    scores = h.affinity.toarray() @ model.similarity.toarray()
    recs = model.recommend(h, k=5)
    for row in recs.itertuples():
        i, j = h.customers.get_loc(row.customer_id), h.item_labels.get_loc(row.item)
        assert row.score == pytest.approx(scores[i, j])
        assert h.matrix[i, j] == 0


def test_buy_again_orders_own_items_by_decayed_frequency():
    h = histories(_dated_lines(), "product_id", half_life_days=30)
    recs = BuyAgain().recommend(h, pd.Series(dtype="int64"), k=2)
    a = recs[recs["customer_id"] == "a"]
    assert a["item"].astype(str).tolist() == ["Y", "X"]  # 1.5, then 0.25 (Z: 0.125)
    assert a["reason"].astype(str).tolist() == ["bought it on 2 days", "bought it on 1 day"]
    b = recs[recs["customer_id"] == "b"]
    assert set(b["item"].astype(str)) == {"Y", "Z"}
    assert (
        BuyAgain()
        .recommend(
            History(sp.csr_matrix((0, 0), dtype=bool), pd.Index([]), pd.Index([])),
            pd.Series(dtype="int64"),
            3,
        )
        .empty
    )


def _with_twins(seed: int = 3, customers: int = 120, items: int = 8) -> History:
    """Few items, many customers: most histories are shared by several customers."""
    rng = np.random.default_rng(seed)
    dense = rng.random((customers, items)) < 0.2
    rows, cols = np.nonzero(dense)
    return History.from_codes(rows, cols, pd.Index([f"c{i:03d}" for i in range(customers)]),
                              pd.Index([f"i{j:02d}" for j in range(items)]))  # fmt: skip


def test_distinct_rows_groups_exactly_the_equal_histories():
    h = _with_twins()
    m = h.matrix.tocsr()
    distinct, owner = distinct_rows(m)
    by_items = {}
    want = [by_items.setdefault(tuple(m[i].indices), len(by_items)) for i in range(m.shape[0])]
    assert distinct.shape[0] == len(by_items) < m.shape[0]
    np.testing.assert_array_equal(owner, want)  # first-seen numbering, like the tuples'
    assert (distinct[owner] != m).nnz == 0


@pytest.mark.parametrize("model", ["ease", "similarity"])
def test_customers_with_the_same_items_get_the_lists_each_would_get_alone(model):
    h = _with_twins()
    if model == "ease":
        fitted = EASE(20.0).fit_history(h)
    else:  # neighbours learned from the customers' own rows, as SAR does
        fitted = ItemSimilarity().fit(h.matrix.tocsr(), h.item_labels.to_numpy(), top_n=8)
    recs = fitted.recommend(h, k=4)
    lists = {c: g[["item", "score", "reason"]].astype(str).values.tolist()
             for c, g in recs.groupby("customer_id", observed=True, sort=False)}  # fmt: skip
    rows = h.matrix.tocsr()
    seen = set()
    for i, c in enumerate(h.customers):
        items = [h.item_labels[j] for j in rows[i].indices]
        alone = fitted.recommend({c: items}, k=4)[["item", "score", "reason"]]
        assert lists.get(c, []) == alone.astype(str).values.tolist()
        seen.add(tuple(items))
    assert len(seen) < len(h.customers)  # the twins this test is about were there
