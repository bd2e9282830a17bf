"""'Frequently bought together' for a product or a basket, served by the run's own model."""

from __future__ import annotations

import pandas as pd
import pytest

from custseg.clean import clean
from custseg.data.sources import load
from custseg.model import CustomerModel
from custseg.serving import BASKET_OUTPUT
from tests.conftest import make_config


@pytest.fixture(scope="module")
def fitted():
    cfg = make_config("data.generator.n_rows=60000", "report=none", "recommend.blend=weights")
    loaded = load(cfg.data, cfg.seed)
    tx, _ = clean(loaded.transactions, cfg.clean)
    return loaded.truth, CustomerModel(cfg).fit(tx)


def test_the_planted_pairs_come_back_as_bought_together(fitted):
    truth, model = fitted
    pairs = truth.pairs
    query = pd.DataFrame({"invoice_id": [f"q{i}" for i in range(len(pairs))],
                          "product_id": pairs["antecedent"].to_numpy()})  # fmt: skip
    answer = model.score(query)
    assert list(answer.columns) == list(BASKET_OUTPUT) and len(answer) == len(pairs)
    got = answer.set_index("basket")["recommendations"]
    found = [p.consequent in got[f"q{i}"] for i, p in enumerate(pairs.itertuples())]
    assert sum(found) / len(found) >= 0.9, list(zip(pairs["antecedent"], found, strict=True))
    assert all(r.startswith("similar to ") for rs in answer["reasons"] for r in rs)


def test_a_basket_of_several_items_never_gets_its_own_items_back(fitted):
    _, model = fitted
    items = model.recommenders_["similarity"].model.items[:3].tolist()
    answer = model.score(pd.DataFrame({"product_id": items}))  # no invoice: one basket
    assert answer["basket"].tolist() == ["basket"] and sorted(answer["items"][0]) == items
    recs = answer["recommendations"][0]
    assert 0 < len(recs) <= 10 and not set(recs) & set(items)
    with pytest.raises(ValueError, match="product_id"):
        model.together(pd.DataFrame({"sku": ["x"]}))
