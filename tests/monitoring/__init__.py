"""Tests of custseg.monitoring."""
