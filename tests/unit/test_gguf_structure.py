"""GGUF structural validation: benign files are clean, each parser-CVE technique (threats.md
row 81) is reported with its rule and byte offset."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from chat_template_samples import BENIGN
from gguf_samples import (
    ARRAY,
    STRING,
    UINT8,
    UINT32,
    build,
    f32_tensors,
    gguf_string,
    kv,
    kv_str,
    tensor_info,
    write_benign,
)
from pellucid.budget import Budget
from pellucid.model import Artifact, FileKind, Finding, Severity
from pellucid.scanners.base import ScanContext, ScanResult
from pellucid.scanners.gguf import GgufScanner
from pellucid.source import ByteSource, open_source

HEADER = 24  # magic, version, tensor count, metadata count


def scan(data: bytes, budget: Budget | None = None) -> ScanResult:
    artifact = Artifact("m.gguf", FileKind.GGUF, len(data))
    return GgufScanner().scan(artifact, ByteSource(data), ScanContext(budget=budget or Budget()))


def rules(result: ScanResult) -> list[str]:
    return [f.rule_id for f in result.findings]


def one(result: ScanResult, rule_id: str) -> Finding:
    found = [f for f in result.findings if f.rule_id == rule_id]
    assert len(found) == 1, result.findings
    return found[0]


@pytest.mark.parametrize("big_endian", [False, True])
def test_benign_file_from_gguf_writer_is_clean(tmp_path: Path, big_endian: bool) -> None:
    templates = {"default": BENIGN["chatml-tools"]} | {
        name.replace("-", "_"): text for name, text in BENIGN.items()}  # fmt: skip
    path = write_benign(tmp_path / "m.gguf", templates, big_endian=big_endian)
    with open_source(path) as source:
        result = GgufScanner().scan(Artifact("m.gguf", FileKind.GGUF, source.size), source,
                                    ScanContext())  # fmt: skip
    assert result.findings == ()
    assert result.incomplete == ()
    assert result.notes == (f"GGUF v3, {6 + len(templates)} metadata entries, 5 tensors",)


def test_hand_built_benign_file_is_clean() -> None:
    infos, data = f32_tensors(("a", 8, 0), ("b", 16, 32))
    result = scan(build([kv_str("general.name", "x")], infos, data=data))
    assert result.findings == ()
    assert result.incomplete == ()


def test_string_length_beyond_file() -> None:
    data = build([kv("general.name", STRING, gguf_string("x", length=1 << 62))], [])
    result = scan(data)
    finding = one(result, "PCL-GGF-003")
    assert finding.severity is Severity.HIGH
    assert finding.evidence.offset == HEADER + 8 + len("general.name") + 4 + 8
    assert result.incomplete


def test_moderate_length_beyond_file_is_truncation() -> None:
    result = scan(build([kv("general.name", STRING, gguf_string("x", length=5000))], []))
    assert rules(result) == ["PCL-GGF-002"]
    assert result.incomplete


def test_huge_metadata_count() -> None:
    result = scan(build([], [], kv_count=1 << 40))
    finding = one(result, "PCL-GGF-003")
    assert finding.evidence.snippet == f"{1 << 40} metadata entries"


def test_huge_tensor_count() -> None:
    assert rules(scan(build([], [], tensor_count=(1 << 64) - 1))) == ["PCL-GGF-003"]


def test_array_count_times_element_size_overflows() -> None:
    payload = struct.pack("<IQ", UINT32, (1 << 62) + 1) + b"\x00" * 8
    result = scan(build([kv("tokenizer.ggml.token_type", ARRAY, payload)], []))
    finding = one(result, "PCL-GGF-003")
    assert "4-byte elements of 'tokenizer.ggml.token_type'" in finding.evidence.snippet


def test_string_array_count_overflow() -> None:
    payload = struct.pack("<IQ", STRING, 1 << 61)
    assert rules(scan(build([kv("tokenizer.ggml.tokens", ARRAY, payload)], []))) == [
        "PCL-GGF-003"]  # fmt: skip


def test_unknown_value_type_stops_the_reader() -> None:
    result = scan(build([kv("general.name", 13, b"\x00" * 16)], []))
    assert one(result, "PCL-GGF-004").evidence.offset == HEADER + 8 + len("general.name")
    assert result.incomplete


def test_arrays_nested_too_deep() -> None:
    payload = struct.pack("<IQ", ARRAY, 1) * 4 + struct.pack("<IQ", UINT8, 0)
    assert rules(scan(build([kv("x", ARRAY, payload)], []))) == ["PCL-GGF-004"]


def test_more_than_four_dimensions() -> None:
    info = tensor_info("blk.0.w", (1, 1, 1, 1, 1), 0, 0)
    result = scan(build([], [info], data=b"\x00" * 32))
    finding = one(result, "PCL-GGF-007")
    assert finding.evidence.snippet == "blk.0.w: n_dims=5"
    assert finding.evidence.offset == HEADER + 8 + len("blk.0.w")
    assert result.incomplete


def test_tensor_name_longer_than_ggml_max_name() -> None:
    result = scan(build([], [tensor_info("n" * 64, (8,), 0, 0)], data=b"\x00" * 32))
    assert rules(result) == ["PCL-GGF-007"]


def test_zero_dimension() -> None:
    result = scan(build([], [tensor_info("w", (4, 0), 0, 0)], data=b"\x00" * 32))
    finding = one(result, "PCL-GGF-008")
    assert finding.evidence.offset == HEADER
    assert "[4, 0]" in finding.detail


def test_element_count_overflows_int64() -> None:
    result = scan(build([], [tensor_info("w", (1 << 32, 1 << 32), 0, 0)], data=b"\x00" * 32))
    assert rules(result) == ["PCL-GGF-008"]


def test_unknown_and_removed_ggml_types() -> None:
    result = scan(build([], [tensor_info("u", (32,), 99, 0), tensor_info("r", (32,), 31, 64)],
                        data=b"\x00" * 128))  # fmt: skip
    found = [(f.rule_id, f.evidence.snippet, f.severity) for f in result.findings]
    assert found == [("PCL-GGF-009", "u", Severity.HIGH), ("PCL-GGF-009", "r", Severity.MEDIUM)]


def test_first_dimension_not_multiple_of_block_size() -> None:
    result = scan(build([], [tensor_info("q", (33, 2), 8, 0)], data=b"\x00" * 128))  # Q8_0
    assert "not a multiple of the Q8_0 block size 32" in one(result, "PCL-GGF-010").detail


def test_misaligned_offset() -> None:
    infos, data = f32_tensors(("a", 8, 0), ("b", 8, 36))
    assert rules(scan(build([], infos, data=data))) == ["PCL-GGF-011"]


def test_tensor_beyond_end_of_file() -> None:
    infos, data = f32_tensors(("a", 8, 0), ("far", 1024, 64))
    result = scan(build([], infos, data=data[:100]))
    finding = one(result, "PCL-GGF-012")
    assert finding.evidence.snippet == "far"
    assert finding.severity is Severity.HIGH


def test_overlapping_tensors() -> None:
    infos, data = f32_tensors(("a", 16, 0), ("b", 16, 32))
    result = scan(build([], infos, data=data))
    assert "overlaps tensor 'a'" in one(result, "PCL-GGF-013").detail


def test_duplicate_keys_and_tensor_names() -> None:
    infos, data = f32_tensors(("w", 8, 0), ("w", 8, 32))
    result = scan(build([kv_str("general.name", "a"), kv_str("general.name", "b")], infos,
                        data=data))  # fmt: skip
    assert rules(result) == ["PCL-GGF-005", "PCL-GGF-005"]


@pytest.mark.parametrize(
    "payload", [(UINT32, struct.pack("<I", 3)), (UINT32, struct.pack("<I", 0)), (UINT8, b"\x20")]
)
def test_invalid_alignment(payload: tuple[int, bytes]) -> None:
    result = scan(build([kv("general.alignment", *payload)], []))
    assert rules(result) == ["PCL-GGF-006"]


def test_custom_alignment_is_honoured() -> None:
    infos, data = f32_tensors(("a", 8, 0), ("b", 8, 64))
    align = kv("general.alignment", UINT32, struct.pack("<I", 64))
    assert scan(build([align], infos, data=data, alignment=64)).findings == ()
    infos, data = f32_tensors(("a", 8, 0), ("b", 8, 32))
    assert rules(scan(build([align], infos, data=data, alignment=64))) == ["PCL-GGF-011"]


def test_chat_template_of_wrong_type() -> None:
    result = scan(build([kv("tokenizer.chat_template", UINT32, b"\x00" * 4)], []))
    assert rules(result) == ["PCL-GGF-004"]


@pytest.mark.parametrize("version", [0, 4, 0xFFFF])
def test_unsupported_version(version: int) -> None:
    result = scan(build([], [], version=version))
    assert rules(result) == ["PCL-GGF-001"]
    assert result.incomplete


def test_version_1_uses_32_bit_lengths() -> None:
    key = b"general.name"
    data = (b"GGUF" + struct.pack("<III", 1, 0, 1) + struct.pack("<I", len(key)) + key
            + struct.pack("<II", STRING, 3) + b"abc")  # fmt: skip
    result = scan(data)
    assert result.findings == ()
    assert result.notes[0].startswith("GGUF v1, 1 metadata")


@pytest.mark.parametrize("cut", [3, 10, 23, 40, 90])
def test_truncated_header(tmp_path: Path, cut: int) -> None:
    data = write_benign(tmp_path / "m.gguf", {"default": BENIGN["zephyr-roles"]}).read_bytes()
    result = scan(data[:cut])
    assert rules(result) == ["PCL-GGF-002"]
    assert result.incomplete


def test_header_budget_makes_it_incomplete_without_finding(tmp_path: Path) -> None:
    data = write_benign(tmp_path / "m.gguf", {"default": BENIGN["zephyr-roles"]}).read_bytes()
    result = scan(data, Budget(max_header_bytes=200))
    assert result.findings == ()
    assert result.incomplete == (
        "GGUF header not fully read: GGUF header larger than the 200-byte budget (budget)",
    )
