"""Arbitrary and mutated bytes never make the safetensors reader raise or run long; a file
the reference loader accepts is never reported as anything but hygiene."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from safetensors import deserialize as reference_load
from safetensors.numpy import save as save_numpy

from pellucid.model import Artifact, FileKind, Severity
from pellucid.scanners.base import ScanContext, ScanResult
from pellucid.scanners.safetensors import SafetensorsScanner
from pellucid.source import ByteSource

SEED = save_numpy(
    {"a": np.arange(6, dtype=np.float32), "b": np.ones((2, 2), np.uint8)},
    metadata={"format": "np"},
)


def _scan(data: bytes) -> ScanResult:
    artifact = Artifact("w.safetensors", FileKind.SAFETENSORS, len(data))
    return SafetensorsScanner().scan(artifact, ByteSource(data), ScanContext())


def _loads(data: bytes) -> bool:
    try:
        reference_load(data)
    except Exception:  # any refusal by the reference loader
        return False
    return True


@settings(max_examples=200, deadline=500)
@given(st.binary(max_size=1024))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    assert _scan(data).notes


@settings(max_examples=200, deadline=500)
@given(
    st.lists(
        st.tuples(st.integers(0, len(SEED) - 1), st.integers(0, 255), st.booleans()),
        min_size=1,
        max_size=6,
    )
)
def test_mutated_file_never_raises(edits: list[tuple[int, int, bool]]) -> None:
    data = bytearray(SEED)
    for at, value, insert in edits:
        if insert:
            data.insert(at, value)
        else:
            data[at % len(data)] = value
    result = _scan(bytes(data))
    if _loads(bytes(data)):  # what the reference accepts is never a differential finding
        assert all(f.severity <= Severity.LOW for f in result.findings), result.findings


@settings(max_examples=100, deadline=500)
@given(
    st.dictionaries(
        st.text(max_size=8),
        st.fixed_dictionaries(
            {
                "dtype": st.sampled_from(["U8", "F16", "F32", "F4", "BOOL", "X"]),
                "shape": st.lists(st.integers(-1, 6), max_size=3),
                "data_offsets": st.lists(st.integers(-1, 40), min_size=2, max_size=2),
            }
        ),
        max_size=4,
    ),
    st.integers(0, 48),
)
def test_agrees_with_reference_on_random_headers(header: dict[str, object], size: int) -> None:
    import json

    raw = json.dumps(header).encode()
    data = len(raw).to_bytes(8, "little") + raw + bytes(size)
    flagged = any(f.severity >= Severity.MEDIUM for f in _scan(data).findings)
    assert flagged != _loads(data)
