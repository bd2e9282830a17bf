"""Demo baskets shared by the itemset and guard tests, built once (generating them is slow)."""

from __future__ import annotations

import pytest

from custseg.rules.baskets import Baskets
from tests.rules.helpers import demo_baskets


@pytest.fixture(scope="package")
def demo30k() -> Baskets:
    return demo_baskets(30_000, 1)[0]
