"""Customer feature sets in Spark SQL, matching the local `custseg.features` builders.

Same names, same columns in the same order, same semantics (fractional days, distinct invoices,
NaN/inf on division by zero as numpy gives), so a Spark run can be checked against, or swapped
for, a local one. Only the sets listed in `SPARK_SETS` have Spark implementations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import Column, SparkSession
from pyspark.sql import DataFrame as SparkDataFrame
from pyspark.sql import functions as F

from custseg.data.schema import OPTIONAL, has_column
from custseg.features.registry import FeatureError
from custseg.features.rfm import reference_date

MICROS_PER_DAY = 86_400 * 1_000_000


def to_spark(spark: SparkSession, tx: pd.DataFrame) -> SparkDataFrame:
    """A canonical pandas table as a Spark DataFrame (through Arrow).

    Ids and text become plain strings (Arrow has no use for pandas categoricals, and Spark would
    otherwise see dictionary codes); optional columns with no values are dropped, so a column's
    presence in the Spark schema means what `has_column` means locally. `_row` (int64) is the
    pandas row number, so "first in row order" means in Spark what it means in pandas.
    """
    out = {}
    for col in tx.columns:
        s = tx[col]
        if col in OPTIONAL and not has_column(tx, col):
            continue
        if pd.api.types.is_datetime64_any_dtype(s):
            out[col] = s.astype("datetime64[us]")
        elif pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            out[col] = s.astype("float64")
        else:
            # object dtype keeps missing ids as None, which Arrow turns into null
            out[col] = pd.Series(
                [None if pd.isna(v) else str(v) for v in s.to_numpy(dtype=object)],
                index=s.index,
                dtype=object,
            )
    out["_row"] = pd.Series(np.arange(len(tx), dtype="int64"), index=tx.index)
    return spark.createDataFrame(pd.DataFrame(out).reset_index(drop=True))


def _micros(col: str) -> Column:
    return F.expr(f"unix_micros(`{col}`)")


def _div(num: Column, den: Column) -> Column:
    """num / den with numpy's float semantics: x/0 is +-inf, 0/0 is NaN (Spark's ANSI mode
    would raise instead, and try_divide would give null)."""
    inf, nan = F.lit(float("inf")), F.lit(float("nan"))
    return (
        F.when(den != 0, num.cast("double") / den.cast("double"))
        .when(num > 0, inf)
        .when(num < 0, -inf)
        .otherwise(nan)
    )


def _require(sdf: SparkDataFrame, name: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in sdf.columns]
    if missing:
        raise FeatureError(
            f"feature set {name!r} needs column {missing[0]!r}, which this data does not have"
        )


def _customers(sdf: SparkDataFrame) -> Any:
    # pandas' groupby drops missing keys; do the same
    return sdf.where(F.col("customer_id").isNotNull()).groupBy("customer_id")


def _value_quantity(sdf: SparkDataFrame, params: Mapping[str, Any]) -> SparkDataFrame:
    return _customers(sdf).agg(
        F.sum("amount").cast("double").alias("total_value"),
        F.sum("quantity").cast("double").alias("total_quantity"),
    )


def _rfm(sdf: SparkDataFrame, params: Mapping[str, Any]) -> SparkDataFrame:
    last_sale = sdf.where(F.col("customer_id").isNotNull()).agg(F.max("invoice_date")).first()[0]
    # the local rule (day after the last sale, or the configured date) on a one-row stand-in
    when = reference_date(
        pd.DataFrame({"invoice_date": [pd.Timestamp(last_sale)]}), params.get("reference_date")
    )
    if when < pd.Timestamp(last_sale):
        raise FeatureError(
            f"features.reference_date: {when.date()} is before the last purchase "
            f"({last_sale}); use a later date or null for the day after the last sale"
        )
    ref_micros = int(pd.Timestamp(when).value) // 1_000
    g = _customers(sdf).agg(
        F.max(_micros("invoice_date")).alias("last"),
        F.countDistinct("invoice_id").alias("frequency"),
        F.sum("amount").alias("monetary"),
    )
    return g.select(
        "customer_id",
        ((F.lit(ref_micros) - F.col("last")) / F.lit(float(MICROS_PER_DAY))).alias("recency_days"),
        F.col("frequency").cast("double").alias("frequency"),
        F.col("monetary").cast("double").alias("monetary"),
    )


def _basket(sdf: SparkDataFrame, params: Mapping[str, Any]) -> SparkDataFrame:
    weighed = "weight" in sdf.columns  # to_spark keeps it only when it holds values
    aggs = [
        F.countDistinct("invoice_id").cast("double").alias("invoices"),
        F.sum("amount").alias("value"),
        F.sum("quantity").alias("units"),
        F.min(_micros("invoice_date")).alias("first"),
        F.max(_micros("invoice_date")).alias("last"),
    ]
    if weighed:  # per-unit weight; pandas sums missing as 0, Spark as null
        aggs.append(F.coalesce(F.sum(F.col("weight") * F.col("quantity")), F.lit(0.0)).alias("w"))
    g = _customers(sdf).agg(*aggs)
    cols = [
        "customer_id",
        F.col("invoices").alias("frequency"),
        _div(F.col("value"), F.col("invoices")).alias("mean_basket_value"),
        _div(F.col("units"), F.col("invoices")).alias("mean_basket_units"),
        _div(F.col("value"), F.col("units")).alias("mean_unit_price"),
        ((F.col("last") - F.col("first")) / F.lit(float(MICROS_PER_DAY))).alias("tenure_days"),
    ]
    if weighed:
        cols += [
            F.col("w").cast("double").alias("total_weight"),
            # no weighed lines: no meaningful ratio, NaN rather than infinity (as locally)
            F.when(F.col("w") > 0, F.col("value") / F.col("w")).alias("sales_per_weight"),
        ]
    return g.select(*cols)


# name -> (canonical columns needed, builder); names and columns as in custseg.features
SPARK_SETS: dict[
    str, tuple[tuple[str, ...], Callable[[SparkDataFrame, Mapping[str, Any]], SparkDataFrame]]
] = {
    "value_quantity": (("amount", "quantity"), _value_quantity),
    "rfm": (("invoice_id", "invoice_date", "amount"), _rfm),
    "basket": (("invoice_id", "invoice_date", "amount", "quantity"), _basket),
}


def build_features(
    sdf: SparkDataFrame, name: str, params: Mapping[str, Any] | None = None
) -> SparkDataFrame:
    """The named feature set as a Spark DataFrame: customer_id (str) then the local columns."""
    if name not in SPARK_SETS:
        raise FeatureError(
            f"features.name: {name!r} has no Spark implementation; one of {list(SPARK_SETS)}"
        )
    required, build = SPARK_SETS[name]
    _require(sdf, name, ("customer_id", *required))
    return build(sdf, params or {})


def to_pandas_features(sdf: SparkDataFrame) -> pd.DataFrame:
    """Collect features as the local builders return them: indexed by customer_id (str, sorted),
    float64 columns in the Spark DataFrame's (= local) order."""
    pdf = sdf.toPandas()
    pdf["customer_id"] = pdf["customer_id"].astype("str")
    feats = pdf.set_index("customer_id").sort_index().astype("float64")
    feats.index.name = "customer_id"
    return feats
