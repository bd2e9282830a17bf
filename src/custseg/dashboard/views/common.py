"""What every page shares: the run's heading, persona names, number formats."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from custseg.dashboard import tables
from custseg.dashboard.data import Run

PERCENT = ("customer share", "revenue share", "future value share", "likely lapsed")


def heading(run: Run, title: str) -> None:
    info = run.info
    st.header(title)
    st.caption(f"{info.run_name} · data {info.tags.get('data', '?')} · features "
               f"{info.tags.get('features', '?')} · {info.tags.get('algorithm', '?')} · "
               f"logged {info.start:%Y-%m-%d %H:%M} · run {info.run_id}")  # fmt: skip


def names(run: Run) -> dict[str, str]:
    """Segment label -> persona name ({} when the run has no personas)."""
    personas = run.maybe("personas")
    return {} if personas is None else tables.persona_names(personas)


def shown(frame: pd.DataFrame) -> pd.DataFrame:
    """Shares as percentages and floats rounded, for a table a person reads."""
    out = frame.copy()
    for column in out.columns:
        if column in PERCENT:
            out[column] = out[column].map(lambda v: "" if pd.isna(v) else f"{v:.1%}")
        elif pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].round(3)
    return out
