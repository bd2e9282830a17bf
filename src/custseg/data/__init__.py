"""Loading, validating, cleaning and generating transaction tables."""
