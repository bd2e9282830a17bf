"""The frequent-itemset engines `rules.engine` chooses from, behind one signature.

Eclat on bit columns (`custseg.rules.eclat`, numpy only: the default), mlxtend's FP-growth and
Apriori (on a pandas sparse frame) and Borgelt's C FP-growth (pyfim, the optional extra `fim`:
it has no wheel and needs a C compiler to install) differ in speed by an order of magnitude but
must not differ in output, so the config can swap them freely. Each engine therefore gets the
same absolute minimum count, translated into whatever its library takes without rounding
surprises, and returns item column indices and exact counts; labels, order and the itemset
table are made by the caller, once for all.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from custseg.rules.eclat import eclat

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


FIM_MISSING = (
    "rules.engine=fim needs pyfim, which is not installed (it has no wheel and compiles C at "
    "install): pip install 'custseg[fim]' (with a C compiler), or choose rules.engine=eclat, "
    "the default, which returns the same itemsets"
)


def check_engine(engine: str) -> None:
    """Refuse an unknown engine, or one whose optional library is missing, naming the key and
    the fix: before the guard and the counting, not as an ImportError deep inside mining."""
    if engine not in ENGINES:
        raise ValueError(f"rules.engine: unknown engine {engine!r}; one of {list(ENGINES)}")
    if engine == "fim":
        try:
            import fim  # noqa: F401
        except ImportError:
            raise ValueError(FIM_MISSING) from None


def _engine_fim(
    m: sp.csr_matrix, count: int, max_len: int | None
) -> tuple[list[tuple[int, ...]], np.ndarray]:
    try:
        import fim
    except ImportError:
        raise ValueError(FIM_MISSING) from None

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
    "eclat": eclat,
    "fpgrowth": _engine_fpgrowth,
    "apriori": _engine_apriori,
    "fim": _engine_fim,
}
