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
from custseg.data.dates import parse_dates
from custseg.data.errors import SchemaError
from custseg.data.readers import check_separator, read_table
from custseg.data.schema import ABSENT_ALLOWED, CANONICAL, REQUIRED, validate
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
                f"the file has {list(map(str, raw.columns))}",
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
        customer = out["customer_id"].astype("str").str.strip().fillna("?")
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
    path = Path(cfg.path).expanduser()
    raw = read_table(path, cfg.format, cfg.read_options, cfg.encoding)
    return _canonical(raw, path, cfg)


@_load.register
def load_three_table(cfg: ThreeTableData, seed: int) -> Loaded:
    """Transactions joined to Customers and Products (the Zeotap layout); `path` is the folder."""
    folder = Path(cfg.path).expanduser()
    tables = cfg.tables
    if not folder.is_dir():
        raise SchemaError(
            str(folder),
            None,
            "not a folder" + ("" if folder.exists() else " (it does not exist)"),
            f"set data.path to the folder holding the tables {list(tables.model_dump().values())}",
        )
    read_options, encoding = cfg.read_options, cfg.encoding
    tx = read_table(folder / tables.transactions, "auto", read_options, encoding)
    customers = read_table(folder / tables.customers, "auto", read_options, encoding)
    products = read_table(folder / tables.products, "auto", read_options, encoding)

    joined = tx
    for name, other, key in (
        ("customers", customers, cfg.keys.customer),
        ("products", products, cfg.keys.product),
    ):
        file = str(folder / getattr(tables, name))
        for frame, fname in ((joined, str(folder / tables.transactions)), (other, file)):
            if key not in frame.columns:
                raise SchemaError(fname, key, f"join key missing; has {list(frame.columns)}")
        if other[key].duplicated().any():
            dup = other.loc[other[key].duplicated(), key].head(3).tolist()
            raise SchemaError(file, key, f"join key not unique, e.g. {dup}")
        joined = joined.merge(other, on=key, how="left", suffixes=("", f"_{name}"), indicator=True)
        unmatched = joined["_merge"].eq("left_only")
        if unmatched.any():
            ex = joined.loc[unmatched, key].head(3).tolist()
            raise SchemaError(
                file, key, f"{int(unmatched.sum())} transaction(s) reference unknown ids, e.g. {ex}"
            )
        joined = joined.drop(columns="_merge")
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
    if loaded.absent:
        log.info("Source %s has no %s", loaded.name, ", ".join(loaded.absent))
    log.info(
        "Loaded %s rows, %s customers",
        f"{len(loaded.transactions):,}",
        f"{loaded.transactions['customer_id'].nunique():,}",
    )
    return loaded
