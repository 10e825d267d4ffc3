"""NumPy .npy / .npz: object arrays are pickles (CVE-2019-6446); numeric arrays are clean."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from archive_samples import audit, of_rule, reached

from canary import Canary
from pellucid.model import FileKind, Severity
from pellucid.scanners.numpy import has_objects, itemsize, parse_header

np = pytest.importorskip("numpy")


class _Payload:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (self.command,)


def _npy(array: object, version: tuple[int, int] | None = None) -> bytes:
    out = io.BytesIO()
    np.lib.format.write_array(out, array, version=version, allow_pickle=True)
    return out.getvalue()


def test_npy_object_array_with_payload(tmp_path: Path, canary: Canary) -> None:
    path = tmp_path / "embeddings.npy"
    data = _npy(np.array([_Payload(canary.shell), 1], dtype=object))
    path.write_bytes(data)
    report = audit(path)
    [finding] = of_rule(report, "PCL-NPY-001")
    header = parse_header(data)
    assert not isinstance(header, str)
    assert finding.evidence.offset == header.data_offset
    assert finding.evidence.snippet == "descr='|O', shape=(2,)"
    assert reached(report) == [("<object array pickle>",)]


def test_npz_with_object_array(tmp_path: Path, canary: Canary) -> None:
    path = tmp_path / "arrays.npz"
    np.savez(path, weights=np.zeros(3), extra=np.array([_Payload(canary.shell)], dtype=object))
    report = audit(path)
    assert reached(report) == [("extra.npy", "<object array pickle>")]
    assert [f.evidence.member for f in of_rule(report, "PCL-NPY-001")] == [("extra.npy",)]


def test_structured_dtype_with_an_object_field_is_an_object_array() -> None:
    assert has_objects([("a", "<i4"), ("b", "|O")])
    assert not has_objects([("a", "<i4"), ("b", "<f8", (2, 2))])
    assert itemsize([("a", "<i4"), ("b", "<f8", (2, 2))]) == 36


@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
def test_numeric_npy_has_no_findings(tmp_path: Path, version: tuple[int, int]) -> None:
    path = tmp_path / "x.npy"
    array = np.zeros((2, 3), dtype=[("f", "<f4"), ("name", "<U3")])
    path.write_bytes(_npy(array, version))
    report = audit(path)
    assert report.findings == ()
    assert report.coverage[0].artifact.kind is FileKind.NUMPY
    assert len(report.coverage) == 1  # raw numbers are not handed on


def test_numeric_npz_has_no_findings(tmp_path: Path) -> None:
    path = tmp_path / "arrays.npz"
    np.savez_compressed(path, a=np.arange(10), b=np.ones((4, 4), dtype=np.float16))
    report = audit(path)
    assert report.findings == ()
    assert {c.artifact.kind for c in report.coverage} == {FileKind.ZIP, FileKind.NUMPY}


def test_malformed_header_is_reported(tmp_path: Path) -> None:
    header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}"
    path = tmp_path / "bad.npy"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + bytes(4))
    [finding] = of_rule(audit(path), "PCL-NPY-002")
    assert finding.evidence.snippet == (
        "header must be a dict with exactly descr, fortran_order and shape"
    )


def test_code_in_header_is_not_evaluated(canary: Canary) -> None:
    text = f"__import__('os').system({canary.shell!r})".encode()
    data = b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text
    assert parse_header(data) == "header is not a literal: ValueError"


def test_trailing_bytes_after_the_array_are_scanned(tmp_path: Path, canary: Canary) -> None:
    from canary import call_pickle

    data = _npy(np.arange(4, dtype="<i8"))
    path = tmp_path / "hidden.npy"
    path.write_bytes(data + call_pickle("os", "system", canary.shell))
    report = audit(path)
    [size] = of_rule(report, "PCL-NPY-003")
    assert size.evidence.offset == len(data)
    assert reached(report) == [(f"<bytes after the array at {len(data)}>",)]


def test_truncated_array_is_low(tmp_path: Path) -> None:
    path = tmp_path / "short.npy"
    path.write_bytes(_npy(np.arange(4, dtype="<i8"))[:-8])
    [size] = of_rule(audit(path), "PCL-NPY-003")
    assert size.severity is Severity.LOW
    assert size.detail == "32 bytes expected after the header, 24 present"
