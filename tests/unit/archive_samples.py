"""Builders and an audit helper for the container tests (zip, tar, 7z, compressed, numpy).

The audits run the container scanners with a tiny fake pickle scanner, so these tests prove
that a payload is *reached* (handed on under the right member chain) independently of the
real pickle scanner, which has its own tests.
"""

from __future__ import annotations

import io
import pickletools
import struct
import warnings
import zipfile
from pathlib import Path
from typing import ClassVar

from canary import Canary, call_pickle
from pellucid.audit import AuditOptions, run_audit
from pellucid.budget import Budget
from pellucid.model import (
    Artifact,
    AuditReport,
    Coverage,
    FileKind,
    Finding,
    Rule,
    Severity,
)
from pellucid.scanners.archive import (
    CompressedScanner,
    SevenZipScanner,
    TarScanner,
    ZipScanner,
)
from pellucid.scanners.base import ScanContext, ScanResult
from pellucid.scanners.numpy import NumpyScanner
from pellucid.source import ByteSource

PAYLOAD_RULE = Rule("TEST-PKL-001", "payload reached", Severity.CRITICAL, None, "test", "test")


class FakePickleScanner:
    """Flags any pickle whose opcodes import ``system`` (parsed, never loaded)."""

    id: ClassVar[str] = "fake-pickle"
    rules: ClassVar[tuple[Rule, ...]] = (PAYLOAD_RULE,)

    def accepts(self, kind: FileKind) -> bool:
        return kind is FileKind.PICKLE

    def scan(self, artifact: Artifact, source: ByteSource, ctx: ScanContext) -> ScanResult:
        strings: list[str] = []
        try:
            for _op, arg, _pos in pickletools.genops(source.read()):
                if isinstance(arg, str):
                    strings.append(arg)
        except Exception:  # a broken stream still yields what was read
            pass
        if any("system" in s for s in strings):
            return ScanResult((PAYLOAD_RULE.finding(artifact.evidence(snippet="system")),))
        return ScanResult()


def scanners() -> list[object]:
    return [
        ZipScanner(),
        TarScanner(),
        SevenZipScanner(),
        CompressedScanner(),
        NumpyScanner(),
        FakePickleScanner(),
    ]


def audit(path: Path, budget: Budget | None = None) -> AuditReport:
    options = AuditOptions(
        scanners=scanners(),
        folder_analyzers=[],  # type: ignore[arg-type]
        budget=budget or Budget(),
    )
    return run_audit([path], options)


def payload(canary: Canary) -> bytes:
    return call_pickle("os", "system", canary.shell)


def benign_pickle() -> bytes:
    return b"\x80\x04\x95\x0c\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94K\x01s."


def reached(report: AuditReport) -> list[tuple[str, ...]]:
    """Member chains where the fake pickle scanner saw the payload."""
    return [f.evidence.member for f in report.findings if f.rule_id == PAYLOAD_RULE.id]


def of_rule(report: AuditReport, rule_id: str) -> list[Finding]:
    return [f for f in report.findings if f.rule_id == rule_id]


def coverage_of(report: AuditReport, *member: str) -> Coverage:
    return next(c for c in report.coverage if c.artifact.member == member)


def make_zip(entries: list[tuple[str, bytes]], method: int = zipfile.ZIP_STORED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are the point of some samples
        for name, data in entries:
            info = zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0))
            info.compress_type = method
            archive.writestr(info, data)
    return out.getvalue()


def torch_like_zip(data_pkl: bytes) -> bytes:
    """The layout torch.save writes (without torch): data.pkl, storages, metadata."""
    return make_zip(
        [
            ("archive/data.pkl", data_pkl),
            ("archive/byteorder", b"little"),
            ("archive/data/0", struct.pack("<4f", 1, 2, 3, 4)),
            ("archive/version", b"3\n"),
            ("archive/.data/serialization_id", b"1" * 40),
        ]
    )


def central_offsets(data: bytes) -> list[int]:
    """Offsets of central-directory headers, in order."""
    found, at = [], data.find(b"PK\x01\x02")
    while at != -1:
        found.append(at)
        at = data.find(b"PK\x01\x02", at + 4)
    return found


def patch(data: bytes, offset: int, value: bytes) -> bytes:
    return data[:offset] + value + data[offset + len(value) :]
