"""``--update-goldens``: rewrite the golden files instead of comparing against them.

The option is declared in tests/conftest.py; ``PELLUCID_UPDATE_GOLDENS=1`` works too.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

GOLDEN_DIR = Path(__file__).parent


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """``golden(name, text)``: assert ``text`` equals tests/goldens/<name> (or rewrite it)."""
    update = bool(request.config.getoption("update_goldens", default=False)) or (
        os.environ.get("PELLUCID_UPDATE_GOLDENS") == "1"
    )

    def check(name: str, text: str) -> None:
        path = GOLDEN_DIR / name
        if update:
            path.write_text(text, encoding="utf-8")
            return
        assert path.exists(), f"missing golden {name}; run pytest tests/goldens --update-goldens"
        expected = path.read_text(encoding="utf-8")
        assert text == expected, f"{name} changed; if intended, refresh with --update-goldens"

    return check
