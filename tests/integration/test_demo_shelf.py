"""The demo shelf end to end: hostile folders are caught, clean ones pass, no canary fires."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pellucid.audit import run_audit
from pellucid.model import AuditReport, Severity

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def shelf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("demo") / "shelf"
    subprocess.run(
        [sys.executable, str(ROOT / "demo" / "build_shelf.py"), str(target)],
        check=True,
        capture_output=True,
    )
    return target


@pytest.fixture(scope="module")
def report(shelf: Path) -> AuditReport:
    return run_audit([shelf])


def blocking_in(report: AuditReport, folder: str) -> list[str]:
    return [
        f.rule_id
        for f in report.findings
        if f"/{folder}/" in f.evidence.file and f.severity >= Severity.HIGH
    ]


@pytest.mark.parametrize("folder", ["sd-v1-style", "chat-gguf", "keras-lambda"])
def test_hostile_folders_are_blocked(report: AuditReport, folder: str) -> None:
    assert blocking_in(report, folder)


@pytest.mark.parametrize("folder", ["llama-3-tiny", "sklearn-iris"])
def test_clean_folders_pass(report: AuditReport, folder: str) -> None:
    assert blocking_in(report, folder) == []


def test_planted_exec_is_decompiled(report: AuditReport) -> None:
    (critical,) = [
        f
        for f in report.findings
        if "sd-v1-style" in f.evidence.file and f.severity is Severity.CRITICAL
    ]
    assert critical.evidence.member == ("archive/data.pkl",)
    assert "exec" in critical.evidence.snippet


def test_every_file_is_accounted_for(report: AuditReport, shelf: Path) -> None:
    on_disk = {str(p) for p in shelf.rglob("*") if p.is_file()}
    listed = {c.artifact.path for c in report.coverage if not c.artifact.member}
    assert on_disk == listed


def test_demo_canary_never_fired(report: AuditReport, shelf: Path) -> None:
    assert report.coverage
    assert not (shelf / "CANARY-FIRED").exists()
