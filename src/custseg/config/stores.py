"""Where a study is kept (`tuning.storage`), checked before any work: a URL Optuna cannot open
would otherwise stop the run after loading and cleaning, with SQLAlchemy's traceback.

Checked here: the scheme, that SQLAlchemy parses the URL, that a SQLite file is a file in a
folder that exists (an in-memory database is lost with the process and not shared between
trial threads), and that a server database's driver is installed. Whether a server answers
is left to the run (`custseg.tuning.storage.open_storage` says so in config terms).
"""

from __future__ import annotations

from pathlib import Path

from custseg.config.errors import ConfigError
from custseg.hints import did_you_mean

KEY = "tuning.storage"
STORAGE_SCHEMES = ("sqlite", "postgresql", "mysql", "oracle", "mssql")
# the module SQLAlchemy imports for a URL's driver -> what to pip install for it
DRIVERS = {"psycopg": "psycopg[binary]", "psycopg2": "psycopg2-binary", "MySQLdb": "mysqlclient",
           "pymysql": "pymysql", "oracledb": "oracledb", "pyodbc": "pyodbc",
           "pymssql": "pymssql"}  # fmt: skip
FIX = "use sqlite:///optuna.db (a file beside mlflow.db) or a database URL (postgresql://...)"


def _scheme(url: str) -> str:
    return url.split(":", 1)[0].split("+", 1)[0].lower() if ":" in url else ""


def _sqlite(url: str, database: str | None) -> None:
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        raise ConfigError(
            f"{KEY}={url}: an in-memory SQLite database is lost when the run ends and is not "
            f"shared between trial threads or workers; {FIX}",
            KEY,
        )
    path = Path(database).expanduser()
    if path.is_dir():
        raise ConfigError(f"{KEY}={url}: {database} is a folder; name a file in it, e.g. "
                          f"sqlite:///{path / 'optuna.db'}", KEY)  # fmt: skip
    folder = path.parent
    if not folder.is_dir():
        raise ConfigError(
            f"{KEY}={url}: the folder {str(folder)!r} does not exist (relative paths count from "
            f"{Path.cwd()}); create it first, or {FIX}",
            KEY,
        )


def check_storage(url: str) -> None:
    """Raise a ConfigError naming `tuning.storage` when Optuna could not open `url`."""
    scheme = _scheme(url)
    if scheme not in STORAGE_SCHEMES:
        raise ConfigError(
            f"{KEY}: {scheme or url!r} is not an Optuna RDB storage"
            f"{did_you_mean(scheme, STORAGE_SCHEMES)}; {FIX}",
            KEY,
        )
    from sqlalchemy.engine import make_url  # only with tuning on
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"{KEY}={url}: not a database URL (three slashes for a relative "
                          f"SQLite file: sqlite:///optuna.db); {FIX}", KEY) from None  # fmt: skip
    try:
        dialect = parsed.get_dialect()
    except NoSuchModuleError:
        raise ConfigError(
            f"{KEY}={url}: SQLAlchemy has no driver {parsed.drivername!r}; use "
            f"{scheme}://... for the default driver, or {FIX}",
            KEY,
        ) from None
    if scheme == "sqlite":
        _sqlite(url, parsed.database)
        return
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        module = exc.name or str(exc)
        package = DRIVERS.get(module.split(".")[0], module)
        raise ConfigError(
            f"{KEY}={parsed.render_as_string(hide_password=True)}: the {scheme} driver "
            f"({module}) is not installed; pip install {package}, or {FIX}",
            KEY,
        ) from None
