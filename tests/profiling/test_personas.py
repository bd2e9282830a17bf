"""Personas name planted and found segments correctly, whatever the cluster numbering."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custseg.clean import clean
from custseg.config.schema import Profiling
from custseg.data.sources import load
from custseg.model import CustomerModel
from custseg.profiling.personas import NAMES, assign_personas, personas_table
from custseg.profiling.profiles import customer_descriptors
from tests.conftest import make_config

PLANTED = ("high_value", "bulk", "premium", "regular", "lapsed")
SMALL = "data.generator.n_rows=20000"


@pytest.fixture(scope="module")
def demo() -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    cfg = make_config(SMALL)
    loaded = load(cfg.data, cfg.seed)
    tx, _ = clean(loaded.transactions, cfg.clean)
    desc = customer_descriptors(tx)
    customers = loaded.truth.customers
    truth = customers.set_index(customers["customer_id"].astype("str"))
    return tx, desc, truth["segment"].reindex(desc.index)


@pytest.fixture(scope="module")
def playbook() -> Profiling:
    return make_config().profiling


def _codes(truth: pd.Series) -> tuple[pd.Series, dict[str, str]]:
    codes = {name: i for i, name in enumerate(PLANTED)}
    return truth.map(codes).astype("int64"), {str(i): n for n, i in codes.items()}


def test_playbook_covers_every_key(playbook: Profiling) -> None:
    assert set(playbook.actions) == set(NAMES)
    assert all(1 <= len(v) <= 3 for v in playbook.actions.values())
    assert playbook.currency == "£"


def test_planted_segments_named(demo, playbook: Profiling) -> None:
    _, desc, truth = demo
    seg, name_of = _codes(truth)
    personas = assign_personas(desc, seg, playbook.actions, currency=playbook.currency)
    assert {p.segment: p.key for p in personas} == name_of
    for p in personas:
        assert p.name == NAMES[p.key]  # one segment per key: no suffix
        assert p.actions == playbook.actions[p.key]
        assert "customers" in p.description and "£" in p.description
        assert p.rfm_label is None


def test_found_segments_named_by_majority(demo) -> None:
    """The fitted model names the segments it found after the planted segment most of their
    customers come from, with the configured actions and currency."""
    tx, desc, truth = demo
    cfg = make_config(SMALL, "features=basket", "rules=none", "recommend=none", "report=none",
                      "profiling.currency=EUR")  # fmt: skip
    model = CustomerModel(cfg).fit(tx)
    found = model.segment(tx, clean=False)
    assert set(found) == set(range(5))
    majority = truth.reindex(found.index).groupby(found).agg(lambda s: s.value_counts().idxmax())
    keys = {p.segment: p.key for p in model.personas_}
    assert keys == {str(k): v for k, v in majority.items()}
    assert set(keys.values()) == set(PLANTED)  # each planted segment found once
    for p in model.personas_:
        assert p.actions == cfg.profiling.actions[p.key] and "EUR" in p.description
    # the same personas as naming the found labels directly
    direct = assign_personas(desc, found, cfg.profiling.actions, currency="EUR")
    assert model.personas_ == direct


def test_keys_do_not_depend_on_numbering(demo) -> None:
    _, desc, truth = demo
    seg, _ = _codes(truth)
    perm = seg.map({0: 3, 1: 0, 2: 4, 3: 1, 4: 2})
    a = {p.segment: p.key for p in assign_personas(desc, seg, {})}
    b = {p.segment: p.key for p in assign_personas(desc, perm, {})}
    per_customer_a = seg.astype("str").map(a)
    per_customer_b = perm.astype("str").map(b)
    pd.testing.assert_series_equal(per_customer_a, per_customer_b)


def test_shared_key_gets_suffix(demo) -> None:
    _, desc, truth = demo
    seg, _ = _codes(truth)
    # split the lapsed customers in two: both halves are lapsed
    lapsed = seg[seg == 4].index
    seg = seg.copy()
    seg[lapsed[::2]] = 5
    personas = assign_personas(desc, seg, {})
    names = sorted(p.name for p in personas if p.key == "lapsed")
    assert names == ["Lapsed one-off buyers (1)", "Lapsed one-off buyers (2)"]


def test_unassigned(demo, playbook: Profiling) -> None:
    _, desc, truth = demo
    seg, _ = _codes(truth)
    seg = seg.copy()
    seg.iloc[:40] = -1
    personas = assign_personas(desc, seg, playbook.actions)
    last = personas[-1]
    assert last.segment == "-1" and last.key == "unassigned"
    assert last.name == "Unassigned (outliers)"
    assert last.actions == playbook.actions["unassigned"]
    table = personas_table(personas)
    assert list(table.index) == ["0", "1", "2", "3", "4", "-1"]
    assert list(table.columns) == ["key", "name", "description", "rfm_label", "actions"]


def _rfm_population() -> tuple[pd.DataFrame, pd.Series]:
    # 25 customers: 5 recent/frequent/big, 15 in the middle, 5 old/rare/small
    n = np.arange(25)
    desc = pd.DataFrame(
        {
            "monetary": 10.0 * (n + 1),
            "frequency": n + 1.0,
            "recency_days": 300.0 - 10 * n,
            "units_per_basket": 5.0,
            "mean_unit_price": 2.0,
            "tenure_days": 10.0 * n,
        },
        index=[f"c{i:02d}" for i in n],
    )
    seg = pd.Series(np.where(n >= 20, 0, np.where(n < 5, 1, 2)), index=desc.index)
    return desc, seg


def test_rfm_labels() -> None:
    desc, seg = _rfm_population()
    labels = {p.segment: p.rfm_label for p in assign_personas(desc, seg, {}, rfm=True)}
    assert labels["0"] == "Champions"
    assert labels["1"] in {"Lost", "Hibernating"}
    assert labels["2"] == "Need attention"


def test_no_amount_still_names() -> None:
    desc, seg = _rfm_population()
    personas = assign_personas(desc.drop(columns=["monetary", "mean_unit_price"]), seg, {})
    assert [p.key for p in personas][:2] == ["high_value", "lapsed"]
    assert "revenue" not in personas[0].description
