"""Every recommender x metric on UCI Online Retail and on the demo data, with each source's fit
and scoring time and peak memory: `python bench/bench_recommend.py [--no-write]`.

Each data set is split as the run splits it (Online Retail at 2011-11-01, the demo data at its
default cut), a customer model is fitted on the training side (its learned blend included), and
then every source is fitted again alone and asked for the test customers' lists, timed and with
its peak allocation traced (numpy and scipy report theirs to tracemalloc). The metrics come from
`custseg.recommend.evaluate.evaluation_table`, the run's own code. Appends to bench/RESULTS.md.
"""

from __future__ import annotations

import platform
import time
import tracemalloc
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from results import parser, publish  # bench/results.py, beside this script

from custseg.clean import clean
from custseg.config import load
from custseg.data.sources import load as load_data
from custseg.model import CustomerModel
from custseg.recommend.evaluate import evaluation_table
from custseg.recommend.history import histories
from custseg.recommend.recommenders import BLEND, FITTERS, Window
from custseg.recommend.split import split
from custseg.rules.baskets import make_baskets

HERE = Path(__file__).resolve().parent
SETS = {
    "Online Retail": (["data=online_retail", "features=rfm", "report=none"], "2011-11-01"),
    "demo (100k lines)": (["data.generator.n_rows=100000", "report=none"], None),
}
K = 10
COLUMNS = ["hit_rate", "precision", "recall", "ndcg", "map", "coverage", "novelty", "diversity",
           "repeat.hit_rate"]  # fmt: skip


def traced(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """fn's result, wall seconds and peak traced allocation (MB)."""
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out, seconds, peak


def bench(name: str, overrides: list[str], cutoff: str | None) -> list[str]:
    cfg = load(overrides)
    rec, rules = cfg.recommend, cfg.rules
    tx, _ = clean(load_data(cfg.data, cfg.seed).transactions, cfg.clean)
    train, truth, info = split(tx, cutoff, rec.evaluate.test_fraction, rules.item)
    model, fit_all, _ = traced(lambda: CustomerModel(cfg, describe=False).fit(train))
    lines = train[train["customer_id"].astype("str").isin(truth.customers)]
    segments = model.segment(lines, clean=False)
    history = histories(lines, rules.item, rec.half_life_days)
    bought = histories(train, rules.item, rec.half_life_days)
    baskets = make_baskets(train, rules.basket, rules.item, rules.min_item_count)
    window = Window(bought, baskets, model.rules_, model.segment(train, clean=False))
    lists, timing = {}, {}
    for source, fit in FITTERS.items():
        fitted, fit_s, fit_mb = traced(lambda fit=fit: fit(window, rec))
        recs, score_s, score_mb = traced(lambda f=fitted: f.recommend(history, segments, K))
        lists[source], timing[source] = recs, (fit_s, fit_mb, score_s, score_mb)
    blended, score_s, score_mb = traced(lambda: model.recommend(lines, clean=False))
    lists = {BLEND: blended, **lists}
    timing[BLEND] = (fit_all, float("nan"), score_s, score_mb)
    table = evaluation_table(lists, truth.new, (K,), model.training_.catalogue, truth.repeat,
                             bought)  # fmt: skip
    weights = {s: w for s, w in model.blend_.weights.items() if w}
    out = [
        f"\n### {name}: {info['train_rows']:,} training lines before {info['cutoff']}, "
        f"{info['test_customers']:,} customers with new items "
        f"({info['test_items_unseen_in_training']:,} of their {info['test_items']:,} new items "
        f"never sold before the cut: misses for all), {info['repeat_customers']:,} with "
        f"repeats; learned blend {weights}\n",
        "| recommender | fit s | fit peak MB | score s | score peak MB | "
        + " | ".join(f"{c}@{K}" for c in COLUMNS) + " |",
        "| --- |" + " ---: |" * (4 + len(COLUMNS)),
    ]
    for source, row in table.iterrows():
        fit_s, fit_mb, score_s, score_mb = timing[str(source)]
        fit_text = f"{fit_s:.2f} (whole model)" if source == BLEND else f"{fit_s:.2f}"
        mb = "" if fit_mb != fit_mb else f"{fit_mb:,.0f}"
        cells = [f"{row[f'{c}@{K}']:.3f}" for c in COLUMNS]
        out.append(f"| {source} | {fit_text} | {mb} | {score_s:.2f} | {score_mb:,.0f} | "
                   + " | ".join(cells) + " |")  # fmt: skip
        print(out[-1], flush=True)
    return out


def main() -> None:
    ap = parser(__doc__)
    args = ap.parse_args()
    lines = [
        f"\n## Recommenders, {date.today()} (`python bench/bench_recommend.py`)\n",
        f"{platform.machine()}, {platform.python_version()}; k = {K}; accuracy on new items "
        "(repeat.hit_rate on repeat items). Fit and score seconds are wall clock under "
        "tracemalloc (slower than untraced); peak MB is the traced allocation of that step; "
        "the custseg row's fit is the whole customer model on the training side (segments, "
        "rules, every source and the blend's validation refit).",
    ]
    for name, (overrides, cutoff) in SETS.items():
        lines += bench(name, overrides, cutoff)
    publish(lines, write=not args.no_write)


if __name__ == "__main__":
    main()
