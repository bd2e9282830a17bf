"""The dashboard's reads, cached per run: each logged table is fetched and parsed once per
server process, and later pages and visitors get the same frame.

Streamlit's cache keys on the arguments (store, run id, table, columns), so two runs, or two
column sets of one table, never share an entry.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from custseg.dashboard.launch import DEFAULT_URI, ENV
from custseg.tracking import explore
from custseg.tracking.explore import ExploreError, RunInfo


def tracking_uri() -> str:
    return os.environ.get(ENV) or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI


@st.cache_data(ttl=60, show_spinner="reading the runs of the store")
def runs(uri: str) -> pd.DataFrame:
    return explore.runs(uri)


@st.cache_data(show_spinner=False)
def run_info(uri: str, run_id: str) -> RunInfo:
    return explore.run_info(uri, run_id)


@st.cache_data(show_spinner=False)
def artifacts(uri: str, run_id: str) -> set[str]:
    return explore.artifacts(uri, run_id)


@st.cache_data(show_spinner="reading the run's tables", max_entries=64)
def table(
    uri: str, run_id: str, name: str, columns: tuple[str, ...] | None = None,
    where: tuple[str, str] | None = None,
) -> pd.DataFrame:  # fmt: skip
    return explore.table(uri, run_id, name, None if columns is None else list(columns), where)


@st.cache_data(show_spinner=False, max_entries=64)
def figure(uri: str, run_id: str, name: str) -> bytes:
    return explore.fetch(uri, run_id, f"{name}.png").read_bytes()


@dataclass(frozen=True)
class Run:
    """The run a page shows: where it is, what it is, and what it logged."""

    uri: str
    info: RunInfo
    logged: frozenset[str]

    @property
    def run_id(self) -> str:
        return self.info.run_id

    def has(self, name: str) -> bool:
        return f"{name}.parquet" in self.logged or f"{name}.png" in self.logged

    def table(
        self, name: str, columns: list[str] | None = None, where: tuple[str, str] | None = None
    ) -> pd.DataFrame:
        """A logged table: some columns, the rows of one value of a column (a customer)."""
        picked = None if columns is None else tuple(columns)
        return table(self.uri, self.run_id, name, picked, where)

    def maybe(self, name: str) -> pd.DataFrame | None:
        """The table when the run logged it (a value stage or rules may have been off)."""
        return self.table(name) if self.has(name) else None

    def products(self) -> dict[str, str]:
        """Product id -> name, when the run logged names ({} otherwise)."""
        if not self.has("products"):
            return {}
        p = self.table("products")
        return dict(zip(p["product_id"].astype("str"), p["product_name"].astype("str"),
                        strict=True))  # fmt: skip

    def figure(self, name: str) -> bytes | None:
        return figure(self.uri, self.run_id, name) if f"{name}.png" in self.logged else None


def open_run(uri: str, run_id: str) -> Run:
    """The run with its artifact list; an ExploreError naming the id when there is none."""
    info = run_info(uri, run_id)
    return Run(uri, info, frozenset(artifacts(uri, run_id)))


__all__ = ["ExploreError", "Run", "open_run", "runs", "tracking_uri"]
