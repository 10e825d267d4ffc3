"""Tar, 7z and compressed streams: each wrapper is opened and the pickle inside reached."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import tarfile
import zlib
from pathlib import Path

import pytest
from archive_samples import (
    audit,
    benign_pickle,
    coverage_of,
    of_rule,
    payload,
    reached,
    scanners,
    torch_like_zip,
)

from canary import Canary
from pellucid.audit import AuditOptions, run_audit
from pellucid.budget import Budget
from pellucid.formats.magic import is_lzma_alone, joblib_zfile_start
from pellucid.identify import identify
from pellucid.model import Artifact, CoverageStatus, FileKind, Severity
from pellucid.scanners.archive import CompressedScanner
from pellucid.scanners.base import ScanContext
from pellucid.source import ByteSource

joblib = pytest.importorskip("joblib")


class _Payload:
    """Pickles as a call to os.system; only ever pickled here, never loaded."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (self.command,)


def _tar(entries: list[tarfile.TarInfo | tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                archive.addfile(entry)
            else:
                info = tarfile.TarInfo(entry[0])
                info.size = len(entry[1])
                archive.addfile(info, io.BytesIO(entry[1]))
    return out.getvalue()


@pytest.mark.parametrize("codec", ["zlib", "gzip", "bz2", "xz", "lz4"])
def test_joblib_compressor_is_opened_and_the_pickle_reached(
    tmp_path: Path, canary: Canary, codec: str
) -> None:
    path = tmp_path / "model.joblib"
    joblib.dump({"model": _Payload(canary.shell)}, path, compress=(codec, 3))
    report = audit(path)
    name = "bzip2" if codec == "bz2" else codec
    assert reached(report) == [(f"<{name} content>",)]
    assert report.coverage[0].status is CoverageStatus.EXAMINED
    assert report.coverage[1].artifact.kind is FileKind.PICKLE


def test_joblib_lzma_alone_is_decoded(tmp_path: Path, canary: Canary) -> None:
    path = tmp_path / "model.joblib"
    joblib.dump({"model": _Payload(canary.shell)}, path, compress=("lzma", 3))
    data = path.read_bytes()
    assert is_lzma_alone(data[:13])
    # identify.py has no magic for the legacy .lzma header yet: scan it as the xz codec does.
    result = CompressedScanner().scan(
        Artifact("model.joblib", FileKind.XZ, len(data)), ByteSource(data), ScanContext()
    )
    [member] = result.members
    assert identify(member.source) is FileKind.PICKLE
    assert b"system" in member.source.read()


def test_joblib_legacy_zfile_header_is_skipped(canary: Canary) -> None:
    body = zlib.compress(payload(canary))
    data = b"ZF" + f"0x{len(payload(canary)):016x}".encode() + b" " + body
    assert joblib_zfile_start(data[:32]) == 21
    result = CompressedScanner().scan(
        Artifact("old.pkl", FileKind.ZLIB, len(data)), ByteSource(data), ScanContext()
    )
    assert result.members[0].source.read() == payload(canary)


@pytest.mark.parametrize(
    ("name", "compress"),
    [
        ("model.pkl.gz", gzip.compress),
        ("model.pkl.bz2", bz2.compress),
        ("model.pkl.xz", lzma.compress),
    ],
)
def test_compressed_pickle_file(
    tmp_path: Path, canary: Canary, name: str, compress: object
) -> None:
    path = tmp_path / name
    path.write_bytes(compress(payload(canary)))  # type: ignore[operator]
    report = audit(path)
    assert reached(report) == [("model.pkl",)]


@pytest.mark.parametrize("codec", ["zstd", "lz4"])
def test_optional_codecs(tmp_path: Path, canary: Canary, codec: str) -> None:
    module = pytest.importorskip("zstandard" if codec == "zstd" else "lz4.frame")
    compress = module.ZstdCompressor().compress if codec == "zstd" else module.compress
    path = tmp_path / f"model.pkl.{'zst' if codec == 'zstd' else 'lz4'}"
    path.write_bytes(compress(payload(canary)) * 2)  # two frames: both decoded
    report = audit(path)
    assert reached(report) == [("model.pkl",)]
    assert report.coverage[0].status is CoverageStatus.EXAMINED


def test_gzip_bomb_is_incomplete(tmp_path: Path) -> None:
    path = tmp_path / "bomb.gz"
    path.write_bytes(gzip.compress(bytes(8 * 1024 * 1024)))
    report = audit(path)
    [bomb] = of_rule(report, "PCL-ARC-003")
    assert "compression ratio above" in bomb.evidence.snippet
    assert report.coverage[0].status is CoverageStatus.INCOMPLETE


def test_gzip_member_budget_is_incomplete(tmp_path: Path) -> None:
    path = tmp_path / "big.gz"
    path.write_bytes(gzip.compress(os.urandom(64 * 1024)))
    report = audit(path, Budget(max_member_bytes=4096))
    assert of_rule(report, "PCL-ARC-003")[0].evidence.snippet == (
        "decompresses to more than 4096 bytes"
    )


def test_concatenated_gzip_members_and_trailing_data(tmp_path: Path, canary: Canary) -> None:
    path = tmp_path / "two.pkl.gz"
    first = gzip.compress(benign_pickle()[:-1])
    path.write_bytes(first + gzip.compress(b".") + payload(canary))
    report = audit(path)
    [trailing] = of_rule(report, "PCL-ARC-008")
    assert trailing.evidence.offset == len(path.read_bytes()) - len(payload(canary))
    assert reached(report) == [(f"<bytes after the gzip stream at {trailing.evidence.offset}>",)]


def test_seven_zip_with_a_torch_zip_inside(tmp_path: Path, canary: Canary) -> None:
    py7zr = pytest.importorskip("py7zr")
    path = tmp_path / "model.7z"
    with py7zr.SevenZipFile(path, "w") as archive:
        archive.writestr(torch_like_zip(payload(canary)), "pytorch_model.bin")
    report = audit(path)
    assert reached(report) == [("pytorch_model.bin", "archive/data.pkl")]
    assert coverage_of(report, "pytorch_model.bin").artifact.kind is FileKind.ZIP


def test_seven_zip_without_py7zr_is_incomplete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    py7zr = pytest.importorskip("py7zr")
    path = tmp_path / "model.7z"
    with py7zr.SevenZipFile(path, "w") as archive:
        archive.writestr(b"x", "a.txt")
    monkeypatch.setitem(__import__("sys").modules, "py7zr", None)
    report = audit(path)
    assert report.coverage[0].reasons == ("py7zr not installed (pip install pellucid[formats])",)


def test_tar_path_traversal_and_links(tmp_path: Path, canary: Canary) -> None:
    link = tarfile.TarInfo("storage_link")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    data = _tar([("../../outside.pkl", payload(canary)), link])
    path = tmp_path / "model.tar"
    path.write_bytes(data)
    report = audit(path)
    [traversal] = of_rule(report, "PCL-ARC-001")
    assert (traversal.evidence.offset, traversal.evidence.snippet) == (0, "../../outside.pkl")
    [symlink] = of_rule(report, "PCL-ARC-002")
    assert symlink.evidence.snippet == "storage_link -> /etc/passwd"
    assert reached(report) == [("../../outside.pkl",)]


def test_legacy_torch_tar_members_are_pickles(tmp_path: Path, canary: Canary) -> None:
    data = _tar(
        [
            ("sys_info", benign_pickle()),
            ("pickle", payload(canary)),
            ("storages", b"\x80\x02K\x00."),
            ("tensors", b"\x80\x02K\x00."),
        ]
    )
    path = tmp_path / "legacy.pt"
    path.write_bytes(data)
    report = audit(path)
    assert reached(report) == [("pickle",)]
    assert coverage_of(report, "storages").artifact.kind is FileKind.PICKLE


def test_tar_bad_checksum_and_member_budget(tmp_path: Path) -> None:
    data = bytearray(_tar([(f"f{i}", b"x") for i in range(5)]))
    path = tmp_path / "a.tar"
    path.write_bytes(data)
    report = audit(path, Budget(max_members=3))
    assert of_rule(report, "PCL-ARC-006")
    assert report.coverage[0].status is CoverageStatus.INCOMPLETE
    data[1024 + 148 : 1024 + 150] = b"99"  # second header's checksum
    path.write_bytes(bytes(data))
    [bad] = of_rule(audit(path), "PCL-ARC-004")
    assert bad.evidence.offset == 1024


def test_builtin_scanner_list_has_these_scanners() -> None:
    ids = {type(s).__name__ for s in scanners()}
    assert {"ZipScanner", "TarScanner", "SevenZipScanner", "CompressedScanner"} <= ids


def test_builtin_scanners_flag_the_payload_inside_7z(tmp_path: Path, canary: Canary) -> None:
    py7zr = pytest.importorskip("py7zr")
    path = tmp_path / "model.7z"
    with py7zr.SevenZipFile(path, "w") as archive:
        archive.writestr(torch_like_zip(payload(canary)), "pytorch_model.bin")
    report = run_audit([path], AuditOptions(folder_analyzers=[]))
    blocking = [f.evidence.member for f in report.findings if f.severity >= Severity.HIGH]
    assert ("pytorch_model.bin", "archive/data.pkl") in blocking
