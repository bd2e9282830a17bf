"""Where the segments lie (a 2-D projection of the customers' features) and how they differ."""

from __future__ import annotations

import altair as alt
import streamlit as st

from custseg.dashboard import tables
from custseg.dashboard.data import Run
from custseg.dashboard.views.common import heading, names

MAX_POINTS = 5000  # a seeded sample beyond this: a scatter of a million points says no more


def page(run: Run) -> None:
    heading(run, "Segment map")
    label = names(run)
    points = tables.projection(run.table("segments"), MAX_POINTS, seed=0)
    points["persona"] = [tables.segment_label(s, label) for s in points["segment"]]
    chart = alt.Chart(points).mark_circle(size=18, opacity=0.6).encode(
        x=alt.X("x", title="first principal component"),
        y=alt.Y("y", title="second principal component"),
        color=alt.Color("persona", title="segment"),
        tooltip=["customer_id", "persona"],
    )  # fmt: skip
    st.altair_chart(chart, width="stretch")
    st.caption(f"{len(points):,} customers shown; features standardised after log1p.")
    st.subheader("Feature profiles (segment means against all customers)")
    summary = run.table("profile_summary")
    summary.index = [tables.segment_label(s, label) if s != "all" else "all customers"
                     for s in summary.index.astype("str")]  # fmt: skip
    st.table(summary.round(3))
    for name in ("feature_boxplots", "category_mix", "region_mix"):
        png = run.figure(name)
        if png is not None:
            st.image(png, caption=name.replace("_", " "))
