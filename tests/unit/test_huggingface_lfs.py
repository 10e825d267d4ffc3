"""LfsPointerScanner: pointers mean absent weights (incomplete, never clean); text that only
looks like a pointer is malformed, and whatever follows it is scanned."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pellucid.audit import AuditOptions, run_audit
from pellucid.identify import LFS_POINTER, identify
from pellucid.model import Artifact, CoverageStatus, FileKind, Severity
from pellucid.scanners.base import ScanContext, ScanResult
from pellucid.scanners.huggingface import LfsPointerScanner
from pellucid.source import ByteSource

OID = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393"
POINTER = f"version https://git-lfs.github.com/spec/v1\noid sha256:{OID}\nsize 4944321984\n"


def scan(data: bytes) -> ScanResult:
    artifact = Artifact("model/model.safetensors", FileKind.LFS_POINTER, len(data))
    return LfsPointerScanner().scan(artifact, ByteSource(data), ScanContext())


def test_lfs_pointer_means_weights_not_downloaded() -> None:
    result = scan(POINTER.encode())
    (finding,) = result.findings
    assert (finding.rule_id, finding.severity) == ("PCL-HFR-007", Severity.LOW)
    assert f"oid sha256:{OID} size 4944321984" in finding.detail
    assert finding.evidence.offset == 0
    assert OID in finding.evidence.snippet
    assert result.incomplete == (
        f"Git LFS pointer: the real file (oid sha256:{OID} size 4944321984) is not present",
    )
    assert result.members == ()


def test_malformed_lfs_pointer_is_reported() -> None:
    bad = "version https://git-lfs.github.com/spec/v1\nsize 12x\noid sha256:XYZ\n"
    result = scan(bad.encode())
    malformed, pointer = result.findings
    assert (malformed.rule_id, malformed.severity) == ("PCL-HFR-008", Severity.LOW)
    assert "oid is missing" in malformed.detail
    assert "size is missing" in malformed.detail
    assert "sorted order" in malformed.detail
    assert pointer.rule_id == "PCL-HFR-007"
    assert result.incomplete


def test_lfs_pointer_fronting_a_zip_hands_the_rest_over(tmp_path: Path) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("model/data.pkl", b"\x80\x02}q\x00.")
    data = POINTER.encode() + archive.getvalue()
    assert identify(ByteSource(data)) is FileKind.LFS_POINTER
    with zipfile.ZipFile(io.BytesIO(data)) as z:  # Python's zip reader finds it all the same
        assert z.namelist() == ["model/data.pkl"]
    result = scan(data)
    malformed = result.findings[0]
    assert (malformed.rule_id, malformed.severity) == ("PCL-HFR-008", Severity.MEDIUM)
    assert f"follow the pointer text at offset {len(POINTER)}" in malformed.detail
    (member,) = result.members
    assert member.name == f"after-lfs-pointer@{len(POINTER)}"
    assert identify(member.source) is FileKind.ZIP


def test_pointer_in_a_model_folder_makes_the_audit_incomplete(tmp_path: Path) -> None:
    (tmp_path / "model.safetensors").write_text(POINTER)
    report = run_audit(
        [tmp_path], AuditOptions(scanners=[LfsPointerScanner()], folder_analyzers=[])
    )
    (coverage,) = report.coverage
    assert coverage.status is CoverageStatus.INCOMPLETE
    assert [f.rule_id for f in report.findings] == ["PCL-HFR-007"]
    assert report.summary.verdict == "incomplete"


@settings(max_examples=150, deadline=1000)
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_after_the_version_line_never_raise(tail: bytes) -> None:
    result = scan(LFS_POINTER + tail)
    assert result.incomplete
    assert {f.rule_id for f in result.findings} <= {"PCL-HFR-007", "PCL-HFR-008"}
