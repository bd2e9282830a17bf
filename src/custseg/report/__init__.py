"""Plots and reports a person reads: PNG figures, tables, report.md and report.html.

figures.draw_figures draws a run's figures (segment_plots, profile_plots, study_plots,
rules_plot, value_plots; shared pieces in plotting and palette), naming segments by persona and
keeping every text readable when printed; report.write_report writes the report (content in
blocks: the marketer's part in segment_blocks and value_blocks, then method_blocks; cells
formats them; render turns them into text). migration_plot draws the drift figure.
"""
