"""Frequent itemsets with pyspark.ml's FP-growth, identical to the local engines' output.

Baskets are built the way `custseg.rules.baskets.make_baskets` builds them (an item counts once
per basket, rows without a basket key or item are ignored, items in fewer than
`min_item_count` baskets are dropped before baskets are counted), and the threshold is the local
integer one, so the itemsets and counts match `custseg.rules.mining.frequent_itemsets` exactly.

Threshold: Spark keeps itemsets with freq >= ceil(minSupport * n), with no allowance for float
noise, while the local rule is count >= ceil(min_support * n - 1e-9): at 0.07 and 100 baskets
Spark asks for 8, the local engines for 7. So Spark gets minSupport = (count - 0.5) / n, halfway
between two integers, which Spark's ceil maps to exactly `count`; the result is then also
filtered by count, so no rounding inside Spark can let an extra itemset through.

Before FP-growth runs, the local guard's check is repeated on Spark (frequent pairs counted
exactly, `MiningTooLarge` with the same suggested support), so a support that would explode
fails fast here too. Spark's FP-growth has no length limit: `max_len` filters its output.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from pyspark.ml.fpm import FPGrowth
from pyspark.sql import Column
from pyspark.sql import DataFrame as SparkDataFrame
from pyspark.sql import functions as F

from custseg.rules.baskets import BASKET_KEYS, ITEM_KEYS
from custseg.rules.mining import (
    ITEMSET_COLUMNS,
    PAIR_WORK_LIMIT,
    MiningTooLarge,
    _check_support,
    _empty_itemsets,
    _fmt,
    _suggest,
    min_count,
)


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
    sdf_tx: SparkDataFrame,
    basket: str = "invoice",
    item: str = "product_id",
    min_item_count: int = 1,
    *,
    with_customer: bool = False,
) -> SparkDataFrame:
    """One row per non-empty basket: basket (str), items (array of distinct item labels), and
    with `with_customer` its customer_id: the first non-missing one in row order (the `_row`
    column of `to_spark`), as `make_baskets` keys a basket; null when it has none."""
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
    baskets = pairs.groupBy("basket").agg(F.collect_set("item").alias("items"))
    if not with_customer:
        return baskets
    # without `_row` (a table not made by to_spark) fall back to Spark's own row order
    order = F.col("_row") if "_row" in sdf_tx.columns else F.monotonically_increasing_id()
    owners = (
        sdf_tx.select(
            key.cast("string").alias("basket"),
            F.col("customer_id").cast("string").alias("customer_id"),
            order.alias("_order"),
        )
        .where(F.col("basket").isNotNull() & F.col("customer_id").isNotNull())
        .groupBy("basket")
        .agg(F.min_by("customer_id", "_order").alias("customer_id"))
    )
    return baskets.join(owners, on="basket", how="left")


def _too_many(
    desc: np.ndarray, n: int, min_support: float, limit: int, f: int, pairs: np.ndarray | None
) -> MiningTooLarge:
    """The local guard's error and suggestion (custseg.rules.mining._guard) from Spark counts:
    `desc` item counts (descending), `pairs` frequent pair counts (descending) or None when
    there were too many frequent items to count pairs."""
    if pairs is None:
        fit = (1 + math.isqrt(1 + 8 * limit)) // 2  # the most items f with f (f - 1) / 2 <= limit
        s = _suggest(int(desc[fit]) + 1 if fit < len(desc) else 1, n)
        return MiningTooLarge(
            f"rules.min_support={_fmt(min_support)} is too low for {n:,} baskets: "
            f"{f:,} frequent items, too many to count their pairs cheaply; "
            f"try rules.min_support={_fmt(s)} or higher (at most {fit:,} frequent items, so at "
            f"most {limit:,} pairs), or raise rules.max_itemsets",
            f,
            None,
            s,
        )
    s = _suggest(int(pairs[limit]) + 1, n)
    return MiningTooLarge(
        f"rules.min_support={_fmt(min_support)} is too low for {n:,} baskets: {f:,} frequent "
        f"items and {len(pairs):,} frequent pairs, over the limit of {limit:,} pairs "
        f"(rules.max_itemsets // 10); try rules.min_support={_fmt(s)} or higher "
        f"(the smallest support with at most {limit:,} frequent pairs), "
        f"or raise rules.max_itemsets",
        f,
        len(pairs),
        s,
    )


def guard(baskets: SparkDataFrame, n: int, min_support: float, max_itemsets: int) -> None:
    """Raise MiningTooLarge when the frequent pairs alone exceed max_itemsets // 10, as the
    local engines do; pairs are counted on Spark only when the frequent items could exceed it."""
    limit = max(int(max_itemsets) // 10, 1)
    count = min_count(min_support, n)
    items = baskets.select(F.explode("items").alias("item")).groupBy("item").count().cache()
    try:
        desc = np.sort(items.toPandas()["count"].to_numpy(dtype="int64"))[::-1]
        f = int((desc >= count).sum())
        if f * (f - 1) // 2 <= limit:
            return
        frequent = items.where(F.col("count") >= count).select("item")
        lines = (
            baskets.select("basket", F.explode("items").alias("item"))
            .join(F.broadcast(frequent), on="item")
            .cache()
        )
        try:
            sizes = lines.groupBy("basket").count().select(F.col("count").cast("double") ** 2)
            work = sizes.agg(F.sum(sizes.columns[0])).first()[0] or 0.0
            if float(work) > PAIR_WORK_LIMIT:
                raise _too_many(desc, n, min_support, limit, f, None)
            a, b = lines.alias("a"), lines.alias("b")
            pair_counts = (
                a.join(
                    b,
                    (F.col("a.basket") == F.col("b.basket")) & (F.col("a.item") < F.col("b.item")),
                )
                .groupBy("a.item", "b.item")
                .count()
                .where(F.col("count") >= count)
                .select("count")
                .toPandas()["count"]
                .to_numpy(dtype="int64")
            )
        finally:
            lines.unpersist()
    finally:
        items.unpersist()
    pairs = np.sort(pair_counts)[::-1]
    if len(pairs) > limit:
        raise _too_many(desc, n, min_support, limit, f, pairs)


def itemsets_from_baskets(
    baskets: SparkDataFrame,
    n: int,
    min_support: float,
    max_len: int | None = None,
    max_itemsets: int | None = 2_000_000,
    n_items: int | None = None,
) -> pd.DataFrame:
    """Frequent itemsets of a basket frame (an `items` column) holding `n` rows, in the local
    table's form and order; `max_itemsets` None skips the guard. `n_items`, a bound on the
    distinct items, spares the guard's Spark jobs when even all their pairs are within limit."""
    _check_support(min_support)
    if max_len is not None and int(max_len) < 1:
        raise ValueError(f"rules.max_len: {max_len} must be at least 1 (or null for no limit)")
    if n == 0:
        return _empty_itemsets()
    count = min_count(min_support, n)
    check = max_itemsets is not None and (max_len is None or int(max_len) >= 2)
    if check and n_items is not None and n_items * (n_items - 1) // 2 <= int(max_itemsets) // 10:
        check = False  # no support could give more frequent pairs than the limit
    if check:
        guard(baskets, n, min_support, int(max_itemsets))
    fp = FPGrowth(itemsCol="items", minSupport=(count - 0.5) / n, minConfidence=1.0)
    found = fp.fit(baskets.select("items")).freqItemsets.where(F.col("freq") >= count)
    if max_len is not None:
        found = found.where(F.size("items") <= int(max_len))
    pdf = found.toPandas()
    if pdf.empty:
        return _empty_itemsets()
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
    sdf_tx: SparkDataFrame,
    min_support: float,
    basket: str = "invoice",
    item: str = "product_id",
    max_len: int | None = None,
    *,
    min_item_count: int = 1,
    max_itemsets: int | None = 2_000_000,
) -> pd.DataFrame:
    """Itemsets in at least ceil(min_support * baskets - 1e-9) baskets: itemsets (frozenset of
    str), support, count; sorted by count (descending) then sorted labels, as locally."""
    _check_support(min_support)
    if max_len is not None and int(max_len) < 1:
        raise ValueError(f"rules.max_len: {max_len} must be at least 1 (or null for no limit)")
    baskets = spark_baskets(sdf_tx, basket, item, min_item_count).cache()
    try:
        return itemsets_from_baskets(baskets, baskets.count(), min_support, max_len, max_itemsets)
    finally:
        baskets.unpersist()
