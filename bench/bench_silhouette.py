"""Exact vs stratified-sample silhouette on demo basket features, run by hand:
`python bench/bench_silhouette.py [--customers 100000]`. Appends to bench/RESULTS.md."""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import date
from pathlib import Path

from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from custseg.clean import clean
from custseg.config import load
from custseg.data import synthetic
from custseg.data.schema import validate
from custseg.features import builder
from custseg.segment.metrics import segmentation_metrics

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--sample-size", type=int, default=10_000)
    args = ap.parse_args()
    config = load(["features=basket"])
    rows = int(args.customers * 72)  # about 72 clean lines per demo customer
    demo = synthetic.generate(synthetic.DemoParams(n_rows=rows), seed=0)
    tx, _ = clean(validate(demo.transactions, "demo"), config.clean)
    features = builder(config.features)
    X = features.scaling(0).fit_transform(features.fit_transform(tx))
    labels = KMeans(5, n_init=3, random_state=0).fit_predict(X)
    n = len(X)
    t0 = time.perf_counter()
    sampled = segmentation_metrics(X, labels, max_exact=0, sample_size=args.sample_size)
    t_sample = time.perf_counter() - t0
    t0 = time.perf_counter()
    exact = silhouette_score(X, labels)
    t_exact = time.perf_counter() - t0
    line = (
        f"| silhouette, {n:,} customers | exact {exact:.4f} in {t_exact:.1f} s | "
        f"stratified {int(sampled['silhouette_sample_size']):,}-sample {sampled['silhouette']:.4f}"
        f" in {t_sample:.2f} s | speed-up {t_exact / t_sample:.0f}x |"
    )
    print(line)
    with open(HERE / "RESULTS.md", "a") as fh:
        fh.write(
            f"\n## Silhouette sampling, {date.today()} ({platform.machine()}, {os.cpu_count()} "
            f"cores, Python {platform.python_version()})\n\n| what | exact | sampled | gain |\n"
            f"| --- | --- | --- | --- |\n{line}\n"
        )


if __name__ == "__main__":
    main()
