"""Rules across the input keys (`data`, `clean`) and what later stages need from them: values
that are each valid but together cannot work (a constant and a column for the same field, a
reader option pandas does not have, rules over a column the source lacks, a demo catalogue too
small for its planted pairs)."""

from __future__ import annotations

import inspect
from pathlib import Path

from custseg.config.errors import ConfigError
from custseg.config.schema import Config, DemoData, FileData, Rules, TableData
from custseg.hints import did_you_mean

# custseg.data.synthetic.CATEGORIES: the demo catalogue reserves one product per category
# (kept here so checking imports no numpy; a test keeps the two equal)
DEMO_CATEGORIES = 8
PARQUET_SUFFIXES = (".parquet", ".pq")


def clean_rules(c: Config) -> None:
    """An outlier rule with no column to apply to does nothing: the config says two things."""
    out = c.clean.outliers
    if out.method != "none" and not out.columns:
        raise ConfigError(
            f"clean.outliers.method={out.method} but clean.outliers.columns is empty: nothing "
            "would be capped; set clean.outliers.columns=[quantity,amount] (or "
            "clean.outliers.method=none)",
            "clean.outliers.columns",
        )


def _constants(data: FileData) -> None:
    both = [c for c in data.constants if data.columns.get(c) is not None]
    if both:
        canon = both[0]
        raise ConfigError(
            f"data.constants.{canon}={data.constants[canon]!r} and "
            f"data.columns.{canon}={data.columns[canon]!r} both set {canon}: the constant would "
            f"silently replace the file's column; set data.columns.{canon}=null to use the "
            f"constant, or drop it with ~data.constants.{canon}",
            f"data.constants.{canon}",
        )


def _reads_csv(data: FileData) -> bool:
    if isinstance(data, TableData):
        fmt = data.format
        return fmt == "csv" or (fmt == "auto" and Path(data.path).suffix not in PARQUET_SUFFIXES)
    return True  # the three tables are CSV files


def _read_options(data: FileData) -> None:
    """Every reader option must be one pandas.read_csv takes: a typo (sepp) would otherwise
    stop the load with pandas' own TypeError. Parquet options go to the engine unchecked."""
    if not data.read_options or not _reads_csv(data):
        return
    import pandas as pd  # only here: a config without reader options needs no pandas

    known = [p for p in inspect.signature(pd.read_csv).parameters if p != "filepath_or_buffer"]
    for name in data.read_options:
        if name not in known:
            raise ConfigError(
                f"data.read_options.{name}: pandas.read_csv has no option {name!r}"
                f"{did_you_mean(name, known)}; remove it (~data.read_options.{name}) or use one "
                "of pandas.read_csv's keyword arguments, e.g. sep, decimal, dtype, skiprows",
                f"data.read_options.{name}",
            )


def _generator(data: DemoData) -> None:
    gen = data.generator
    segments = gen.segments
    n_segments = len(segments) if segments else 5
    need = DEMO_CATEGORIES + 2 * n_segments * gen.pairs_per_segment
    if gen.n_products < need:
        raise ConfigError(
            f"data.generator.n_products={gen.n_products} is too small for "
            f"{gen.pairs_per_segment} planted pairs in each of {n_segments} segments; set "
            f"data.generator.n_products to at least {need} (or lower "
            "data.generator.pairs_per_segment)",
            "data.generator.n_products",
        )
    if segments and sum(s.share for s in segments) <= 0:
        raise ConfigError(
            "data.generator.segments: every share is 0, so no customer belongs to any segment; "
            "give each segment a share above 0",
            "data.generator.segments",
        )
    for i, s in enumerate(segments or ()):
        if s.active_from >= s.active_to:
            key = f"data.generator.segments[{i}].active_from"
            raise ConfigError(
                f"{key}={s.active_from} is not before active_to={s.active_to}: segment "
                f"{s.name!r} would never buy; set active_from below active_to (fractions of "
                "the year, 0 to 1)",
                key,
            )


def data_rules(c: Config) -> None:
    if isinstance(c.data, DemoData):
        _generator(c.data)
        return
    _constants(c.data)
    _read_options(c.data)


def rules_item(c: Config) -> None:
    """Rules over a column the file source maps to nothing would find no item at all. (With
    no product ids at all, rules are skipped by design: that is not checked here.)"""
    rules = c.rules
    if not isinstance(rules, Rules) or not isinstance(c.data, FileData):
        return
    data, item = c.data, rules.item
    if item == "product_id" or data.columns.get("product_id") is None:
        return
    if data.columns.get(item) is None and item not in data.constants:
        mapped = [i for i in ("product_id", "product_name", "category")
                  if data.columns.get(i) is not None]  # fmt: skip
        raise ConfigError(
            f"rules.item={item} but data.columns.{item} is null (data={data.name}): the source "
            f"has no {item} to mine; use rules.item={mapped[0]}, or map the column with "
            f"data.columns.{item}=<column in the file>",
            "rules.item",
        )
