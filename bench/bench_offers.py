"""Offers ranked by expected value against the same blend by relevance, on UCI Online Retail and
the demo data: `python bench/bench_offers.py [--no-write]`.

Each data set goes through the run's own evaluation (`custseg.recommend.holdout.evaluate`) with
recommend.rank_by=expected_value, so both rankings come from one model of the past: `custseg`
(served, by expected value) and `custseg_relevance`. Revenue is what the new items each test
customer bought from their top k sell for (median line amount). The rerank's own time is
measured on the run's lists for every customer. Appends to bench/RESULTS.md.
"""

from __future__ import annotations

import platform
import time
from datetime import date

from results import parser, publish  # bench/results.py, beside this script

from custseg.clean import clean
from custseg.config import load
from custseg.data.sources import load as load_data
from custseg.model import CustomerModel
from custseg.recommend.holdout import evaluate
from custseg.recommend.recommenders import BLEND, RELEVANCE

SETS = {
    "Online Retail": ["data=online_retail", "features=rfm"],
    "demo (100k lines)": ["data.generator.n_rows=100000"],
}
COLUMNS = ("hit_rate", "ndcg", "revenue")
KS = (5, 10)


def bench(name: str, overrides: list[str]) -> list[str]:
    cfg = load([*overrides, "report=none", "recommend.rank_by=expected_value"])
    tx, _ = clean(load_data(cfg.data, cfg.seed).transactions, cfg.clean)
    t0 = time.perf_counter()
    model = CustomerModel(cfg, describe=False).fit(tx)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    lists = model.recommend_all(tx, [BLEND, RELEVANCE], clean=False)
    both_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.recommend_all(tx, [RELEVANCE], clean=False)
    relevance_s = time.perf_counter() - t0
    ev = evaluate(cfg, tx, model)
    table, split = ev.table, ev.split
    curve = model.expected_.purchase if model.expected_ is not None else []
    customers = lists[BLEND]["customer_id"].nunique()
    out = [
        f"\n### {name}: cut {split['cutoff']}, {split['scored_customers']} test customers; "
        f"fit {fit_s:.1f} s; lists for {customers:,} customers: relevance alone "
        f"{relevance_s:.2f} s, both rankings {both_s:.2f} s; P(purchase) at positions 1, 10, "
        f"30: {curve[0]:.4f}, {curve[9]:.4f}, {curve[-1]:.4f}\n",
        "| ranking | " + " | ".join(f"{c}@{k}" for k in KS for c in COLUMNS) + " |",
        "| --- |" + " ---: |" * (len(KS) * len(COLUMNS)),
    ]
    for row, label in ((BLEND, "expected value (custseg)"), (RELEVANCE, "relevance")):
        cells = [f"{table.loc[row, f'{c}@{k}']:.3f}" for k in KS for c in COLUMNS]
        out.append(f"| {label} | " + " | ".join(cells) + " |")
        print(out[-1], flush=True)
    gain = table.loc[BLEND, "revenue@10"] / table.loc[RELEVANCE, "revenue@10"] - 1
    hits = table.loc[BLEND, "hit_rate@10"] / table.loc[RELEVANCE, "hit_rate@10"] - 1
    out.append(f"\nrevenue@10 {gain:+.1%}, hit_rate@10 {hits:+.1%}.")
    return out


def main() -> None:
    ap = parser(__doc__)
    args = ap.parse_args()
    lines = [
        f"\n## Offers by expected value, {date.today()} (`python bench/bench_offers.py`)\n",
        f"{platform.machine()}, {platform.python_version()}; recommend.rank_by=expected_value, "
        f"candidates 30, k {KS}; no value stage (P(alive) scales lists, not their order).",
    ]
    for name, overrides in SETS.items():
        lines += bench(name, overrides)
    publish(lines, write=not args.no_write)


if __name__ == "__main__":
    main()
