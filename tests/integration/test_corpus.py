"""The benchmark corpus as a regression suite: every malicious sample is blocked, every benign
sample written by a real framework passes without a blocking finding, and no canary fires."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pytest

from pellucid.audit import run_audit
from pellucid.model import CoverageStatus

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from corpus import BENIGN, MALICIOUS

MARKER = "CANARY-FIRED"


def build(writer: object, path: Path, marker: Path) -> None:
    """Write a sample; the frameworks' own deprecation warnings are not under test here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        writer(path, str(marker))  # type: ignore[operator]


@pytest.mark.parametrize(("name", "technique", "writer"), MALICIOUS, ids=[m[0] for m in MALICIOUS])
def test_malicious_sample_is_blocked(
    tmp_path: Path, name: str, technique: str, writer: object
) -> None:
    path = tmp_path / name
    build(writer, path, tmp_path / MARKER)
    report = run_audit([path])
    blocking = [f for f in report.findings if f.blocking]
    assert blocking, f"{technique}: not blocked; coverage={report.coverage}"
    assert all(f.evidence.file for f in blocking)
    assert not (tmp_path / MARKER).exists()


@pytest.mark.parametrize(("name", "technique", "writer"), BENIGN, ids=[b[0] for b in BENIGN])
def test_benign_sample_passes(tmp_path: Path, name: str, technique: str, writer: object) -> None:
    path = tmp_path / name
    build(writer, path, tmp_path / MARKER)
    report = run_audit([path])
    blocking = [
        (f.rule_id, f.evidence.location, f.evidence.snippet) for f in report.findings if f.blocking
    ]
    assert blocking == [], technique
    incomplete = [
        (c.artifact.display, c.reasons)
        for c in report.coverage
        if c.status is CoverageStatus.INCOMPLETE
    ]
    assert incomplete == [], technique
