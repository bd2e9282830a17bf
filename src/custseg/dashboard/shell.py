"""What every page of the explorer runs inside: the run picker in the sidebar and the guard
that turns a missing run, table or store into a message in the page, never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pandas as pd
import streamlit as st

from custseg.dashboard import data

log = logging.getLogger("custseg.dashboard")
ANY = "any"


def guarded(show: Callable[[], None]) -> None:
    """Run a page; what is missing or broken becomes a message in the page, never a trace."""
    try:
        show()
    except data.ExploreError as exc:
        st.error(str(exc))
    except Exception as exc:  # a defect: one line for the reader, the trace for the log
        log.exception("dashboard page failed")
        st.error(f"This page could not be shown ({type(exc).__name__}: {str(exc)[:300]}). "
                 "The dashboard's log has the details.")  # fmt: skip


def _choose(label: str, values: pd.Series) -> str:
    options = [ANY, *sorted(v for v in values.dropna().unique() if v)]
    return st.sidebar.selectbox(label, options, key=f"filter_{label}")


def pick_run(uri: str) -> data.Run | None:
    """The sidebar: filters, then the run (the address's `run` first); None with a message in
    the page when there is nothing to show."""
    st.sidebar.title("custseg explorer")
    wanted = st.query_params.get("run")
    if wanted:
        run = data.open_run(uri, wanted)
        st.sidebar.caption(f"Run from the address: {run.info.label}")
        if st.sidebar.button("choose another run"):
            del st.query_params["run"]
            st.rerun()
        return run
    table = data.runs(uri)
    if table.empty:
        st.info(f"The store at {uri} holds no finished custseg run yet. Run "
                "`python -m custseg` (the demo data) and reload this page.")  # fmt: skip
        return None
    for column, label in (("data", "data"), ("features", "features"), ("algorithm", "algorithm")):
        chosen = _choose(label, table[column])
        if chosen != ANY:
            table = table[table[column] == chosen]
    days = table["start"].dt.date
    if len(table) and days.min() < days.max():
        first, last = st.sidebar.date_input("logged between", (days.min(), days.max()))  # type: ignore[misc]
        table = table[(days >= first) & (days <= last)]
    if table.empty:
        st.warning("No run matches these filters: set one back to 'any'.")
        return None
    labels = {r.run_id: f"{r.run_name} · {r.start:%Y-%m-%d %H:%M} · {r.run_id[:8]}"
              for r in table.itertuples()}  # fmt: skip
    run_id = st.sidebar.selectbox("run", list(labels), format_func=labels.get)
    return data.open_run(uri, str(run_id))


def show(page: Callable[[data.Run], None]) -> None:
    """A page about one run: the sidebar picks it, the page lays it out."""
    uri = data.tracking_uri()

    def body() -> None:
        run = pick_run(uri)
        if run is not None:
            page(run)

    guarded(body)


def show_store(page: Callable[[str], None]) -> None:
    """A page about the whole store (comparing runs)."""
    uri = data.tracking_uri()
    guarded(lambda: page(uri))
