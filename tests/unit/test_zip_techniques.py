"""One regression test per zip technique (threats.md 3.3 rows 54-62, 5.A items 1-3)."""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from archive_samples import (
    audit,
    benign_pickle,
    central_offsets,
    coverage_of,
    make_zip,
    of_rule,
    patch,
    payload,
    reached,
    torch_like_zip,
)

from canary import Canary
from pellucid.budget import Budget
from pellucid.identify import identify
from pellucid.model import CoverageStatus, FileKind
from pellucid.scanners.zip_entries import STORAGE_NOTE
from pellucid.source import ByteSource


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("name", ["model.sav", "config.p", "weights"])
def test_non_standard_extension_is_identified_by_content(
    tmp_path: Path, canary: Canary, name: str
) -> None:
    report = audit(_write(tmp_path, name, torch_like_zip(payload(canary))))
    assert reached(report) == [("archive/data.pkl",)]
    assert coverage_of(report, "archive/data/0").reasons == (STORAGE_NOTE,)


def test_raw_pickle_named_bin_is_scanned_as_pickle(tmp_path: Path, canary: Canary) -> None:
    report = audit(_write(tmp_path, "pytorch_model.bin", payload(canary)))
    assert report.coverage[0].artifact.kind is FileKind.PICKLE
    assert reached(report) == [()]


def test_bad_crc32_is_reported_and_the_entry_still_scanned(tmp_path: Path, canary: Canary) -> None:
    data = torch_like_zip(payload(canary))
    central = central_offsets(data)[0]
    data = patch(patch(data, 14, b"\xde\xad\xbe\xef"), central + 16, b"\xde\xad\xbe\xef")
    with pytest.raises(zipfile.BadZipFile), zipfile.ZipFile(_write(tmp_path, "a.pt", data)) as z:
        z.read("archive/data.pkl")  # the sample is real: zipfile refuses the entry
    report = audit(tmp_path / "a.pt")
    [crc] = of_rule(report, "PCL-ZIP-001")
    assert crc.evidence.offset == 0
    assert crc.evidence.snippet == (
        f"CRC-32 0xefbeadde recorded, 0x{zlib.crc32(payload(canary)):08x} computed"
    )
    assert reached(report) == [("archive/data.pkl",)]


def test_local_and_central_name_mismatch(tmp_path: Path, canary: Canary) -> None:
    data = torch_like_zip(payload(canary))
    data = patch(data, 30, b"archive/data.pkX")  # the local header's copy of the name
    report = audit(_write(tmp_path, "a.pt", data))
    [mismatch] = of_rule(report, "PCL-ZIP-002")
    assert mismatch.evidence.offset == 0
    assert "'archive/data.pkX'" in mismatch.detail
    assert reached(report) == [("archive/data.pkl",)]


@pytest.mark.parametrize(("flag", "rule"), [(0x20, "PCL-ZIP-008"), (0x40, "PCL-ZIP-007")])
def test_flag_bits_are_reported(tmp_path: Path, canary: Canary, flag: int, rule: str) -> None:
    data = torch_like_zip(payload(canary))
    central = central_offsets(data)[0]
    flags = struct.unpack_from("<H", data, central + 8)[0] | flag
    report = audit(_write(tmp_path, "a.pt", patch(data, central + 8, struct.pack("<H", flags))))
    [finding] = of_rule(report, rule)
    assert finding.evidence.offset == 0
    assert finding.evidence.snippet == "archive/data.pkl"
    if flag == 0x20:  # readable: scanned anyway
        assert reached(report) == [("archive/data.pkl",)]


def test_encrypted_member_is_incomplete(tmp_path: Path, canary: Canary) -> None:
    data = torch_like_zip(payload(canary))
    for at in (6, central_offsets(data)[0] + 8):
        data = patch(data, at, struct.pack("<H", struct.unpack_from("<H", data, at)[0] | 1))
    report = audit(_write(tmp_path, "a.pt", data))
    assert [f.evidence.offset for f in of_rule(report, "PCL-ZIP-007")] == [0]
    assert report.coverage[0].status is CoverageStatus.INCOMPLETE
    assert "archive/data.pkl: encrypted; not examined" in report.coverage[0].reasons


