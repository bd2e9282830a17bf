"""Clustering algorithms behind one registry, and the metrics every run reports."""
