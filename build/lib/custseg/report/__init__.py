"""Plots and reports a person reads: PNG figures, tables, report.md and report.html.

figures.draw_figures draws a run's figures (segment_plots, profile_plots, study_plots,
rules_plot; shared pieces in plotting and palette); report.write_report writes the report
(content in blocks, text in render). migration_plot draws the drift figure.
"""
