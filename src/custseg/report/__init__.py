"""Plots and reports a person reads: PNG figures, tables."""
