"""One customer: their segment and persona, what their history looks like, what they are worth
next, and what to offer them, with the reasons."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from custseg.dashboard import tables
from custseg.dashboard.data import Run
from custseg.dashboard.views.common import heading, names


def page(run: Run) -> None:
    heading(run, "Customer lookup")
    given = st.text_input("customer id", value=st.query_params.get("customer", ""),
                          key="customer_id").strip()  # fmt: skip
    if not given:
        st.info("Type a customer id (as in your data), e.g. one from the Downloads page.")
        return
    st.query_params["customer"] = given
    segments = run.table("segments", where=("customer_id", given))
    segments.index = segments.index.astype("str")
    if given not in segments.index:
        st.warning(f"No customer {given!r} in this run.")
        return
    row = segments.loc[given]
    seg = str(int(row["segment"]))
    label = names(run)
    persona = label.get(seg, f"segment {seg}")
    st.subheader(f"Customer {given}: {tables.segment_label(seg, label)}")
    st.write(f"Segment {seg}, persona **{persona}**.")
    history = row.drop("segment").rename("value").to_frame()
    if run.has("customer_value"):
        value = run.table("customer_value", where=("customer_id", given))
        value.index = value.index.astype("str")
        if given in value.index:
            history = pd.concat([history, value.loc[given].rename("value").to_frame()])
    st.markdown("**History and value**")
    st.table(history.round(3))
    if not run.has("recommendations"):
        st.info("This run made no recommendations (recommend=none or rules=none).")
        return
    mine = run.table("recommendations", where=("customer_id", given))
    mine = mine.sort_values("rank") if "rank" in mine else mine
    st.markdown("**Recommendations**")
    if mine.empty:
        st.info("No recommendation for this customer.")
        return
    products = run.products()
    mine = mine.assign(product=[products.get(str(i), "") for i in mine["item"]])
    keep = [c for c in ("rank", "item", "product", "reason", "source", "expected_value")
            if c in mine and (c != "product" or products)]  # fmt: skip
    st.table(mine[keep].set_index(keep[0]))
