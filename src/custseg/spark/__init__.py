"""Optional Apache Spark engine: the same stages (features, clustering, itemsets) on Spark.

Kept as its own package so the default install never needs pyspark or a JVM: nothing outside
`custseg.spark` imports pyspark, and this package is only imported by callers that asked for
Spark (install the `spark` extra). Results come back as pandas objects with the local engine's
column names and semantics, so they can be compared with, or swapped for, the local ones.
"""
