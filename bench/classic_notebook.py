"""The reference: what analysts run today in a notebook on UCI Online Retail.

pandas cleaning, RFM, standard scaling, KMeans for k = 2..10 with exact silhouette and DBI,
mlxtend apriori on a dense invoice x product one-hot at support 0.02, association_rules.
Run by bench/bench_pipeline.py under /usr/bin/time -v; not part of the package.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from mlxtend.frequent_patterns import apriori, association_rules
from sklearn.cluster import KMeans
from sklearn.metrics import davies_bouldin_score, silhouette_score
from sklearn.preprocessing import StandardScaler

path = Path(sys.argv[1])
t0 = time.perf_counter()
df = pd.read_csv(path, dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": str})
df = df.dropna(subset=["CustomerID"])
df = df[~df["InvoiceNo"].str.startswith("C") & (df["Quantity"] > 0) & (df["UnitPrice"] > 0)]
df["TotalValue"] = df["Quantity"] * df["UnitPrice"]
df["InvoiceDate"] = pd.to_datetime(df["InvoiceDate"])
ref = df["InvoiceDate"].max() + pd.Timedelta(days=1)
rfm = df.groupby("CustomerID").agg(
    recency=("InvoiceDate", lambda d: (ref - d.max()).days),
    frequency=("InvoiceNo", "nunique"),
    monetary=("TotalValue", "sum"),
)
X = StandardScaler().fit_transform(np.log1p(rfm))
scores = {}
for k in range(2, 11):
    labels = KMeans(k, n_init=10, random_state=0).fit_predict(X)
    scores[k] = (silhouette_score(X, labels), davies_bouldin_score(X, labels))
basket = df.groupby(["InvoiceNo", "StockCode"])["Quantity"].sum().unstack(fill_value=0) > 0
itemsets = apriori(basket, min_support=0.02, use_colnames=True)
rules = association_rules(itemsets, metric="lift", min_threshold=1.0)
print(
    f"customers {len(rfm)}, best k {max(scores, key=lambda k: scores[k][0])}, "
    f"itemsets {len(itemsets)}, rules {len(rules)}, {time.perf_counter() - t0:.1f} s"
)
