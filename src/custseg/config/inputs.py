"""The schema of the input groups: where transactions come from (`data`) and which lines are
dropped before anything is learned (`clean`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from custseg.config.base import (
    CodePattern,
    DateLayout,
    Encoding,
    Float,
    Int,
    Positive,
    Section,
    Share,
    Text,
)

# the canonical columns (custseg.data.schema.CANONICAL; a test keeps the two equal)
Canonical = Literal[
    "customer_id", "invoice_id", "invoice_date", "product_id", "quantity", "unit_price",
    "amount", "product_name", "category", "region", "weight", "margin",
]  # fmt: skip


# -- data --------------------------------------------------------------------------------------
class SegmentSpec(Section):
    name: Text
    description: str
    share: Share
    invoices: Annotated[Float, Field(ge=1.0)]
    lines: Annotated[Float, Field(ge=1.0)]
    quantity: Annotated[Float, Field(ge=1.0)]
    price_bias: Float
    active_from: Share = 0.0  # the generator's SegmentSpec defaults: a spec may omit them
    active_to: Share = 1.0


class Generator(Section):
    n_rows: Annotated[Int, Field(ge=100, le=50_000_000)]
    n_products: Annotated[Int, Field(ge=20)]
    pairs_per_segment: Annotated[Int, Field(ge=0)]
    pair_rate: Share
    pair_confidence: Share
    duplicate_rate: Share
    anonymous_rate: Share
    cancel_rate: Share
    postage_rate: Share
    # null: the generator's five planted segments (custseg.data.synthetic allows 1 to 12)
    segments: Annotated[list[SegmentSpec], Field(min_length=1, max_length=12)] | None


class DemoData(Section):
    name: Text
    kind: Literal["demo"]
    currency: str | None  # symbol shown before money in reports and personas; null: none
    generator: Generator


class FileData(Section):
    name: Text
    currency: str | None  # symbol shown before money in reports and personas; null: none
    path: Text
    date_format: DateLayout | None
    encoding: Encoding
    read_options: dict[str, Any]
    columns: dict[Canonical, Text | None]
    constants: dict[Canonical, Any]


class TableData(FileData):
    kind: Literal["table"]
    format: Literal["auto", "csv", "parquet"]


class Tables(Section):
    transactions: Text
    customers: Text
    products: Text


class Keys(Section):
    customer: Text
    product: Text


class ThreeTableData(FileData):
    kind: Literal["three_table"]
    tables: Tables
    keys: Keys


Data = Annotated[DemoData | TableData | ThreeTableData, Field(discriminator="kind")]


# -- clean -------------------------------------------------------------------------------------
class Outliers(Section):
    method: Literal["none", "clip", "drop"]
    quantile: Annotated[Float, Field(gt=0.5, lt=1.0)]  # a cap on the upper tail
    columns: list[Literal["quantity", "unit_price", "amount"]]


class Clean(Section):
    drop_duplicates: bool
    drop_missing_customer: bool
    cancellation_prefix: Text | None  # null keeps cancellations; "" would be ambiguous
    drop_nonpositive_quantity: bool
    drop_nonpositive_price: bool
    drop_date_outliers: bool
    non_product_codes: list[str]
    non_product_patterns: list[CodePattern]
    max_quantity: Positive | None
    max_unit_price: Positive | None
    outliers: Outliers
