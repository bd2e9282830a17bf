"""Eclat on packed bit columns: the frequent-itemset engine that needs nothing but numpy.

pyfim is the fastest engine but ships no wheel (it compiles C at install); mlxtend's engines
install anywhere but are 10-20x slower. This one is plain numpy and scipy, so it installs from
wheels, and stays close to pyfim because its Python-level work is per *frequent* itemset, never
per candidate:

- every item's baskets are one row of bits (baskets / 64 words), so intersecting two tidsets
  is a bitwise AND and counting one is `np.bitwise_count`;
- frequent pairs come from one sparse product X^T X (what the guard counts anyway), so a
  prefix only ever tries extensions whose pair with every prefix item is frequent;
- depth-first, each frequent itemset P ANDs its own bits with the bits of all its remaining
  extensions at once (one 2-D array operation) and keeps the extensions that stay frequent.

Items are processed in ascending count order (the classic Eclat order: rare prefixes have few
extensions). Counts are exact integers, so the output equals fim's and mlxtend's.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def _popcount_rows(words: np.ndarray) -> np.ndarray:
    """Set bits per row of a words array (numpy >= 2: a hardware popcount per word)."""
    return np.bitwise_count(words).sum(axis=-1, dtype=np.int64)


def pack_columns(m: sp.csr_matrix) -> np.ndarray:
    """Items x words uint64: bit r of item j's row is set when basket r holds item j.

    Built from the nonzeros alone (bytes OR-ed per (item, byte) run), never a dense baskets x
    items array: memory is items x baskets / 8 bytes plus the entries.
    """
    n, f = m.shape
    words = max((n + 63) // 64, 1)
    c = sp.csc_matrix(m)
    c.sort_indices()
    rows = c.indices.astype(np.int64)
    cols = np.repeat(np.arange(f, dtype=np.int64), np.diff(c.indptr))
    out = np.zeros(f * words * 8, dtype=np.uint8)
    if len(rows):
        key = cols * (words * 8) + rows // 8  # nondecreasing: sorted by item, then basket
        val = np.left_shift(np.uint8(1), (rows % 8).astype(np.uint8))
        start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        out[key[start]] = np.bitwise_or.reduceat(val, start)
    # byte k of a little-endian word holds bits 8k..8k+7: a consistent order is all that counts
    return out.view("<u8").reshape(f, words)


def _pairs(x: sp.csr_matrix, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frequent pairs i < j as CSR arrays: indptr over i, partners j ascending, their counts.

    One sparse product X^T X (cost: the sum of squared basket sizes), as the guard counts them.
    """
    xi = sp.csr_matrix(x, dtype=np.int32)
    co = sp.triu(xi.T @ xi, k=1).tocsr()
    co.data[co.data < count] = 0
    co.eliminate_zeros()
    co.sort_indices()
    return co.indptr, co.indices, co.data.astype(np.int64)


def eclat(
    m: sp.csr_matrix, count: int, max_len: int | None
) -> tuple[list[tuple[int, ...]], np.ndarray]:
    """Itemsets in at least `count` rows of `m` (baskets x items, bool): sorted column index
    tuples and their exact counts, up to `max_len` items (None: no limit)."""
    m = sp.csr_matrix(m, dtype=bool)
    singles = np.bincount(m.indices, minlength=m.shape[1])
    frequent = np.flatnonzero(singles >= count)
    frequent = frequent[np.argsort(singles[frequent], kind="stable")]  # ascending count
    # itemsets as positions in that order until the end
    sets: list[tuple[int, ...]] = [(k,) for k in range(len(frequent))]
    counts: list[int] = singles[frequent].tolist()
    limit = np.inf if max_len is None else int(max_len)
    if limit < 2 or len(frequent) < 2:
        return [(int(i),) for i in frequent], np.array(counts, dtype=np.int64)
    x = m[:, frequent]  # column k is the k-th item in ascending count order
    # partner[ptr[k]:ptr[k + 1]]: the items after k (in that order) forming a frequent pair
    ptr, partner, pair_count = _pairs(x, count)
    bits = pack_columns(x) if limit > 2 else None
    mark = np.zeros(len(frequent), dtype=bool)  # scratch: one item's frequent partners

    def grow(prefix: list[int], ext: np.ndarray, tids: np.ndarray) -> None:
        """prefix + ext[a] is frequent for every a, its bits in tids[a]; find its supersets."""
        for a in range(len(ext) - 1):
            head = int(ext[a])
            rest = ext[a + 1 :]
            # an extension must also form a frequent pair with the new item (Apriori property)
            partners = partner[ptr[head] : ptr[head + 1]]
            if not len(partners):
                continue
            mark[partners] = True
            ok = mark[rest]
            mark[partners] = False
            if not ok.any():
                continue
            cand = np.flatnonzero(ok) + a + 1
            joined = tids[cand] & tids[a]
            c = _popcount_rows(joined)
            keep = c >= count
            if not keep.any():
                continue
            grown = [*prefix, head]
            new_ext = ext[cand[keep]]
            sets.extend(tuple(grown + [int(e)]) for e in new_ext)
            counts.extend(c[keep].tolist())
            if len(grown) + 2 <= limit and len(new_ext) >= 2:
                grow(grown, new_ext, joined[keep])

    for k in range(len(frequent) - 1):
        lo, hi = ptr[k], ptr[k + 1]
        if lo == hi:
            continue
        ext = partner[lo:hi]
        sets.extend((k, int(e)) for e in ext)
        counts.extend(pair_count[lo:hi].tolist())
        if bits is not None and hi - lo >= 2:
            grow([k], ext, bits[ext] & bits[k])

    # back from positions in ascending-count order to the caller's columns, each tuple sorted
    cols = frequent.tolist()
    return [tuple(sorted(cols[i] for i in s)) for s in sets], np.array(counts, dtype=np.int64)