@pytest.mark.parametrize("payload_first", [True, False])
def test_duplicate_member_names_every_copy_is_scanned(
    tmp_path: Path, canary: Canary, payload_first: bool
) -> None:
    copies = [payload(canary), benign_pickle()]
    if not payload_first:
        copies.reverse()
    data = make_zip(
        [
            ("archive/data.pkl", copies[0]),
            ("archive/data.pkl", copies[1]),
            ("archive/version", b"3\n"),
        ]
    )
    report = audit(_write(tmp_path, "dup.pt", data))
    [duplicate] = of_rule(report, "PCL-ZIP-003")
    # miniz's heap sort + binary search picks the first copy in this layout (checked against
    # torch in test_zip_torch.py); zipfile takes the last of the exact name.
    assert "torch.load (miniz, case-insensitive) reads #0" in duplicate.detail
    assert "Python zipfile (numpy.load, Keras) reads #1" in duplicate.detail
    index = 0 if payload_first else 1
    assert reached(report) == [(f"archive/data.pkl (entry {index})",)]


def test_duplicate_names_differing_in_case_are_duplicates_for_torch(
    tmp_path: Path, canary: Canary
) -> None:
    data = make_zip([("archive/data.pkl", benign_pickle()), ("archive/DATA.PKL", payload(canary))])
    [duplicate] = of_rule(audit(_write(tmp_path, "dup.pt", data)), "PCL-ZIP-003")
    assert "reads #1, Python zipfile (numpy.load, Keras) reads #0" in duplicate.detail


def test_prefix_bytes_before_the_zip(tmp_path: Path, canary: Canary) -> None:
    path = _write(tmp_path, "model.pt", b"JUNKJUNK" * 4)
    with zipfile.ZipFile(path, "a") as archive:  # appending keeps offsets right (like an SFX)
        archive.writestr("archive/data.pkl", payload(canary))
    report = audit(path)
    assert report.coverage[0].artifact.kind is FileKind.ZIP
    [outside] = of_rule(report, "PCL-ZIP-005")
    assert (outside.evidence.offset, outside.evidence.snippet[:11]) == (0, "4a 55 4e 4b")
    assert coverage_of(report, "<bytes 0-32>").reasons == (
        "bytes outside every zip entry (loaders skip them)",
    )
    assert reached(report) == [("archive/data.pkl",)]


def test_prepended_bytes_without_offset_fix_shift_the_directory(
    tmp_path: Path, canary: Canary
) -> None:
    data = b"\x00" * 64 + torch_like_zip(payload(canary))
    report = audit(_write(tmp_path, "model.pt", data))
    assert any("torch.load (miniz) cannot open" in f.detail for f in of_rule(report, "PCL-ZIP-006"))
    assert reached(report) == [("archive/data.pkl",)]


def test_nested_zip_in_zip(tmp_path: Path, canary: Canary) -> None:
    inner = torch_like_zip(payload(canary))
    outer = make_zip([("README", b"hello"), ("models/inner.pt", inner)], zipfile.ZIP_DEFLATED)
    report = audit(_write(tmp_path, "bundle.zip", outer))
    assert reached(report) == [("models/inner.pt", "archive/data.pkl")]
    assert not of_rule(report, "PCL-ZIP-006")  # the inner end record is not "another" one


def test_zip_bomb_by_ratio_is_incomplete(tmp_path: Path) -> None:
    data = make_zip([("zeros.bin", bytes(4 * 1024 * 1024))], zipfile.ZIP_DEFLATED)
    report = audit(_write(tmp_path, "bomb.zip", data))
    [bomb] = of_rule(report, "PCL-ZIP-011")
    assert bomb.evidence.offset == 0
    assert "compression ratio above" in bomb.evidence.snippet
    assert report.coverage[0].status is CoverageStatus.INCOMPLETE


