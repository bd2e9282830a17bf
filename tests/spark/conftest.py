"""What every Spark test needs: pyspark (the optional 'spark' extra) and one local session."""

from __future__ import annotations

import os

import pytest


def require_pyspark() -> None:
    """Skip the calling test module without pyspark; under CI=true its absence fails instead
    (CI must install the extra, or the Spark engine would go untested)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("pyspark is not installed (CI=true: install the 'spark' extra)",
                        pytrace=False)  # fmt: skip
        pytest.skip("pyspark is not installed (optional 'spark' extra)", allow_module_level=True)


@pytest.fixture(scope="session")
def spark(request: pytest.FixtureRequest):  # -> SparkSession (pyspark may be absent here)
    """One local[2] session for every Spark test (starting one costs seconds), stopped at the
    end of the test session."""
    from custseg.spark.session import get_session, stop_session

    session = get_session("local[2]", "custseg-tests")
    request.config.add_cleanup(stop_session)
    return session
