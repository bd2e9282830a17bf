"""The eclat engine (the default): its bits, its itemsets against a brute-force count and pyfim,
on random baskets and on the shared datasets, and the message when pyfim is not installed."""

from __future__ import annotations

import sys
from collections import Counter
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from custseg.rules.baskets import make_baskets
from custseg.rules.eclat import eclat, pack_columns
from custseg.rules.engines import ENGINES
from custseg.rules.guard import item_counts, min_count
from custseg.rules.mining import frequent_itemsets, mine
from tests.conftest import make_config
from tests.rules.helpers import NO_FILTERS, TINY, YAML_RULES, baskets_of, itemsets_of


def _as_dict(found: tuple[list[tuple[int, ...]], np.ndarray]) -> dict[tuple[int, ...], int]:
    sets, counts = found
    out = dict(zip(sets, counts.tolist(), strict=True))
    assert len(out) == len(sets), "an itemset reported twice"
    assert all(list(s) == sorted(s) for s in sets)
    return out


def _brute_force(m: sp.csr_matrix, count: int, max_len: int | None) -> dict:
    """Every itemset of every basket, counted with a Counter: no pruning, no bits."""
    m = sp.csr_matrix(m)
    top = max_len or m.shape[1]
    found: Counter = Counter()
    for r in range(m.shape[0]):
        row = sorted(m.indices[m.indptr[r] : m.indptr[r + 1]].tolist())
        for k in range(1, min(top, len(row)) + 1):
            found.update(combinations(row, k))
    return {s: c for s, c in found.items() if c >= count}


def test_eclat_is_the_default_engine():
    assert ENGINES["eclat"] is eclat
    assert make_config().rules.engine == "eclat"
    sets = itemsets_of(baskets_of(TINY), 0.2, engine="eclat")
    got = {"".join(sorted(s)): int(c) for s, c in zip(sets["itemsets"], sets["count"], strict=True)}
    assert got == {"a": 6, "b": 6, "c": 4, "e": 2, "ab": 4, "ac": 2, "bc": 2, "ae": 2, "be": 2,
                   "abe": 2}  # fmt: skip


@pytest.mark.parametrize("n", [1, 63, 64, 65, 200])
def test_packed_columns_hold_exactly_the_baskets_bits(n):
    rng = np.random.default_rng(n)
    dense = rng.random((n, 7)) < 0.3
    dense[:, 3] = False  # an item in no basket
    bits = pack_columns(sp.csr_matrix(dense))
    assert bits.dtype == np.uint64 and bits.shape == (7, (n + 63) // 64)
    unpacked = np.unpackbits(bits.view(np.uint8), axis=1, bitorder="little")
    np.testing.assert_array_equal(unpacked[:, :n].T.astype(bool), dense)
    assert not unpacked[:, n:].any()  # the padding past the last basket stays clear


@pytest.mark.parametrize("seed", range(12))
def test_random_baskets_match_a_brute_force_count_and_pyfim(seed):
    rng = np.random.default_rng(seed)
    n, f = int(rng.integers(20, 400)), int(rng.integers(2, 14))
    # skewed item popularity and some large baskets, so itemsets of 4+ items are frequent
    p = rng.uniform(0.02, 0.7, size=f)
    m = sp.csr_matrix(rng.random((n, f)) < p)
    count = int(rng.integers(1, max(2, n // 8)))
    for max_len in (None, 1, 2, 3):
        got = _as_dict(eclat(m, count, max_len))
        assert got == _brute_force(m, count, max_len), (seed, max_len)
        assert got == _as_dict(ENGINES["fim"](m, count, max_len)), (seed, max_len)
    assert max(map(len, _as_dict(eclat(m, count, None)))) >= 2


def test_items_below_the_count_and_empty_baskets_are_handled():
    # column 1 is in every basket, column 2 in none, and half the rows are empty
    m = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 0], [1, 1, 0]] + [[0, 0, 0]] * 3, dtype=bool))
    assert _as_dict(eclat(m, 2, None)) == {(0,): 2, (1,): 3, (0, 1): 2}
    assert _as_dict(eclat(m, 4, None)) == {}
    assert _as_dict(eclat(m, 3, 1)) == {(1,): 3}


def test_groceries_eclat_equals_pyfim_at_every_size(groceries_lines):
    b = make_baskets(groceries_lines)  # member x day invoices (conf/data/groceries.yaml)
    for s in (0.001, 0.0005):
        got = itemsets_of(b, s, engine="eclat")
        pd.testing.assert_frame_equal(got, itemsets_of(b, s, engine="fim"))
        assert got["itemsets"].map(len).max() >= 3


@pytest.mark.slow
def test_online_retail_eclat_equals_pyfim_down_to_six_items(online_retail_lines):
    b = make_baskets(online_retail_lines)
    got = itemsets_of(b, 0.005, engine="eclat")
    pd.testing.assert_frame_equal(got, itemsets_of(b, 0.005, engine="fim"))
    by_size = got["itemsets"].map(len).value_counts().sort_index().to_dict()
    assert by_size == {1: 1243, 2: 1844, 3: 940, 4: 355, 5: 54, 6: 1}  # bench/RESULTS.md
    # and a few of the largest recounted straight from the matrix
    freq = np.flatnonzero(item_counts(b) >= min_count(0.005, b.n_baskets))
    col = {str(b.items[j]): j for j in freq}
    for s, c in zip(got["itemsets"], got["count"], strict=True):
        if len(s) >= 5:
            rows = b.matrix[:, [col[x] for x in s]].toarray().all(axis=1)
            assert int(rows.sum()) == c, s


def test_fim_without_pyfim_names_the_key_and_the_fix(monkeypatch):
    # what a wheel-only install sees: no `fim` module (None in sys.modules: import fails)
    monkeypatch.setitem(sys.modules, "fim", None)
    b = baskets_of(TINY)
    fix = r"rules\.engine=fim needs pyfim.*pip install 'custseg\[fim\]'.*rules\.engine=eclat"
    with pytest.raises(ValueError, match=fix) as err:
        frequent_itemsets(b, 0.2, engine="fim", max_itemsets=1_000)
    assert not isinstance(err.value, ImportError) and err.value.__suppress_context__
    with pytest.raises(ValueError, match=fix):
        ENGINES["fim"](b.matrix, 2, None)  # the engine itself, called directly
    cfg = YAML_RULES.model_copy(update={**NO_FILTERS, "engine": "fim", "min_support": 0.2})
    with pytest.raises(ValueError, match=fix):
        mine(b, None, cfg)
    # the other engines do not need it
    assert len(mine(b, None, cfg.model_copy(update={"engine": "eclat"}))[0]) > 0
