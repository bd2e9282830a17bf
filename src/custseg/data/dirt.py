"""The dirt a real export carries, added to the demo so cleaning has something to remove.

Postage lines, cancellations, anonymous guest checkouts and exact duplicates: the faults the
cleaning rules exist for, each counted, so tests can check cleaning removes exactly these rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from custseg.data.synthetic import DemoParams


def add_dirt(
    tx: pd.DataFrame, params: DemoParams, n_inv: int, rng: np.random.Generator
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Append the rows a real export carries and cleaning must remove; count each kind."""
    n = len(tx)
    n_prod = params.n_products
    tx["cancelled"] = False
    parts = [tx]
    next_inv = 500_000 + n_inv

    # postage: one POST line on a share of invoices (product code n_prod is 'POST')
    inv_first = np.flatnonzero(np.r_[True, np.diff(tx["invoice_no"].to_numpy()) != 0])
    post_rows = inv_first[rng.random(inv_first.size) < params.postage_rate]
    post = tx.iloc[post_rows].copy()
    post["product_id"], post["quantity"], post["unit_price"] = n_prod, 1, 18.0
    parts.append(post)

    # cancellations: copies of real lines on new 'C' invoices with negative quantity
    canc = tx.iloc[rng.choice(n, int(n * params.cancel_rate), replace=False)].copy()
    canc["quantity"] = -canc["quantity"]
    canc["invoice_no"] = next_inv + np.arange(len(canc))
    canc["invoice_date"] = canc["invoice_date"] + pd.Timedelta(days=1)
    canc["cancelled"] = True
    next_inv += len(canc)
    parts.append(canc)

    # anonymous lines: guest checkouts with no customer id
    anon = tx.iloc[rng.choice(n, int(n * params.anonymous_rate), replace=False)].copy()
    anon["customer_id"] = pd.Categorical.from_codes(
        np.full(len(anon), -1), tx["customer_id"].cat.categories
    )
    anon["invoice_no"] = next_inv + np.arange(len(anon)) // 3
    next_inv += len(anon)
    parts.append(anon)

    # exact duplicates of clean lines
    dup = tx.iloc[rng.choice(n, int(n * params.duplicate_rate), replace=False)].copy()
    parts.append(dup)

    out = pd.concat(parts, ignore_index=True)
    shuffled = rng.permutation(len(out))  # shuffled, then a stable sort by date: one take
    dates = out["invoice_date"].to_numpy()[shuffled]
    out = out.iloc[shuffled[np.argsort(dates, kind="stable")]]
    dirt = {
        "postage": len(post),
        "cancellations": len(canc),
        "anonymous": len(anon),
        "duplicates": len(dup),
        "clean_rows": n,
    }
    return out.reset_index(drop=True), dirt
