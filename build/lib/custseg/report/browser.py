"""Render a report in headless Chromium: the DOM after scripts ran, and optionally a screenshot.

Used by the tests (are all embedded images really decodable?) and by the pipeline to attach a
picture of the report to the run.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

_FLAGS = (
    "--headless",
    "--no-sandbox",  # we may run as root in containers
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=5000",  # let window.onload scripts finish before dumping
)


def find_chromium() -> str | None:
    """The Chromium executable on PATH, or None (callers skip browser work)."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _command(exe: str, profile: Path, *extra: str) -> list[str]:
    return [exe, *_FLAGS, f"--user-data-dir={profile}", *extra]


def render(html_path: Path, screenshot: Path | None = None, timeout: float = 60.0) -> str:
    """The DOM of `html_path` after load (--dump-dom); with `screenshot`, also a 1280x900 PNG
    there. Each run gets a throwaway profile so nothing leaks between runs."""
    exe = find_chromium()
    if exe is None:
        raise FileNotFoundError("chromium not found on PATH (install the 'chromium' package)")
    url = Path(html_path).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="custseg-chromium-") as tmp:
        dom = subprocess.run(
            [*_command(exe, Path(tmp) / "dom"), "--dump-dom", url],
            capture_output=True, text=True, timeout=timeout, check=True,
        ).stdout  # fmt: skip
    if screenshot is not None:
        _shoot(exe, url, Path(screenshot), timeout)
    return dom


def screenshot(html_path: Path, png: Path, timeout: float = 60.0) -> Path:
    """Only the 1280x900 picture of `html_path` (one browser start instead of two)."""
    exe = find_chromium()
    if exe is None:
        raise FileNotFoundError("chromium not found on PATH (install the 'chromium' package)")
    return _shoot(exe, Path(html_path).resolve().as_uri(), Path(png), timeout)


class Screenshot:
    """A picture of a page being taken by Chromium, a program of its own: started here, it
    renders while the caller goes on (say, logging the model); `result()` waits for it."""

    def __init__(self, html_path: Path, png: Path, timeout: float = 60.0) -> None:
        exe = find_chromium()
        if exe is None:
            raise FileNotFoundError("chromium not found on PATH (install the 'chromium' package)")
        self.png = Path(png).resolve()
        self.png.parent.mkdir(parents=True, exist_ok=True)
        self.timeout = timeout
        self._profile = tempfile.TemporaryDirectory(prefix="custseg-chromium-")
        url = Path(html_path).resolve().as_uri()
        command = [*_command(exe, Path(self._profile.name) / "shot"),
                   f"--screenshot={self.png}", "--window-size=1280,900", url]  # fmt: skip
        self._proc = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)  # fmt: skip

    def result(self) -> Path:
        try:
            code = self._proc.wait(timeout=self.timeout)
        finally:
            if self._proc.poll() is None:
                self._proc.kill()
                self._proc.wait()
            self._profile.cleanup()
        if code != 0 or not self.png.exists():
            raise RuntimeError(f"chromium did not write the screenshot {self.png} (exit {code})")
        return self.png


def _shoot(exe: str, url: str, png: Path, timeout: float) -> Path:
    png = png.resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="custseg-chromium-") as tmp:
        subprocess.run(
            [*_command(exe, Path(tmp) / "shot"), f"--screenshot={png}", "--window-size=1280,900",
             url],
            capture_output=True, text=True, timeout=timeout, check=True,
        )  # fmt: skip
    if not png.exists():
        raise RuntimeError(f"chromium did not write the screenshot {png}")
    return png
