"""The literal table of built-in scanners stays true to the classes it names."""

from __future__ import annotations

from pathlib import Path

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


def test_third_party_scanners_come_from_entry_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pellucid.scanners import _any_distribution_mentions, _plugins

    (tmp_path / "acme_scanner.py").write_text(
        "class AcmeScanner:\n    id = 'acme'\n    rules = ()\n"
        "    def accepts(self, kind):\n        return False\n"
    )
    info = tmp_path / "acme_scanner-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-scanner\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[pellucid.scanners]\nacme = acme_scanner:AcmeScanner\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    _any_distribution_mentions.cache_clear()
    try:
        assert [p.id for p in _plugins("pellucid.scanners")] == ["acme"]
        assert _plugins("pellucid.folder_analyzers") == []
    finally:
        _any_distribution_mentions.cache_clear()
