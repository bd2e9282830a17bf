"""A segment's customers with their top offers, as CSV a campaign tool or spreadsheet opens
safely (no cell runs as a formula)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from custseg.dashboard import tables
from custseg.dashboard.data import Run
from custseg.dashboard.views.common import heading, names


@st.cache_data(show_spinner="listing the segment's customers", max_entries=16,
               hash_funcs={Run: lambda r: (r.uri, r.run_id)})  # fmt: skip
def _listing(run: Run, segment: str, offers: int) -> tuple[pd.DataFrame, bytes]:
    """The campaign table and its CSV, once per run, segment and list length."""
    segments = run.table("segments", ["segment"])["segment"]
    recs = (run.table("recommendations", ["customer_id", "item", "rank"])
            if run.has("recommendations") else None)  # fmt: skip
    listing = tables.campaign(segments, recs, segment, offers)
    return listing, tables.csv_bytes(listing)


def page(run: Run) -> None:
    heading(run, "Downloads")
    label = names(run)
    segments = run.table("segments", ["segment"])["segment"]
    options = sorted(segments.astype("str").unique(), key=lambda s: int(s))
    chosen = st.selectbox("segment", options, format_func=lambda s: tables.segment_label(s, label))
    offers = st.slider("offers per customer", 1, 10, 3)
    listing, csv = _listing(run, chosen, offers)
    st.caption(f"{len(listing):,} customers in {tables.segment_label(chosen, label)}")
    st.dataframe(listing.head(200), hide_index=True, width="stretch")
    st.download_button(f"download segment {chosen} as CSV", csv,
                       file_name=f"segment_{chosen}_{run.run_id[:8]}.csv", mime="text/csv")