def test_declared_size_over_budget_is_not_decompressed(tmp_path: Path) -> None:
    data = make_zip([("big.bin", b"x" * 5000)], zipfile.ZIP_DEFLATED)
    report = audit(_write(tmp_path, "big.zip", data), Budget(max_member_bytes=4096))
    [bomb] = of_rule(report, "PCL-ZIP-011")
    assert bomb.evidence.snippet.startswith("declares 5000 bytes")
    assert report.summary.incomplete == 1


def test_too_many_members_is_incomplete(tmp_path: Path) -> None:
    data = make_zip([(f"f{i}.txt", b"x") for i in range(10)])
    report = audit(_write(tmp_path, "many.zip", data), Budget(max_members=4))
    [finding] = of_rule(report, "PCL-ZIP-012")
    assert finding.evidence.snippet == "more than 4 entries"
    assert report.coverage[0].status is CoverageStatus.INCOMPLETE
    assert len(report.coverage) == 1 + 4


def test_overlapping_entries(tmp_path: Path) -> None:
    data = make_zip([("a.txt", b"first"), ("b.txt", b"other")])
    _first, second = central_offsets(data)
    data = patch(data, second + 42, struct.pack("<I", 0))  # b.txt now points at a.txt's header
    report = audit(_write(tmp_path, "overlap.zip", data))
    assert [f.evidence.offset for f in of_rule(report, "PCL-ZIP-004")] == [0]
    assert of_rule(report, "PCL-ZIP-002")  # and its local header names a.txt


def test_several_end_records(tmp_path: Path) -> None:
    data = make_zip([("a.txt", b"first")])
    end = data[-22:]
    data = data[:-22] + patch(end, 20, struct.pack("<H", 22)) + end  # a comment holding another
    report = audit(_write(tmp_path, "two.zip", data))
    [several] = of_rule(report, "PCL-ZIP-006")
    assert several.evidence.offset == len(data) - 44


def test_absolute_and_parent_paths(tmp_path: Path) -> None:
    data = make_zip([("../../evil.txt", b"x"), ("/etc/cron.d/x", b"y")])
    report = audit(_write(tmp_path, "slip.zip", data))
    assert sorted(f.evidence.snippet for f in of_rule(report, "PCL-ZIP-010")) == [
        "../../evil.txt",
        "/etc/cron.d/x",
    ]


def test_random_bytes_with_an_end_signature_are_not_a_zip() -> None:
    data = b"\x01\x02garbage" + b"PK\x05\x06" + bytes(18) + b"tail"
    assert identify(ByteSource(data)) is not FileKind.ZIP
    real = b"\x01\x02garbage" + make_zip([("a.txt", b"x")])
    assert identify(ByteSource(real)) is FileKind.ZIP


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_compressed_entries_are_decoded(tmp_path: Path, canary: Canary, method: int) -> None:
    data = make_zip([("archive/data.pkl", payload(canary))], method)
    report = audit(_write(tmp_path, "a.pt", data))
    assert reached(report) == [("archive/data.pkl",)]
    assert report.findings[0].rule_id == "TEST-PKL-001"


def test_unsupported_method_is_incomplete(tmp_path: Path) -> None:
    data = make_zip([("a.bin", b"x" * 100)])
    central = central_offsets(data)[0]
    data = patch(patch(data, 8, b"\x09\x00"), central + 10, b"\x09\x00")  # deflate64
    report = audit(_write(tmp_path, "a.zip", data))
    assert report.coverage[0].reasons == (
        "a.bin: compression method 9 is not supported; not examined",
    )


def test_entry_larger_than_declared_is_cut_at_the_declared_size(tmp_path: Path) -> None:
    data = make_zip([("a.txt", b"x" * 1000)], zipfile.ZIP_DEFLATED)
    central = central_offsets(data)[0]
    data = patch(patch(data, 22, struct.pack("<I", 10)), central + 24, struct.pack("<I", 10))
    report = audit(_write(tmp_path, "a.zip", data))
    [size] = of_rule(report, "PCL-ZIP-014")
    assert size.evidence.snippet == "10 bytes declared, more than 10 found"
    assert coverage_of(report, "a.txt").artifact.size == 10
