"""Loading transaction tables: reading files, mapping and validating columns, demo data."""
