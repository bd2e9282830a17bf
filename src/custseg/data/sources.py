"""Sources: read a file layout, map its columns onto the canonical table, validate.

Each `conf/data/*.yaml` names a `kind` (a key of `LOADERS`), a `path` and a column map
`columns: {canonical_name: source_column | null}`. `null` means the source does not have that
column: derivable ones are derived (amount = quantity x unit_price, invoice = customer x day),
the rest stay empty and the stages that need them are skipped with a message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from custseg.data import synthetic
from custseg.data.schema import ABSENT_ALLOWED, CANONICAL, REQUIRED, SchemaError, validate

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


def _read_table(path: Path, fmt: str, read_options: Mapping[str, Any]) -> pd.DataFrame:
    if not path.exists():
        raise SchemaError(str(path), None, "file not found (set data.path=... to point at it)")
    if fmt == "auto":
        fmt = "parquet" if path.suffix in {".parquet", ".pq"} else "csv"
    try:
        if fmt == "parquet":
            return pd.read_parquet(path, **dict(read_options))
        if fmt == "csv":
            return pd.read_csv(path, **dict(read_options))
    except pd.errors.EmptyDataError as exc:
        raise SchemaError(str(path), None, "empty file: no header and no rows") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        raise SchemaError(str(path), None, f"cannot read as {fmt}: {exc}") from exc
    raise SchemaError(str(path), None, f"unknown format {fmt!r} (data.format: csv|parquet|auto)")


def map_columns(
    raw: pd.DataFrame,
    file: str,
    columns: Mapping[str, str | None],
    constants: Mapping[str, Any] | None = None,
    date_format: str | None = None,
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Rename source columns to canonical ones and derive what the source lacks.

    Returns the mapped frame, the derived column names and the absent column names.
    """
    unknown = sorted(set(columns) - set(CANONICAL))
    if unknown:
        raise SchemaError(
            file, unknown[0], f"data.columns has unknown canonical name; valid: {list(CANONICAL)}"
        )
    constants = dict(constants or {})
    out = pd.DataFrame(index=raw.index)
    for canon, src in columns.items():
        if src is None or canon in constants:
            continue
        if src not in raw.columns:
            required = "required" if canon in REQUIRED else "optional"
            raise SchemaError(
                file,
                str(src),
                f"missing column (mapped to {required} '{canon}' by data.columns.{canon}); "
                f"the file has {list(map(str, raw.columns))}",
            )
        out[canon] = raw[src]
    for canon, value in constants.items():
        out[canon] = value

    derived: list[str] = []
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
        dates = pd.to_datetime(out["invoice_date"], format=date_format, errors="coerce")
        day = dates.dt.strftime("%Y-%m-%d")
        out["invoice_id"] = out["customer_id"].astype("str") + "@" + day.fillna("?")
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


def _canonical(raw: pd.DataFrame, where: Path, cfg: Mapping[str, Any]) -> Loaded:
    """Map, derive and validate a raw frame read from `where` with the source's config."""
    columns = cfg.get("columns") or {}
    mapped, derived, absent = map_columns(
        raw, str(where), columns, cfg.get("constants"), cfg.get("date_format")
    )
    table = validate(
        mapped,
        str(where),
        date_format=cfg.get("date_format"),
        source_columns={k: v for k, v in columns.items() if v is not None},
    )
    return Loaded(cfg["name"], str(where), table, derived, absent)


def load_table(cfg: Mapping[str, Any], seed: int) -> Loaded:
    """One CSV/Parquet file with a column map (Online Retail, Groceries, any user file)."""
    path = Path(str(cfg["path"])).expanduser()
    raw = _read_table(path, cfg.get("format", "auto"), cfg.get("read_options") or {})
    return _canonical(raw, path, cfg)


def load_three_table(cfg: Mapping[str, Any], seed: int) -> Loaded:
    """Transactions joined to Customers and Products (the Zeotap layout); `path` is the folder."""
    folder = Path(str(cfg["path"])).expanduser()
    if not folder.is_dir():
        raise SchemaError(str(folder), None, "not a folder (data.path must hold the three tables)")
    tables = cfg["tables"]
    keys = cfg["keys"]
    read_options = cfg.get("read_options") or {}
    tx = _read_table(folder / tables["transactions"], "auto", read_options)
    customers = _read_table(folder / tables["customers"], "auto", read_options)
    products = _read_table(folder / tables["products"], "auto", read_options)

    joined = tx
    for name, other, key in (
        ("customers", customers, keys["customer"]),
        ("products", products, keys["product"]),
    ):
        file = str(folder / tables[name])
        for frame, fname in ((joined, str(folder / tables["transactions"])), (other, file)):
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


def load_demo(cfg: Mapping[str, Any], seed: int) -> Loaded:
    """The built-in generator: realistic transactions with planted segments and pairs."""
    params = synthetic.DemoParams(**dict(cfg.get("generator") or {}))
    demo = synthetic.generate(params, seed=seed)
    table = validate(demo.transactions, "demo")
    return Loaded(cfg["name"], "demo", table, [], [], demo.truth)


LOADERS: dict[str, Callable[[Mapping[str, Any], int], Loaded]] = {
    "table": load_table,
    "three_table": load_three_table,
    "demo": load_demo,
}


def load(cfg: Mapping[str, Any], seed: int = 0) -> Loaded:
    """Load the source the `data` config group selected."""
    kind = cfg.get("kind")
    if kind not in LOADERS:
        raise SchemaError(
            f"data config '{cfg.get('name')}'", "kind", f"unknown {kind!r}; one of {list(LOADERS)}"
        )
    log.info("Loading %s (%s) from %s", cfg.get("name"), kind, cfg.get("path", "generator"))
    loaded = LOADERS[kind](cfg, seed)
    if loaded.absent:
        log.info("Source %s has no %s", loaded.name, ", ".join(loaded.absent))
    log.info(
        "Loaded %s rows, %s customers",
        f"{len(loaded.transactions):,}",
        f"{loaded.transactions['customer_id'].nunique():,}",
    )
    return loaded
