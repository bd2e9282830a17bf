"""Customer feature sets in Spark SQL, matching the local `custseg.features` builders.

Same names, same columns in the same order, same semantics (fractional days, distinct invoices,
NaN/inf on division by zero as numpy gives), so a Spark run can be checked against, or swapped
for, a local one. Each set is built for a fitted local builder (`FeatureBuilder.fit_columns`),
whose learned state (RFM's reference date) Spark measures against, so the builder that travels
with the model builds the very features Spark built. `SPARK_SETS` lists the sets Spark has;
`custseg.config.checks` refuses the others before Spark starts.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from pyspark.sql import Column, GroupedData, SparkSession
from pyspark.sql import DataFrame as SparkDataFrame
from pyspark.sql import functions as F

from custseg.data.schema import OPTIONAL, has_column
from custseg.features.base import FeatureBuilder, FeatureError

MICROS_PER_DAY = 86_400 * 1_000_000


def to_spark(spark: SparkSession, tx: pd.DataFrame) -> SparkDataFrame:
    """A canonical pandas table as a Spark DataFrame (through Arrow).

    Ids and text become plain strings (Arrow has no use for pandas categoricals, and Spark would
    otherwise see dictionary codes); optional columns with no values are dropped, so a column's
    presence in the Spark schema means what `has_column` means locally.
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


def _customers(sdf: SparkDataFrame) -> GroupedData:
    # pandas' groupby drops missing keys; do the same
    return sdf.where(F.col("customer_id").isNotNull()).groupBy("customer_id")


def _value_quantity(sdf: SparkDataFrame, fitted: FeatureBuilder) -> SparkDataFrame:
    return _customers(sdf).agg(
        F.sum("amount").cast("double").alias("total_value"),
        F.sum("quantity").cast("double").alias("total_quantity"),
    )


def _value_quantity_price(sdf: SparkDataFrame, fitted: FeatureBuilder) -> SparkDataFrame:
    g = _value_quantity(sdf, fitted)
    price = _div(F.col("total_value"), F.col("total_quantity")).alias("avg_unit_price")
    return g.select("customer_id", "total_value", "total_quantity", price)


def _rfm(sdf: SparkDataFrame, fitted: FeatureBuilder) -> SparkDataFrame:
    # the date the fitted builder counts recency to (configured, or the day after the last sale)
    when = pd.Timestamp(fitted.reference_date_)  # type: ignore[attr-defined]
    last_sale = sdf.where(F.col("customer_id").isNotNull()).agg(F.max("invoice_date")).first()[0]
    if last_sale is not None and when < pd.Timestamp(last_sale):
        raise FeatureError(
            f"features.reference_date: {when.date()} is before the last purchase "
            f"({last_sale}); use a later date or null for the day after the last sale"
        )
    ref_micros = int(when.value) // 1_000
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


def _basket(sdf: SparkDataFrame, fitted: FeatureBuilder) -> SparkDataFrame:
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


# feature set name (the builder's NAME) -> its Spark SQL; columns as the local builder's
SPARK_SETS: dict[str, Callable[[SparkDataFrame, FeatureBuilder], SparkDataFrame]] = {
    "value_quantity": _value_quantity,
    "value_quantity_price": _value_quantity_price,
    "rfm": _rfm,
    "basket": _basket,
}


def build_features(sdf: SparkDataFrame, fitted: FeatureBuilder) -> SparkDataFrame:
    """The feature set of a fitted local builder (`fit_columns` has checked that the data has
    its columns), on Spark: customer_id (str) then the local columns, in the local order."""
    if fitted.NAME not in SPARK_SETS:
        raise FeatureError(
            f"features: {fitted.NAME!r} has no Spark implementation; one of {list(SPARK_SETS)}"
        )
    return SPARK_SETS[fitted.NAME](sdf, fitted)


def to_pandas_features(sdf: SparkDataFrame) -> pd.DataFrame:
    """Collect features as the local builders return them: indexed by customer_id (str, sorted),
    float64 columns in the Spark DataFrame's (= local) order."""
    pdf = sdf.toPandas()
    pdf["customer_id"] = pdf["customer_id"].astype("str")
    feats = pdf.set_index("customer_id").sort_index().astype("float64")
    feats.index.name = "customer_id"
    return feats
