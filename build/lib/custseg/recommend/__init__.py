"""Cross-sell recommendations per customer, built on segments and association rules.

Every recommender returns the same "recs" frame (customer_id, item, score, source, reason) so the
pipeline can blend them and evaluate them against a later time window on equal terms.
"""
