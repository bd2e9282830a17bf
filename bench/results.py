"""What every bench script does with its section: print it, and append it to RESULTS.md unless
told not to (`--no-write`), so a figure is never recorded without its date and machine."""

from __future__ import annotations

import argparse
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def parser(doc: str | None) -> argparse.ArgumentParser:
    """A bench script's command line: its docstring as help, and --no-write."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md")
    return ap


def publish(lines: list[str], write: bool) -> None:
    text = "\n".join(lines) + "\n"
    print(text)
    if write:
        with open(RESULTS, "a", encoding="utf-8") as fh:
            fh.write(text)
