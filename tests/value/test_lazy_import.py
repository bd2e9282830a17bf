"""pymc-marketing and pytensor take seconds to import: custseg.value must not pull them in."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import clean_env


def test_importing_the_package_leaves_pymc_unloaded() -> None:
    script = (
        "import sys, custseg.value\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'pymc', 'pymc_marketing', 'pytensor', 'arviz', 'xarray'})\n"
        "print(heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=clean_env(), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
