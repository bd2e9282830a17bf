"""The association rules, overall or inside a segment, filtered; and how segments differ in
what they buy with one product."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from custseg.dashboard import tables
from custseg.dashboard.data import Run
from custseg.dashboard.views.common import heading, names


def page(run: Run) -> None:
    heading(run, "Rules")
    scopes = sorted(n[len("rules_segment_"):-len(".parquet")] for n in run.logged
                    if n.startswith("rules_segment_") and n.endswith(".parquet"))  # fmt: skip
    if not run.has("rules_all") and not scopes:
        st.warning("This run has no association rules (it ran with rules=none, or its data "
                   "has no product ids). Pick a run with rules to explore them.")  # fmt: skip
        return
    label = names(run)
    options = [*(["all"] if run.has("rules_all") else []),
               *sorted(scopes, key=lambda s: int(s) if s.lstrip("-").isdigit() else 0)]  # fmt: skip
    scope = st.selectbox("rules of", options, format_func=lambda s: "all customers" if s == "all"
                         else tables.segment_label(s, label))  # fmt: skip
    found = run.table("rules_all" if scope == "all" else f"rules_segment_{scope}")
    products = run.products()
    c = st.columns(4)
    item = c[0].text_input("item (name or id, or part of it)", key="rules_item")
    lift = c[1].slider("lift at least", 0.0, max(float(found["lift"].max()), 1.0), 1.0)
    confidence = c[2].slider("confidence at least", 0.0, 1.0, 0.0)
    support = c[3].slider("support at least", 0.0, max(float(found["support"].max()), 0.01), 0.0)
    shown = tables.filter_rules(found, item, lift, confidence, support, products)
    st.caption(f"{len(shown):,} of {len(found):,} rules")
    st.dataframe(tables.readable_rules(shown, products)[["antecedent", "consequent", "support",
                                                         "confidence", "lift"]],
                 hide_index=True, width="stretch")  # fmt: skip
    st.subheader("Segments buy differently")
    every = [run.table(f"rules_segment_{s}") for s in scopes]
    if run.has("rules_all"):
        every.insert(0, run.table("rules_all"))
    pooled = pd.concat(every, ignore_index=True)
    product = st.text_input("a product bought (what goes with it, segment by segment)",
                            key="partners_item", placeholder="product id or name")  # fmt: skip
    if product:
        side = tables.partners(pooled, product, label, products=products)
        if side.empty:
            st.info(f"No rule starts from {product!r}.")
        else:
            st.table(side)
