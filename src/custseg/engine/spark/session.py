"""One SparkSession per process.

Spark allows a single SparkContext per JVM, and starting one costs seconds, so every stage
shares the session made here. The defaults suit a laptop, a CI runner or a small cluster:
loopback networking unless told otherwise (no surprises from a machine's public interface), few
shuffle partitions (the default 200 turns a small groupBy into hundreds of tiny tasks), no web
UI, quiet logs and UTC session time so naive pandas timestamps round-trip unchanged.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping

from pyspark.sql import SparkSession

DEFAULT_CONF: dict[str, str] = {
    "spark.sql.shuffle.partitions": "8",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # naive canonical timestamps mean wall-clock time; UTC has no DST gaps to shift them
    "spark.sql.session.timeZone": "UTC",
}

_SESSION: SparkSession | None = None


def _alive(session: SparkSession | None) -> bool:
    """Whether `session` is still the running one (a stopped session is no longer active; in
    another thread, where none is active, `getOrCreate` hands the running one back anyway)."""
    return session is not None and SparkSession.getActiveSession() is session


def _require_java() -> None:
    """Say what is missing before pyspark fails with 'Java gateway process exited'."""
    home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (home and os.path.exists(f"{home}/bin/java")):
        raise RuntimeError(
            "engine=spark needs a Java 17 runtime: install one (e.g. apt-get install "
            "openjdk-17-jre-headless) or set JAVA_HOME, or use engine=local"
        )


def get_session(
    master: str, app: str = "custseg", conf: Mapping[str, str] | None = None
) -> SparkSession:
    """The process's SparkSession, created on first use with the defaults above plus `conf`.

    Later calls return the cached session whatever their arguments (Spark cannot run two
    contexts in one process); call `stop_session` first to start one with other settings.
    """
    global _SESSION
    if _alive(_SESSION):
        assert _SESSION is not None
        return _SESSION
    _require_java()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.master(master).appName(app)
    for key, value in {**DEFAULT_CONF, **dict(conf or {})}.items():
        builder = builder.config(key, str(value))
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("WARN")
    _SESSION = session
    return session


def stop_session() -> None:
    """Stop the cached session (if any), so the next `get_session` starts a fresh one."""
    global _SESSION
    if _alive(_SESSION):
        assert _SESSION is not None
        _SESSION.stop()
    _SESSION = None
