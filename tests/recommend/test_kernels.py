from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from custseg.recommend.kernels import (
    first_in_runs,
    first_of_key,
    in_recs_order,
    order_in_runs,
    rank_within,
)

# --- orderings on integer codes, against lexsort ----------------------------------------------

codes_st = st.lists(st.tuples(st.integers(0, 4), st.sampled_from([0.0, 0.5, 1.0, 2.0, -1.0]),
                              st.integers(0, 5)), max_size=40)  # fmt: skip


@given(codes_st)
def test_recs_order_is_customer_then_score_desc_then_item_stable(rows):
    cust = np.array([c for c, _, _ in rows], dtype=np.int64)
    score = np.array([s for _, s, _ in rows], dtype=np.float64)
    item = np.array([i for _, _, i in rows], dtype=np.int64)
    want = np.lexsort((item, -score, cust))
    assert in_recs_order(cust, score, item).tolist() == want.tolist()
    srt = np.sort(cust)  # runs: already grouped by customer
    for k in (None, 1, 3):
        ref = np.lexsort((-score, srt))
        if k is not None:
            ref = ref[rank_within(srt[ref]) < k]
        assert order_in_runs(srt, score, k).tolist() == ref.tolist()
    seen: set[tuple[int, int]] = set()
    first = []
    for c, i in zip(srt.tolist(), item.tolist(), strict=True):
        first.append((c, i) not in seen)
        seen.add((c, i))
    assert first_in_runs(srt, item).tolist() == first
    assert first_of_key(srt * 10 + item).tolist() == first
