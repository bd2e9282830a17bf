"""The frequent-itemset engines `rules.engine` chooses from, behind one signature.

mlxtend's FP-growth and Apriori (on a pandas sparse frame) and Borgelt's C FP-growth (pyfim)
differ in speed by an order of magnitude but must not differ in output, so the config can swap
them freely. Each engine therefore gets the same absolute minimum count, translated into
whatever its library takes without rounding surprises, and returns item column indices and
exact counts; labels, order and the itemset table are made by the caller, once for all.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

# (baskets x frequent items, min count, max_len) -> (sorted column indices per set, counts)
ItemsetEngine = Callable[[sp.csr_matrix, int, int | None], tuple[list[tuple[int, ...]], np.ndarray]]


def _mlxtend_support(count: int, n: int) -> float:
    """A float support that mlxtend turns into exactly `count`.

    mlxtend compares `c / n >= s` (apriori) and also uses `ceil(s * n)` (fpgrowth); halfway
    between count - 1 and count both agree on the integer threshold with no float edge cases.
    """
    return (count - 0.5) / n


def _as_sparse_frame(m: sp.csr_matrix) -> pd.DataFrame:
    return pd.DataFrame.sparse.from_spmatrix(m)


def _counts_from_mlxtend(res: pd.DataFrame, n: int) -> tuple[list[tuple[int, ...]], np.ndarray]:
    sets = [tuple(sorted(int(i) for i in s)) for s in res["itemsets"]]
    counts = np.rint(res["support"].to_numpy(dtype="float64") * n).astype(np.int64)
    return sets, counts


def _engine_fpgrowth(
    m: sp.csr_matrix, count: int, max_len: int | None
) -> tuple[list[tuple[int, ...]], np.ndarray]:
    from mlxtend.frequent_patterns import fpgrowth

    n = m.shape[0]
    res = fpgrowth(_as_sparse_frame(m), min_support=_mlxtend_support(count, n), max_len=max_len)
    return _counts_from_mlxtend(res, n)


def _engine_apriori(
    m: sp.csr_matrix, count: int, max_len: int | None
) -> tuple[list[tuple[int, ...]], np.ndarray]:
    from mlxtend.frequent_patterns import apriori

    # low_memory: the default path materialises a dense baskets x candidates matrix (gigabytes
    # on Online Retail at 1%); this one stays within baskets x frequent items.
    n = m.shape[0]
    res = apriori(
        _as_sparse_frame(m),
        min_support=_mlxtend_support(count, n),
        max_len=max_len,
        low_memory=True,
    )
    return _counts_from_mlxtend(res, n)


def _engine_fim(
    m: sp.csr_matrix, count: int, max_len: int | None
) -> tuple[list[tuple[int, ...]], np.ndarray]:
    import fim

    flat, ptr = m.indices.tolist(), m.indptr.tolist()  # list slices: ~10x faster than np.split
    tracts = [flat[a:b] for a, b in zip(ptr[:-1], ptr[1:], strict=True)]
    # pyfim 6.28 never reports an item that is in every transaction (nor, so, any set of such
    # items): it treats them as perfect extensions of the empty set. One empty transaction
    # makes no item universal and changes no absolute count.
    tracts.append([])
    # negative supp = absolute minimum count: no percentage rounding inside pyfim
    limit = {} if max_len is None else {"zmax": int(max_len)}
    found = fim.fpgrowth(tracts, target="s", supp=-count, zmin=1, report="a", **limit)
    sets = [tuple(sorted(int(i) for i in s)) for s, _ in found]
    counts = np.array([c for _, c in found], dtype=np.int64)
    return sets, counts


# config name (rules.engine) -> the engine
ENGINES: dict[str, ItemsetEngine] = {
    "fpgrowth": _engine_fpgrowth,
    "apriori": _engine_apriori,
    "fim": _engine_fim,
}
