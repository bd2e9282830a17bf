"""Sources: read a file layout, map its columns onto the canonical table, validate.

The `data` config group picks one typed source config (`DemoData`, `TableData` or
`ThreeTableData`, told apart by `kind`), and `load` dispatches on its class, so a source's
loader reads exactly the keys its config declares. A file source has a column map
`columns: {canonical_name: source_column | null}`. `null` means the source does not have that
column: derivable ones are derived (amount = quantity x unit_price, invoice = customer x day),
the rest stay empty and the stages that need them are skipped with a message.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import singledispatch
from pathlib import Path
from typing import Any, get_args

import numpy as np
import pandas as pd

from custseg.config.schema import DemoData, FileData, TableData, ThreeTableData
from custseg.data import synthetic
from custseg.data.columns import ambiguities
from custseg.data.dates import parse_dates, warn_single_day
from custseg.data.errors import SchemaError, names_shown, rows_where
from custseg.data.files import expand
from custseg.data.header import check_separator
from custseg.data.ids import line_breaks, spelled, to_ids
from custseg.data.options import check_number_options, read_options
from custseg.data.readers import read_table
from custseg.data.schema import (
    ABSENT_ALLOWED,
    CANONICAL,
    ID_COLUMNS,
    REQUIRED,
    TEXT_COLUMNS,
    validate,
)
from custseg.hints import close_matches, did_you_mean

log = logging.getLogger(__name__)


@dataclass
class Loaded:
    """A validated canonical table plus what the pipeline needs to describe it."""

    name: str
    path: str
    transactions: pd.DataFrame
    derived: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    truth: synthetic.Truth | None = None


def map_columns(
    raw: pd.DataFrame,
    file: str,
    columns: Mapping[str, str | None],
    constants: Mapping[str, Any],
    date_format: str | None,
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Rename source columns to canonical ones and derive what the source lacks.

    Returns the mapped frame, the derived column names and the absent column names.
    """
    unknown = sorted(set(columns) - set(CANONICAL))
    if unknown:
        raise SchemaError(
            file,
            unknown[0],
            f"data.columns.{unknown[0]} is not a canonical column"
            f"{did_you_mean(unknown[0], CANONICAL)}; valid: {list(CANONICAL)}",
            "map your columns onto those names only (data.columns.NAME=<your column>)",
        )
    check_separator(raw, file)
    constants = dict(constants)
    doubts = ambiguities(columns, constants, raw.columns, raw.attrs.get("duplicates", {}))
    if doubts:
        first = doubts[0]
        raise SchemaError(file, first.column, first.problem, first.fix)
    out = pd.DataFrame(index=raw.index)
    for canon, src in columns.items():
        if src is None or canon in constants:
            continue
        if src not in raw.columns:
            required = "required" if canon in REQUIRED else "optional"
            near = close_matches(str(src), raw.columns)
            can_null = canon not in ("customer_id", "invoice_date", "quantity")
            fix = f"set data.columns.{canon}=" + (repr(near[0]) if near else "<column in the file>")
            fix += " or null if the file has no such column" if can_null else ""
            raise SchemaError(
                file,
                str(src),
                f"missing column (mapped to {required} '{canon}' by data.columns.{canon})"
                f"{did_you_mean(str(src), raw.columns)}; "
                f"the file has {names_shown(raw.columns)}",
                fix,
            )
        out[canon] = raw[src]
    for canon, value in constants.items():
        out[canon] = value

    derived: list[str] = []
    if columns.get("quantity") is None and "quantity" not in constants:
        # baskets of (member, date, item): each line is one unit, as in a receipt's line list
        out["quantity"] = 1.0
        derived.append("quantity")
        log.info("%s: no quantity column (data.columns.quantity=null): each line counts as 1 "
                 "unit", file)  # fmt: skip
    if "amount" not in out and {"quantity", "unit_price"} <= set(out.columns):
        out["amount"] = pd.to_numeric(out["quantity"], errors="coerce") * pd.to_numeric(
            out["unit_price"], errors="coerce"
        )
        derived.append("amount")
    if "unit_price" not in out and {"quantity", "amount"} <= set(out.columns):
        q = pd.to_numeric(out["quantity"], errors="coerce")
        a = pd.to_numeric(out["amount"], errors="coerce")
        out["unit_price"] = (a / q.where(q != 0)).astype("float64")
        derived.append("unit_price")
    if "invoice_id" not in out and {"customer_id", "invoice_date"} <= set(out.columns):
        # the dates as validate will read them (one layout, errors named), and the day first so
        # that a derived id never looks like a cancellation ('C...' for customer 'C042')
        source = columns.get("invoice_date")
        day = parse_dates(out["invoice_date"], file, "invoice_date", date_format, source)
        customer = spelled(out["customer_id"]).fillna("?")  # 17850.0 and 17850: one invoice
        out["invoice_id"] = day.dt.strftime("%Y-%m-%d") + "@" + customer
        derived.append("invoice_id")

    absent: list[str] = []
    for canon in REQUIRED:
        if canon in out:
            continue
        if canon in ABSENT_ALLOWED:
            out[canon] = np.nan
            absent.append(canon)
        # anything else stays missing and `validate` names it
    return out, derived, absent


