"""Files appear complete or not at all: every output is written beside its final name and
moved into place (an atomic rename on one filesystem) only when the writer has finished.

A run killed mid-write, a full disk or a serialisation error therefore never leaves a truncated
Parquet, CSV, PNG or report where a reader (a person, a dashboard, the next run) would take it
for a result, and an earlier complete file of the same name stays as it was. The finished file
gets the mode a plain open() would have given it (0666 less the umask), not the temporary
file's private 0600, so colleagues and a tracking server's user can read the artifacts.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def umask() -> int:
    """The process's umask, read without changing it where the system tells (Linux's
    /proc/self/status): os.umask reads it only by setting it, a race with threads that create
    files at that moment."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path in the target's folder; renamed to `path` when the block succeeds,
    removed when it fails. The suffix is kept so writers that look at it still work."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".part{path.suffix}",
                               dir=path.parent)  # fmt: skip
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~umask())  # mkstemp's 0600 would make the file private
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_dir(path: Path) -> Iterator[Path]:
    """A temporary folder beside `path`; it replaces `path` (old content removed) only when the
    block succeeds, and is deleted when it fails."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~umask())  # mkdtemp's 0700 would make the folder private
        if path.exists():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextmanager
def sqlite_init_lock(url: str) -> Iterator[None]:
    """Serialise first use of one SQLite file across processes: MLflow and Optuna create their
    schemas (and MLflow its experiments) without a lock, so workers starting together on a
    fresh file race in CREATE TABLE / the alembic stamp and one of them dies. Other URLs, and
    systems without flock, pass straight through."""
    import sqlalchemy

    db = sqlalchemy.engine.make_url(url).database if url.startswith("sqlite") else None
    try:
        import fcntl
    except ImportError:  # Windows: no flock; parallel workers there need an existing file
        fcntl = None  # type: ignore[assignment]
    if not db or db == ":memory:" or fcntl is None:
        yield
        return
    key = hashlib.sha1(str(Path(db).resolve()).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"custseg-sqlite-{key}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
