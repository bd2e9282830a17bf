"""One module per dashboard page; each `page(run)` lays out `custseg.dashboard.tables`."""