def _canonical(raw: pd.DataFrame, where: Path, cfg: FileData) -> Loaded:
    """Map, derive and validate a raw frame read from `where` with the source's config."""
    texts = [(c, s) for c, s in cfg.columns.items() if c in (*ID_COLUMNS, *TEXT_COLUMNS)
             and c not in cfg.constants and s in raw.columns]  # fmt: skip
    for canon, src in texts if raw.columns.is_unique else []:
        line_breaks(raw[src], str(where), canon, src, ids=canon in ID_COLUMNS)
    mapped, derived, absent = map_columns(
        raw, str(where), cfg.columns, cfg.constants, cfg.date_format
    )
    table = validate(
        mapped,
        str(where),
        date_format=cfg.date_format,
        source_columns={k: v for k, v in cfg.columns.items() if v is not None},
    )
    return Loaded(cfg.name, str(where), table, derived, absent)


@singledispatch
def _load(cfg: object, seed: int) -> Loaded:
    """The loader of each typed source config; anything else is refused by `load`."""
    raise _not_a_source(cfg)


def _not_a_source(cfg: object) -> SchemaError:
    """Anything but a checked data config: say which kinds there are (the typed config's
    `kind` picks the loader; a plain mapping has not been checked and is not loaded)."""
    get = cfg.get if isinstance(cfg, Mapping) else lambda key: getattr(cfg, key, None)
    name, kind = get("name"), get("kind")
    kinds = [get_args(c.model_fields["kind"].annotation)[0] for c in _load.registry
             if c is not object]  # fmt: skip
    if kind in kinds:
        return SchemaError(
            f"data config '{name}'",
            "kind",
            f"{kind!r} given as a {type(cfg).__name__}, not as a checked data config",
            "load the config with custseg.config.load(...) and pass its .data",
        )
    return SchemaError(
        f"data config '{name}'",
        "kind",
        f"unknown {kind!r}{did_you_mean(str(kind), kinds)}; one of {kinds}",
        f"set data.kind to one of {kinds}",
    )


@_load.register
def load_table(cfg: TableData, seed: int) -> Loaded:
    """One CSV/Parquet file with a column map (Online Retail, Groceries, any user file)."""
    if cfg.path in ("", "???"):
        raise SchemaError(f"data config '{cfg.name}'", None, "no file given (data.path)",
                          "set data.path=FILE on the command line")  # fmt: skip
    path = expand(cfg.path)
    raw = read_table(path, cfg.format, read_options(cfg, path), cfg.encoding)
    check_number_options(path, cfg)
    return _canonical(raw, path, cfg)


