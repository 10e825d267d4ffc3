"""Shared fixtures. The canary: every hostile sample in the suite carries a payload that would
only create a marker file. Nothing pellucid does may ever create it; an autouse fixture checks
after every test."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from canary import CANARY_DIR, Canary


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite tests/goldens/* from the current renderers instead of comparing",
    )


@pytest.fixture(scope="session", autouse=True)
def _canary_dir() -> Iterator[None]:
    CANARY_DIR.mkdir(parents=True, exist_ok=True)
    os.environ["PELLUCID_CANARY_DIR"] = str(CANARY_DIR)
    return


@pytest.fixture(autouse=True)
def _no_canary_fired(request: pytest.FixtureRequest) -> Iterator[None]:
    before = set(CANARY_DIR.glob("*"))
    yield
    fired = set(CANARY_DIR.glob("*")) - before
    assert not fired, f"a canary payload fired during {request.node.nodeid}: {sorted(fired)}"


@pytest.fixture
def canary(request: pytest.FixtureRequest) -> Canary:
    """A fresh marker path plus payload strings that would create it if ever executed."""
    return Canary.for_test(request.node.name)
