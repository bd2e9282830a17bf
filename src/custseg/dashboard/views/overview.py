"""Segments at a glance: who they are, how many, what they bring and what to do with them."""

from __future__ import annotations

import streamlit as st

from custseg.dashboard import tables
from custseg.dashboard.data import Run
from custseg.dashboard.views.common import heading, names, shown


def page(run: Run) -> None:
    heading(run, "Segments")
    personas = run.table("personas")
    summary = run.table("profile_summary")
    table = tables.overview(personas, summary, run.info.metrics, run.maybe("value_profile"),
                            run.maybe("segment_offers"), run.products())  # fmt: skip
    m = run.info.metrics
    cols = st.columns(4)
    cols[0].metric("customers", f"{int(m.get('n_customers', summary['customers'].iloc[-1])):,}")
    cols[1].metric("segments", f"{len(table)}")
    cols[2].metric("silhouette", f"{m.get('silhouette', float('nan')):.2f}")
    ari = m.get("stability.ari_mean")
    cols[3].metric("stability (bootstrap ARI)", "–" if ari is None else f"{ari:.2f}")
    st.table(shown(table).set_index("segment"))
    st.caption("Stability: share of a segment's customers found together again when the "
               "customers are resampled (Jaccard; 0.75 stable, 0.85 highly stable).")  # fmt: skip
    label = names(run)
    sizes = table.assign(persona=[tables.segment_label(s, label) for s in table["segment"]])
    st.subheader("Segment sizes")
    st.bar_chart(sizes.set_index("persona")["customers"], horizontal=True)
    st.subheader("Personas and what to do")
    p = personas.reset_index() if "segment" not in personas.columns else personas
    for row in p.itertuples():
        with st.expander(f"{tables.segment_label(row.segment, label)}", expanded=True):
            st.write(row.description)
            for action in tables.actions_of(row.actions):
                st.markdown(f"- {action}")