def _join(joined: pd.DataFrame, tx_file: str, other: pd.DataFrame, file: str, key: str,
          canon: str, name: str) -> pd.DataFrame:  # fmt: skip
    """Lines joined to one lookup table on `key`, compared as ids (17850 in one file and
    17850.0 or '17850' in the other are one key) and every line matched."""
    which = "customer" if canon == "customer_id" else "product"
    for frame, fname in ((joined, tx_file), (other, file)):
        if key not in frame.columns:
            raise SchemaError(fname, key, f"join key missing; has {names_shown(frame.columns)}",
                              f"set data.keys.{which} to the column both files share")  # fmt: skip
    joined, other = joined.copy(), other.copy()
    joined[key] = to_ids(joined[key], tx_file, canon, key)
    other[key] = to_ids(other[key], file, canon, key)
    repeated = other[key].duplicated() & other[key].notna()
    if repeated.any():
        raise SchemaError(file, key, f"join key not unique: {rows_where(repeated, other[key])}",
                          f"keep one row per {which} in {Path(file).name}")  # fmt: skip
    joined = joined.merge(other, on=key, how="left", suffixes=("", f"_{name}"), indicator=True)
    unmatched = joined["_merge"].eq("left_only") & joined[key].notna()
    if unmatched.any():
        raise SchemaError(
            file, key, f"{int(unmatched.sum())} transaction(s) reference unknown ids, e.g. "
            f"{joined.loc[unmatched, key].head(3).tolist()} ({rows_where(unmatched)} of "
            f"{Path(tx_file).name})",
            f"add those {which}s to {Path(file).name}, or check data.keys.{which}",
        )  # fmt: skip
    return joined.drop(columns="_merge")


@_load.register
def load_three_table(cfg: ThreeTableData, seed: int) -> Loaded:
    """Transactions joined to Customers and Products (the Zeotap layout); `path` is the folder."""
    folder = expand(cfg.path)
    tables = cfg.tables
    if not folder.is_dir():
        raise SchemaError(
            str(folder),
            None,
            "not a folder" + ("" if folder.exists() else " (it does not exist)"),
            f"set data.path to the folder holding the tables {list(tables.model_dump().values())}",
        )
    tx, customers, products = (
        read_table(folder / name, "auto", read_options(cfg, folder / name), cfg.encoding)
        for name in (tables.transactions, tables.customers, tables.products)
    )

    joined, tx_file = tx, str(folder / tables.transactions)
    duplicates = {**tx.attrs.get("duplicates", {})}
    for name, other, key, canon in (
        ("customers", customers, cfg.keys.customer, "customer_id"),
        ("products", products, cfg.keys.product, "product_id"),
    ):
        file = str(folder / getattr(tables, name))
        duplicates |= other.attrs.get("duplicates", {})
        joined = _join(joined, tx_file, other, file, key, canon, name)
    joined.attrs["duplicates"] = duplicates
    return _canonical(joined, folder, cfg)


@_load.register
def load_demo(cfg: DemoData, seed: int) -> Loaded:
    """The built-in generator: realistic transactions with planted segments and pairs."""
    params = synthetic.DemoParams(**cfg.generator.model_dump())
    demo = synthetic.generate(params, seed=seed)
    table = validate(demo.transactions, "demo")
    return Loaded(cfg.name, "demo", table, [], [], demo.truth)


def load(cfg: DemoData | TableData | ThreeTableData, seed: int) -> Loaded:
    """Load the source the `data` config group selected (`seed` drives the demo generator)."""
    loader = _load.dispatch(type(cfg))
    if loader is _load.dispatch(object):
        raise _not_a_source(cfg)
    log.info("Loading %s (%s) from %s", cfg.name, cfg.kind, getattr(cfg, "path", "generator"))
    loaded = loader(cfg, seed)
    warn_single_day(loaded.transactions["invoice_date"], loaded.path)
    if loaded.absent:
        log.info("Source %s has no %s", loaded.name, ", ".join(loaded.absent))
    log.info(
        "Loaded %s rows, %s customers",
        f"{len(loaded.transactions):,}",
        f"{loaded.transactions['customer_id'].nunique():,}",
    )
    return loaded
