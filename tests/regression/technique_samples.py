"""Builders and assertions for the technique regression tests (docs/scorecard.md).

Every test here writes its sample to disk and runs the real pipeline (``run_audit``) with the
built-in scanners, so a test guards the scanner and its wiring into discovery, identification
and container unpacking at once.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

from canary import (
    MARK,
    MEMOIZE,
    PROTO4,
    REDUCE,
    STACK_GLOBAL,
    STOP,
    TUPLE,
    call,
    call_pickle,
    global_op,
    s,
)
from pellucid.audit import run_audit
from pellucid.model import AuditReport, Coverage, CoverageStatus, Finding

__all__ = [
    "MARK",
    "MEMOIZE",
    "PROTO4",
    "REDUCE",
    "STACK_GLOBAL",
    "STOP",
    "TUPLE",
    "call",
    "call_pickle",
    "global_op",
    "s",
]


def audit(path: Path) -> AuditReport:
    return run_audit([path])


def write_audit(path: Path, data: bytes) -> AuditReport:
    path.write_bytes(data)
    return run_audit([path])


def findings(report: AuditReport, *rule_ids: str) -> list[Finding]:
    return [f for f in report.findings if f.rule_id in rule_ids]


def one(
    report: AuditReport,
    rule_id: str,
    snippet: str | None = None,
    member: tuple[str, ...] | None = None,
) -> Finding:
    """The finding of ``rule_id`` (with exactly ``snippet`` and ``member``, when given)."""
    found = [
        f
        for f in report.findings
        if f.rule_id == rule_id
        and (snippet is None or f.evidence.snippet == snippet)
        and (member is None or f.evidence.member == member)
    ]
    seen = [(f.rule_id, f.evidence.member, f.evidence.snippet) for f in report.findings]
    assert len(found) == 1, f"{rule_id} {snippet!r} not found once in {seen}"
    return found[0]


def incomplete(report: AuditReport) -> list[Coverage]:
    return [c for c in report.coverage if c.status is CoverageStatus.INCOMPLETE]


def zip_bytes(name: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


def tar_bytes(*members: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, content in members:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()
