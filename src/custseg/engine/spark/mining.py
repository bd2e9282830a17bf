"""Frequent itemsets with pyspark.ml's FP-growth, identical to the local engines' output.

The engine mines the baskets the customer model built (`custseg.rules.baskets.Baskets`): they
go to Spark once as a basket -> items table with each basket's segment (`baskets_frame`), and
every scope is a filter of it, so scopes and supports are the local ones by construction.
`spark_baskets` builds the same baskets from a Spark transaction table instead (an item counts
once per basket, rows without a basket key or item are ignored, items in fewer than
`min_item_count` baskets are dropped first), for callers that start from Spark data.

Threshold: Spark keeps itemsets with freq >= ceil(minSupport * n), with no allowance for float
noise, while the local rule is count >= ceil(min_support * n - 1e-9): at 0.07 and 100 baskets
Spark asks for 8, the local engines for 7. So Spark gets minSupport = (count - 0.5) / n, halfway
between two integers, which Spark's ceil maps to exactly `count`; the result is then also
filtered by count, so no rounding inside Spark can let an extra itemset through. Spark's
FP-growth has no length limit: `max_len` filters its output. The size guard is not repeated
here: the engine runs the local one (`custseg.rules.guard`) on the same baskets first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyspark.ml.fpm import FPGrowth
from pyspark.sql import Column, SparkSession
from pyspark.sql import DataFrame as SparkDataFrame
from pyspark.sql import functions as F

from custseg.rules.baskets import BASKET_KEYS, ITEM_KEYS, Baskets
from custseg.rules.guard import check_support, min_count
from custseg.rules.mining import ITEMSET_COLUMNS, empty_itemsets


def baskets_frame(spark: SparkSession, b: Baskets, segment: np.ndarray) -> SparkDataFrame:
    """One row per basket of `b`: items (array of its item labels) and segment (long, null for
    a basket whose customer has none), `segment` given per basket row."""
    labels = np.asarray(b.items, dtype=object)[b.matrix.indices]
    items = [list(row) for row in np.split(labels, b.matrix.indptr[1:-1])] if b.n_baskets else []
    seg = pd.array(np.where(np.isnan(segment), 0, segment).astype("int64"), dtype="Int64")
    seg[np.isnan(segment)] = pd.NA
    pdf = pd.DataFrame({"items": pd.Series(items, dtype=object), "segment": seg})
    return spark.createDataFrame(pdf, schema="items array<string>, segment long")


def _basket_key(basket: str) -> Column:
    if basket == "invoice":
        return F.col("invoice_id")
    if basket == "customer":
        return F.col("customer_id")
    if basket == "customer_day":  # 'customer@YYYY-MM-DD', null without a customer, as locally
        return F.concat(
            F.col("customer_id"), F.lit("@"), F.date_format("invoice_date", "yyyy-MM-dd")
        )
    raise ValueError(f"rules.basket: unknown basket {basket!r}; one of {list(BASKET_KEYS)}")


def spark_baskets(
    sdf_tx: SparkDataFrame, basket: str = "invoice", item: str = "product_id",
    min_item_count: int = 1,
) -> SparkDataFrame:  # fmt: skip
    """One row per non-empty basket of a Spark transaction table: basket (str) and items (array
    of distinct item labels), as `custseg.rules.baskets.make_baskets` defines them."""
    if item not in ITEM_KEYS:
        raise ValueError(f"rules.item: unknown item column {item!r}; one of {list(ITEM_KEYS)}")
    if item not in sdf_tx.columns:
        raise ValueError(f"rules.item: column {item!r} is absent or empty in this data")
    key = _basket_key(basket)
    pairs = (
        sdf_tx.select(key.cast("string").alias("basket"), F.col(item).cast("string").alias("item"))
        .where(F.col("basket").isNotNull() & F.col("item").isNotNull())
        .distinct()
    )
    if int(min_item_count) > 1:
        frequent = pairs.groupBy("item").count().where(F.col("count") >= int(min_item_count))
        pairs = pairs.join(F.broadcast(frequent.select("item")), on="item")
    return pairs.groupBy("basket").agg(F.collect_set("item").alias("items"))


def itemsets_from_baskets(
    baskets: SparkDataFrame, n: int, min_support: float, max_len: int | None = None
) -> pd.DataFrame:
    """Frequent itemsets of a basket frame (an `items` column) holding `n` rows, in the local
    table's form and order: itemsets (frozenset of str), support, count; sorted by count
    (descending) then sorted labels."""
    check_support(min_support)
    if max_len is not None and int(max_len) < 1:
        raise ValueError(f"rules.max_len: {max_len} must be at least 1 (or null for no limit)")
    if n == 0:
        return empty_itemsets()
    count = min_count(min_support, n)
    fp = FPGrowth(itemsCol="items", minSupport=(count - 0.5) / n, minConfidence=1.0)
    found = fp.fit(baskets.select("items")).freqItemsets.where(F.col("freq") >= count)
    if max_len is not None:
        found = found.where(F.size("items") <= int(max_len))
    pdf = found.toPandas()
    if pdf.empty:
        return empty_itemsets()
    labels = [tuple(sorted(str(i) for i in items)) for items in pdf["items"]]
    counts = pdf["freq"].to_numpy(dtype="int64")
    order = sorted(range(len(labels)), key=lambda j: (-int(counts[j]), labels[j]))
    counts = counts[order]
    return pd.DataFrame(
        {
            "itemsets": pd.Series([frozenset(labels[j]) for j in order], dtype=object),
            "support": counts / n,
            "count": counts,
        },
        columns=list(ITEMSET_COLUMNS),
    )


def frequent_itemsets(
    sdf_tx: SparkDataFrame, min_support: float, basket: str = "invoice",
    item: str = "product_id", max_len: int | None = None, *, min_item_count: int = 1,
) -> pd.DataFrame:  # fmt: skip
    """Itemsets of a Spark transaction table in at least ceil(min_support * baskets - 1e-9)
    baskets, as `custseg.rules.mining.frequent_itemsets` finds them (without its guard)."""
    baskets = spark_baskets(sdf_tx, basket, item, min_item_count).cache()
    try:
        # support is a share of every basket, also those whose items were all rarer than
        # min_item_count (they are gone from `baskets`)
        n = spark_baskets(sdf_tx, basket, item).count() if min_item_count > 1 else None
        return itemsets_from_baskets(baskets, n if n is not None else baskets.count(),
                                     min_support, max_len)  # fmt: skip
    finally:
        baskets.unpersist()
