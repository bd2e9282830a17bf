"""The shared threshold and the size guard: exact pair counts, a suggestion that passes."""

from __future__ import annotations

import re

import pytest

from custseg.rules import guard
from custseg.rules.guard import MiningTooLarge, estimate_itemsets, min_count
from tests.rules.helpers import itemsets_of


def test_min_count_is_one_integer_threshold():
    assert 0.07 * 100 > 7  # float noise: 7.000000000000001
    assert min_count(0.07, 100) == 7
    assert min_count(0.071, 100) == 8
    assert min_count(0.2, 10) == 2
    assert min_count(1e-12, 10) == 1
    assert min_count(1.0, 10) == 10


def test_guard_refuses_a_tiny_support_and_its_suggestion_passes(demo30k):
    b = demo30k
    items, pairs = estimate_itemsets(b, 0.0005, 1_000)
    assert pairs > 100
    with pytest.raises(MiningTooLarge, match=r"rules\.min_support") as err:
        itemsets_of(b, 0.0005, max_itemsets=1_000)
    exc = err.value
    assert isinstance(exc, ValueError)
    assert (exc.items, exc.pairs) == (items, pairs)
    assert f"{pairs:,} frequent pairs" in str(exc)
    s = exc.suggested_support
    shown = re.search(r"try rules\.min_support=([0-9.e-]+)", str(exc))
    assert shown and float(shown.group(1)) == s  # what the message shows is what passes
    assert len(shown.group(1)) <= 8  # a number a person can type
    sets = itemsets_of(b, s, max_itemsets=1_000)
    assert 0 < (sets["itemsets"].map(len) == 2).sum() <= 100
    assert estimate_itemsets(b, s, 1_000)[1] <= 100
    # and it is the smallest such support: one basket fewer is over the limit
    k = min_count(s, b.n_baskets)
    with pytest.raises(MiningTooLarge):
        itemsets_of(b, (k - 1) / b.n_baskets, max_itemsets=1_000)


def test_estimate_counts_pairs_exactly(demo30k):
    b = demo30k
    sets = itemsets_of(b, 0.01, engine="fim")
    sizes = sets["itemsets"].map(len)
    assert estimate_itemsets(b, 0.01, 2_000_000) == ((sizes == 1).sum(), (sizes == 2).sum())


def test_guard_falls_back_to_item_counts_when_pairs_are_too_costly(demo30k, monkeypatch):
    b = demo30k
    monkeypatch.setattr(guard, "PAIR_WORK_LIMIT", 0)
    with pytest.raises(MiningTooLarge, match=r"rules\.min_support.*too many to count") as err:
        itemsets_of(b, 0.001, max_itemsets=1_000)
    assert err.value.pairs is None
    s = err.value.suggested_support
    assert f"try rules.min_support={s:.12g} " in str(err.value)
    sets = itemsets_of(b, s, max_itemsets=1_000)
    f = (sets["itemsets"].map(len) == 1).sum()
    assert f * (f - 1) // 2 <= 100
    with pytest.raises(MiningTooLarge) as est:
        estimate_itemsets(b, 0.001, 1_000)
    # the estimate's suggestion follows the limit it is given, as the guard's does
    assert est.value.suggested_support == s
    with pytest.raises(MiningTooLarge) as loose:
        estimate_itemsets(b, 0.001, 2_000_000)
    assert loose.value.suggested_support < s
