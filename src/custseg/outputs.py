"""Runs own their outputs: each writes into a fresh folder it can write, and a file it cannot
write (full disk, file-size limit, read-only folder) is reported by name with what to do.

Checked on the command line before Hydra creates anything, so a refused run leaves an earlier
run's folder exactly as it was.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from custseg.redact import redact


class OutputError(ValueError):
    """An output folder a run may not or cannot write into."""


class WriteError(ValueError):
    """A file the run had to write or read could not be: full disk, a file-size limit, a
    read-only or vanished folder. Says which file and what to do."""

    FIXES = {errno.ENOSPC: "free disk space", errno.EDQUOT: "free space within your quota",
             errno.EFBIG: "raise the file-size limit (ulimit -f) or write elsewhere",
             errno.EACCES: "make it writable or write elsewhere (hydra.run.dir=...)",
             errno.EROFS: "the file system is read-only: write elsewhere (hydra.run.dir=...)",
             errno.EPERM: "make it writable or write elsewhere (hydra.run.dir=...)"}  # fmt: skip

    def __init__(self, exc: OSError, started: bool = True) -> None:
        where = exc.filename or "a file of the run"
        fix = self.FIXES.get(exc.errno or 0, "check the path and its folder")
        after = (" Earlier runs are untouched; this run is marked FAILED in MLflow where the "
                 "store could be written." if started else "")  # fmt: skip
        super().__init__(f"{exc.strerror or exc} ({where}); {fix}.{after}")


def _writable(folder: Path) -> OSError | None:
    """Create `folder` (Hydra would) and a probe file in it: the only honest test of whether
    a run can write there (permission bits do not stop root; read-only mounts stop everyone)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".custseg-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return exc
    return None


def check_output_folders(argv: Sequence[str]) -> None:
    """A run writes only into a fresh folder: a `hydra.run.dir` (or `hydra.sweep.dir`) that
    holds an earlier run's files is refused before Hydra writes a byte into it, and a folder
    that cannot be written is named now rather than by a traceback later."""
    given: dict[str, Path] = {}
    for arg in argv:
        key, _, value = arg.lstrip("+").partition("=")
        if key in ("hydra.run.dir", "hydra.sweep.dir") and value:
            given[key] = Path(value)
    for key, folder in given.items():
        earlier = [p for p in (folder / ".hydra", folder / "artifacts") if p.exists()]
        if key == "hydra.sweep.dir" and folder.is_dir():
            earlier += sorted(folder.glob("*/.hydra"))
        if earlier:
            raise OutputError(
                f"{key}={folder} already holds an earlier run's outputs ({earlier[0]}); each "
                f"run writes into a fresh folder: choose a new {key}, or leave it out (runs "
                f"then go to a new dated folder)"
            )
    for folder in given.values() or [Path("outputs")]:
        problem = _writable(folder)
        if problem is not None:
            raise OutputError(str(WriteError(problem, started=False)))


class StoreError(ValueError):
    """The SQLite tracking store could not be written (full disk, read-only file, a lock held
    too long)."""


def environment_error(exc: BaseException, cfg: Any) -> ValueError | None:
    """The error to show when `exc` (or what caused it) is the machine's, not custseg's: a
    file that could not be written, or a tracking store that could not be. None otherwise."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError):
            return WriteError(seen)
        if isinstance(seen, sqlite3.Error):
            uri = redact(str(getattr(getattr(cfg, "tracking", None), "uri", "the store")))
            return StoreError(
                f"tracking.uri={uri}: the store could not be written ({seen}); free disk "
                f"space, make the file writable, or point tracking.uri at another store. "
                f"Earlier runs are untouched"
            )
        seen = seen.__cause__ or seen.__context__
    return None
