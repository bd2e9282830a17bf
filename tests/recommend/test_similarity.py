from __future__ import annotations

from unittest.mock import patch

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from custseg.data.schema import validate
from custseg.recommend import itemitem
from custseg.recommend.similarity import ItemSimilarity, basket_matrix

# 4 baskets over A B C D: {A,B} {A,B,C} {A,C} {B,D}
# counts c_AA=3 c_BB=3 c_CC=2 c_DD=1; c_AB=2 c_AC=2 c_BC=1 c_BD=1 c_AD=c_CD=0
X = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 1, 1, 0], [1, 0, 1, 0], [0, 1, 0, 1]], dtype=bool))
ITEMS = np.array(["A", "B", "C", "D"], dtype=object)


def _pairs(model: ItemSimilarity) -> dict[tuple[str, str], float]:
    s = model.similarity.tocoo()
    return {
        (ITEMS[i], ITEMS[j]): round(float(v), 6)
        for i, j, v in zip(s.row, s.col, s.data, strict=True)
    }


def test_jaccard_by_hand():
    m = ItemSimilarity().fit(X, ITEMS, "jaccard", top_n=50)
    ab, ac, bc, bd = 2 / (3 + 3 - 2), 2 / (3 + 2 - 2), 1 / (3 + 2 - 1), 1 / (3 + 1 - 1)
    expected = {("A", "B"): ab, ("A", "C"): ac, ("B", "C"): bc, ("B", "D"): bd}
    expected |= {(j, i): v for (i, j), v in expected.items()}
    assert _pairs(m) == {k: round(v, 6) for k, v in expected.items()}  # no self, no zeros


def test_lift_by_hand_scaled_by_baskets():
    m = ItemSimilarity().fit(X, ITEMS, "lift", top_n=50)
    pairs = _pairs(m)
    assert pairs[("A", "B")] == round(2 * 4 / (3 * 3), 6)
    assert pairs[("A", "C")] == round(2 * 4 / (3 * 2), 6)
    assert pairs[("B", "C")] == round(1 * 4 / (3 * 2), 6)
    assert pairs[("D", "B")] == round(1 * 4 / (1 * 3), 6)
    assert len(pairs) == 8


def test_top_n_keeps_the_best_neighbours_only():
    jac = ItemSimilarity(block_size=3).fit(X, ITEMS, "jaccard", top_n=1)  # blocks cross items
    assert set(_pairs(jac)) == {("A", "C"), ("B", "A"), ("C", "A"), ("D", "B")}
    lift = ItemSimilarity().fit(X, ITEMS, "lift", top_n=1)
    assert set(_pairs(lift)) == {("A", "C"), ("B", "D"), ("C", "A"), ("D", "B")}
    assert isinstance(lift.similarity, sp.csr_matrix) and lift.similarity.nnz == 4
    two = ItemSimilarity().fit(X, ITEMS, "jaccard", top_n=2)
    assert two.neighbours("B").round(6).to_dict() == {"A": 0.5, "D": round(1 / 3, 6)}


def test_recommend_sums_similarity_to_history_and_skips_it():
    m = ItemSimilarity().fit(X, ITEMS, "jaccard", top_n=50)
    recs = m.recommend({"c1": {"A"}, "c2": {"B", "C"}, "c3": {"unknown"}}, k=10)
    got = {
        (c, i): s for c, i, s in zip(recs["customer_id"], recs["item"], recs["score"], strict=True)
    }
    assert list(got) == [("c1", "C"), ("c1", "B"), ("c2", "A"), ("c2", "D")]
    assert got[("c1", "C")] == pytest.approx(2 / 3)
    assert got[("c2", "A")] == pytest.approx(0.5 + 2 / 3)  # AB + AC
    assert got[("c2", "D")] == pytest.approx(1 / 3)  # BD; CD is 0
    assert recs["reason"].tolist()[:3] == [
        "similar to A (jaccard 0.67)",
        "similar to A (jaccard 0.50)",
        "similar to C (jaccard 0.67)",
    ]
    assert (recs["source"] == "similarity").all()
    assert m.recommend({"c1": {"A"}}, k=1)["item"].tolist() == ["C"]


def test_basket_matrix_from_transactions():
    baskets = [["A", "B"], ["A", "B", "C"], ["A", "C"], ["B", "D"]]
    rows = [(str(i), p) for i, b in enumerate(baskets) for p in b]
    n = len(rows)
    tx = validate(
        pd.DataFrame(
            {
                "customer_id": ["x"] * n,
                "invoice_id": [b for b, _ in rows],
                "invoice_date": ["2024-01-01"] * n,
                "product_id": [p for _, p in rows],
                "quantity": [1] * n,
                "unit_price": [1.0] * n,
                "amount": [1.0] * n,
            }
        ),
        "t",
    )
    x, items = basket_matrix(tx)
    assert items.tolist() == ITEMS.tolist()
    assert (x != X).nnz == 0


def test_unknown_measure():
    with pytest.raises(ValueError, match="unknown 'tanimoto'"):
        ItemSimilarity().fit(X, ITEMS, "tanimoto")


def test_every_internal_path_gives_the_same_recommendations():
    """Dense or sparse product, dense table or binary search for reasons, one block or many:
    implementation choices by size, never visible in the result."""
    rng = np.random.default_rng(3)
    x = sp.csr_matrix(rng.random((300, 40)) < 0.15)
    items = np.array([f"I{i:02d}" for i in range(40)], dtype=object)
    history = {f"c{c}": set(rng.choice(items, size=rng.integers(0, 6), replace=False))
               for c in range(120)}  # fmt: skip
    want = ItemSimilarity().fit(x, items, "lift", top_n=6).recommend(history, k=4)
    assert len(want) > 100 and want["reason"].str.startswith("similar to I").all()
    settings = {"DENSE_LOOKUP": 0, "DENSE_PRODUCT": 0, "BLOCK_BYTES": 8 * 40 * 7}
    with patch.multiple(itemitem, **settings):
        got = ItemSimilarity(block_size=5).fit(x, items, "lift", top_n=6).recommend(history, 4)
    pd.testing.assert_frame_equal(got, want)
    shuffled = np.random.default_rng(0).permutation(40)  # item labels need not come sorted
    again = ItemSimilarity().fit(x[:, shuffled], items[shuffled], "lift", 6).recommend(history, 4)
    pd.testing.assert_frame_equal(again, want)
