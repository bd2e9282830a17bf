"""Two or more runs side by side: their numbers, their sizes, and which persona became which."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from custseg.dashboard import data, tables
from custseg.dashboard.views.common import names
from custseg.tracking.explore import run_label

METRICS = ("n_customers", "n_segments", "silhouette", "davies_bouldin", "calinski_harabasz",
           "stability.ari_mean", "min_segment_share", "max_segment_share", "max_revenue_share",
           "eval.custseg.hit_rate_at_10", "eval.custseg.ndcg_at_10", "value.clv_total")  # fmt: skip


def page(uri: str) -> None:
    st.header("Compare runs")
    every = data.runs(uri)
    if len(every) < 2:
        st.info("Comparing needs two runs in the store; this one has "
                f"{len(every)}. Run `python -m custseg` with other settings first.")  # fmt: skip
        return
    labels = {r.run_id: run_label(r.run_name, r.start, r.run_id) for r in every.itertuples()}
    given = [r for r in st.query_params.get("runs", "").split(",") if r in labels]
    chosen = st.multiselect("runs", list(labels), default=given or list(labels)[:2],
                            format_func=labels.get)  # fmt: skip
    if len(chosen) < 2:
        st.info("Pick two runs or more.")
        return
    runs = [data.open_run(uri, r) for r in chosen]
    st.subheader("Numbers")
    side = pd.DataFrame({labels[r.run_id]: {m: r.info.metrics.get(m) for m in METRICS}
                         for r in runs})  # fmt: skip
    st.table(side.dropna(how="all").round(4))
    st.subheader("Sizes")
    for r in runs:
        summary = r.table("profile_summary")
        label = names(r)
        sizes = summary.drop(index="all", errors="ignore")["customers"]
        sizes.index = [tables.segment_label(s, label) for s in sizes.index.astype("str")]
        st.markdown(f"**{labels[r.run_id]}**")
        st.bar_chart(sizes, horizontal=True)
    st.subheader("Which persona became which")
    first = runs[0]
    a = first.table("segments", ["segment"])["segment"]
    for other in runs[1:]:
        b = other.table("segments", ["segment"])["segment"]
        cross, ari, best = tables.alignment(a, b, names(first), names(other))
        both = int(cross.to_numpy().sum())
        if both == 0:
            st.info(f"{labels[first.run_id]} and {labels[other.run_id]} share no customer "
                    "(other data?): there is nothing to align.")  # fmt: skip
            continue
        st.markdown(f"**{labels[first.run_id]} → {labels[other.run_id]}**: adjusted Rand "
                    f"index {ari:.3f} on {both:,} customers in both")
        st.table(best.assign(**{"share of its customers": best["share of its customers"]
                                .map(lambda v: f"{v:.0%}")}))  # fmt: skip
        st.dataframe(cross, width="stretch")
