"""The literal table of built-in scanners stays true to the classes it names."""

from __future__ import annotations

import pytest

from pellucid.model import FileKind
from pellucid.scanners import BUILTIN_SCANNERS, LazyScanner, builtin_scanners


@pytest.mark.parametrize("name", sorted(BUILTIN_SCANNERS))
def test_declared_kinds_match_accepts(name: str) -> None:
    target, kinds = BUILTIN_SCANNERS[name]
    real = LazyScanner(name, target, kinds).load()
    assert real.id == name
    assert {k for k in FileKind if real.accepts(k)} == set(kinds)


def test_scanners_load_only_when_needed() -> None:
    lazy = [s for s in builtin_scanners() if isinstance(s, LazyScanner)]
    assert len(lazy) == len(BUILTIN_SCANNERS)
    fresh = LazyScanner("pickle", *BUILTIN_SCANNERS["pickle"])
    assert fresh.accepts(FileKind.PICKLE)
    assert fresh._scanner is None  # deciding whether it applies imported nothing
