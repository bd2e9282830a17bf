"""Segmenting customers: the clustering algorithms (built from `conf/segment` by `_target_`),
the quality metrics every run reports, and one fit that both a tuning trial and the final model
use."""
