"""Hostile bytes never escape the GGUF scanner as exceptions, and cost bounded time and memory
(nothing is allocated from a count before the count is checked against the file)."""

from __future__ import annotations

import struct
import tracemalloc

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chat_template_samples import BENIGN
from gguf_samples import ARRAY, STRING, UINT32, build, f32_tensors, kv, kv_str
from pellucid.model import Artifact, FileKind
from pellucid.scanners.base import ScanContext, ScanResult
from pellucid.scanners.gguf import GgufScanner
from pellucid.source import ByteSource

_INFOS, _DATA = f32_tensors(("a", 8, 0), ("b", 16, 32), ("c", 4, 96))
VALID = build(
    [
        kv_str("general.name", "tiny"),
        kv("general.alignment", UINT32, struct.pack("<I", 32)),
        kv("tokenizer.ggml.tokens", ARRAY, struct.pack("<IQ", STRING, 2) + b"\x01\x00\x00\x00"
           b"\x00\x00\x00\x00a\x01\x00\x00\x00\x00\x00\x00\x00b"),
        kv_str("tokenizer.chat_template", BENIGN["phi3-tags"]),
    ],
    _INFOS,
    data=_DATA,
)  # fmt: skip
SETTINGS = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
BIG = st.sampled_from([0, 1, 5, 0xFF, 0xFFFF_FFFF, 1 << 32, 1 << 62, (1 << 63) - 1, (1 << 64) - 1])


def scan(data: bytes) -> ScanResult:
    artifact = Artifact("f.gguf", FileKind.GGUF, len(data))
    return GgufScanner().scan(artifact, ByteSource(data), ScanContext())


def test_valid_base_is_clean() -> None:
    assert scan(VALID).findings == ()


@SETTINGS
@given(st.integers(0, 5), st.binary(max_size=2048))
def test_random_bytes_after_magic_never_raise(version: int, tail: bytes) -> None:
    scan(b"GGUF" + struct.pack("<I", version) + tail)


@SETTINGS
@given(
    st.lists(st.tuples(st.integers(0, len(VALID) - 1), BIG), max_size=4),
    st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), max_size=8),
    st.integers(4, len(VALID)),
)
def test_mutated_valid_file_is_bounded(
    words: list[tuple[int, int]], flips: list[tuple[int, int]], cut: int
) -> None:
    data = bytearray(VALID)
    for at, value in words:  # counts and lengths are 64-bit little-endian words
        data[at : at + 8] = struct.pack("<Q", value)[: len(data) - at]
    for at, value in flips:
        data[at] = value
    tracemalloc.start()
    try:
        result = scan(bytes(data[:cut]))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024
    assert isinstance(result, ScanResult)
