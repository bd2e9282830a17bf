"""Monitoring: does a fitted segmentation still describe the customers of a later period?

The analysts' "reassess the segments periodically" check lives in `drift`: pure functions on a
cleaned canonical table, with no MLflow and no Hydra, so they run the same in tests, notebooks
and any command that logs their results.
"""
