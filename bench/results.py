"""What every bench script does with its section: print it, and append it to RESULTS.md unless
told not to (`--no-write`), so a figure is never recorded without its date and machine."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def publish(lines: list[str], write: bool) -> None:
    text = "\n".join(lines) + "\n"
    print(text)
    if write:
        with open(RESULTS, "a", encoding="utf-8") as fh:
            fh.write(text)
