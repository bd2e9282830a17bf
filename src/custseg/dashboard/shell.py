"""What every page of the explorer runs inside: the run picker in the sidebar and the guard
that turns a missing run, table or store into a message in the page, never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pandas as pd
import streamlit as st

from custseg.dashboard import data
from custseg.tracking.explore import run_label

log = logging.getLogger("custseg.dashboard")
ANY = "any"
KEY = "custseg_run"  # session key of the chosen run


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


def _remember(run_id: str | None) -> None:
    """The chosen run for the next pages (session) and for a bookmark (the address)."""
    if run_id:
        st.session_state[KEY] = run_id
        st.query_params["run"] = run_id
    else:
        st.session_state.pop(KEY, None)
        st.query_params.pop("run", None)


def _dates(table: pd.DataFrame) -> pd.DataFrame:
    """The runs logged between two days picked in the sidebar (all until both are picked)."""
    days = table["start"].dt.date
    if not len(table) or days.min() == days.max():
        return table
    picked = st.sidebar.date_input("logged between", (days.min(), days.max()))
    if not isinstance(picked, tuple) or len(picked) != 2:  # the second day not picked yet
        return table
    return table[(days >= picked[0]) & (days <= picked[1])]


def pick_run(uri: str) -> data.Run | None:
    """The sidebar: filters, then the run. The address's `run`, else the run chosen on an
    earlier page, comes first; a run id the store does not have is said in the page and the
    list is offered instead. None, with a message, when there is nothing to show."""
    st.sidebar.title("custseg explorer")
    wanted = st.query_params.get("run") or st.session_state.get(KEY)
    table = data.runs(uri)
    labels = {r.run_id: run_label(r.run_name, r.start, r.run_id) for r in table.itertuples()}
    extra = None  # a run the address names that is not in the list (still running, failed)
    if wanted and wanted not in labels:
        try:
            info = data.open_run(uri, wanted).info
            extra, labels = wanted, {wanted: info.label, **labels}
        except data.ExploreError as exc:
            st.error(str(exc))
            _remember(None)
            wanted = None
    if not labels:
        st.info(f"The store at {uri} holds no finished custseg run yet. Run "
                "`python -m custseg` (the demo data) and reload this page.")  # fmt: skip
        return None
    for column in ("data", "features", "algorithm"):
        chosen = _choose(column, table[column])
        if chosen != ANY:
            table = table[table[column] == chosen]
    kept = set(_dates(table)["run_id"])
    ids = [r for r in labels if r in kept or r == extra]
    if not ids:
        st.warning("No run matches these filters: set one back to 'any'.")
        return None
    at = ids.index(wanted) if wanted in ids else 0
    run_id = st.sidebar.selectbox("run", ids, index=at, format_func=labels.get)
    _remember(str(run_id))
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
