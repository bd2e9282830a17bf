"""custseg: customer segments and cross-sell recommendations from retail transactions."""

__version__ = "0.1.0"
