"""SafetensorsScanner: the header held to the reference loader's rules, on generated files.

Each hostile sample is also given to the real (Rust) loader to prove it is a differential: the
reference refuses what a permissive reader would accept.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from safetensors import deserialize as reference_load
from safetensors.numpy import save as save_numpy

from pellucid.budget import Budget
from pellucid.identify import identify
from pellucid.model import Artifact, FileKind, Severity
from pellucid.scanners.base import ScanContext, ScanResult
from pellucid.scanners.safetensors import SafetensorsScanner
from pellucid.source import ByteSource, open_source

U8 = {"dtype": "U8", "shape": [4]}


def _file(header: str | bytes, data: bytes = b"", padding: bytes = b"") -> bytes:
    raw = (header.encode() if isinstance(header, str) else header) + padding
    return struct.pack("<Q", len(raw)) + raw + data


def _tensors(**entries: tuple[int, int]) -> str:
    return json.dumps({name: {**U8, "data_offsets": list(span)} for name, span in entries.items()})


def _scan(data: bytes, budget: Budget | None = None) -> ScanResult:
    artifact = Artifact("w.safetensors", FileKind.SAFETENSORS, len(data))
    ctx = ScanContext(budget=budget or Budget())
    return SafetensorsScanner().scan(artifact, ByteSource(data), ctx)


def _ids(result: ScanResult) -> list[str]:
    return [f.rule_id for f in result.findings]


def _rejected_by_reference(data: bytes) -> bool:
    try:
        reference_load(data)
    except Exception:  # SafetensorError and friends: any refusal counts
        return True
    return False


def test_numpy_file_with_metadata_is_clean() -> None:
    tensors = {
        "a": np.arange(6, dtype=np.float32).reshape(2, 3),
        "b": np.zeros(0, np.int64),
        "c": np.ones(3, np.bool_),
        "d": np.ones((2, 2), np.float16),
    }
    data = save_numpy(tensors, metadata={"format": "np", "note": "x" * 70_000})
    assert identify(ByteSource(data)) is FileKind.SAFETENSORS
    result = _scan(data)
    assert result.findings == ()
    assert result.notes[0].startswith("4 tensors")
    assert "format='np'" in result.notes[1]
    assert "'note'" in result.notes[2]


def test_torch_file_is_clean(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    tensors = {
        "w": torch.ones(3, 3, dtype=torch.bfloat16),
        "f8": torch.zeros(4).to(torch.float8_e4m3fn),
        "i": torch.arange(5),
        "s": torch.tensor(1.0),
    }
    path = tmp_path / "model.safetensors"
    save_file(tensors, path, metadata={"format": "pt"})
    with open_source(path) as source:
        assert identify(source, path.name) is FileKind.SAFETENSORS
        result = SafetensorsScanner().scan(
            Artifact(str(path), FileKind.SAFETENSORS, source.size), source, ScanContext()
        )
    assert result.findings == ()
    assert "format='pt'" in result.notes[1]


def test_duplicate_tensor_names_last_wins() -> None:
    header = (
        '{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},'
        '"a":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}'
    )
    data = _file(header, bytes(8))
    result = _scan(data)
    assert _ids(result) == ["PCL-SFT-002", "PCL-SFT-005"]  # the second copy hides [0, 4]
    assert result.findings[0].evidence.snippet == "a"
    assert data[result.findings[0].evidence.offset or 0 :].startswith(b'"a"')
    assert _rejected_by_reference(data)


def test_duplicate_entry_field_is_rejected_by_reference() -> None:
    data = _file('{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4],"dtype":"I8"}}', bytes(4))
    result = _scan(data)
    assert _ids(result) == ["PCL-SFT-002"]
    assert "'dtype'" in result.findings[0].detail
    assert _rejected_by_reference(data)


@pytest.mark.parametrize(
    ("spans", "data_length", "rule", "text"),
    [
        ({"a": (0, 4), "b": (2, 6)}, 8, "PCL-SFT-005", "overlap 'a' [0, 4]"),
        ({"a": (4, 8)}, 8, "PCL-SFT-005", "bytes [0, 4] before [4, 8]"),
        ({"a": (0, 4)}, 12, "PCL-SFT-005", "8 bytes after offset 4"),
        ({"a": (0, 4), "b": (4, 8)}, 6, "PCL-SFT-006", "past the 6-byte data region"),
    ],
    ids=["overlap", "gap", "trailing-bytes", "beyond-file"],
)
def test_offsets_must_tile_the_data_region(
    spans: dict[str, tuple[int, int]], data_length: int, rule: str, text: str
) -> None:
    data = _file(_tensors(**spans), bytes(data_length))
    result = _scan(data)
    assert rule in _ids(result)
    finding = next(f for f in result.findings if f.rule_id == rule)
    assert text in finding.detail
    assert _rejected_by_reference(data)


def test_size_disagrees_with_dtype_and_shape() -> None:
    data = _file('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', bytes(4))
    result = _scan(data)
    assert _ids(result) == ["PCL-SFT-004"]
    assert "needs 8 bytes but data_offsets [0, 4] span 4" in result.findings[0].detail
    assert _rejected_by_reference(data)


@pytest.mark.parametrize(
    ("entry", "text"),
    [
        ({"dtype": "F4", "shape": [3], "data_offsets": [0, 2]}, "not a whole number of bytes"),
        ({"dtype": "U8", "shape": [2**40, 2**40], "data_offsets": [0, 2]}, "overflows 64 bits"),
    ],
)
def test_size_edge_cases(entry: dict[str, object], text: str) -> None:
    data = _file(json.dumps({"a": entry}), bytes(2))
    result = _scan(data)
    assert _ids(result) == ["PCL-SFT-004"]
    assert text in result.findings[0].detail
    assert _rejected_by_reference(data)


@pytest.mark.parametrize(
    ("header", "text"),
    [
        ('{"a":{"dtype":"Q8","shape":[4],"data_offsets":[0,4]}}', "unknown dtype 'Q8'"),
        ('{"a":{"dtype":"U8","shape":[4.0],"data_offsets":[0,4]}}', "shape [4.0]"),
        ('{"a":{"dtype":"U8","shape":[-4],"data_offsets":[0,4]}}', "shape [-4]"),
        ('{"a":{"dtype":"U8","shape":[4],"data_offsets":[4,0]}}', "end before they begin"),
        ('{"a":{"dtype":"U8","shape":[4]}}', "missing data_offsets"),
        ('{"a":[1,2]}', "entry is list"),
        ('{"__metadata__":{"k":1},' + _tensors(a=(0, 4))[1:], "is int, not a string"),
    ],
)
def test_malformed_entries(header: str, text: str) -> None:
    data = _file(header, bytes(4))
    result = _scan(data)
    assert _ids(result)[0] == "PCL-SFT-003"
    assert text in result.findings[0].detail
    assert _rejected_by_reference(data)


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (struct.pack("<Q", 1000) + b"{}", "runs past the end"),
        (struct.pack("<Q", 2**63) + b"{}", "runs past the end"),
        (_file(b'{"a": nope}'), "not valid JSON"),
        (_file(b'{"a": NaN}'), "not valid JSON"),
        (_file(b'{"a": "\xff"}'), "not valid JSON"),
        (_file(b"[1, 2]"), "not a JSON object"),
        (_file(b"{" * 5000), "not valid JSON"),
        (_file(_tensors(a=(0, 4)), bytes(4), b"\0\0"), "not valid JSON"),
        (b"\x02\0\0", "under 8"),
        (
            _file('{"\\ud800":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}', bytes(4)),
            "unpaired surrogate",
        ),
    ],
    ids=[
        "length-past-file",
        "huge-length",
        "non-json",
        "nan",
        "utf8",
        "array",
        "deep",
        "nul-padding",
        "tiny",
        "lone-surrogate",
    ],
)
def test_unreadable_header(data: bytes, text: str) -> None:
    result = _scan(data)
    assert _ids(result) == ["PCL-SFT-001"]
    assert result.findings[0].severity is Severity.MEDIUM
    assert text in result.findings[0].detail
    assert _rejected_by_reference(data)


def test_header_over_loader_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.safetensors"
    with path.open("wb") as handle:  # sparse: nothing past the 8 bytes is ever written
        handle.write(struct.pack("<Q", 100_000_001) + b"{")
        handle.truncate(100_000_100)
    with open_source(path) as source:
        result = SafetensorsScanner().scan(
            Artifact(str(path), FileKind.SAFETENSORS, source.size), source, ScanContext()
        )
    assert _ids(result) == ["PCL-SFT-001"]
    assert "100000000-byte limit" in result.findings[0].detail


def test_header_over_budget_is_incomplete() -> None:
    result = _scan(_file(_tensors(a=(0, 4)), bytes(4)), Budget(max_header_bytes=16))
    assert result.findings == ()
    assert result.incomplete[0].endswith("exceeds 16 (budget)")


def test_padding_other_than_spaces() -> None:
    assert _scan(_file(_tensors(a=(0, 4)), bytes(4), b"    ")).findings == ()
    result = _scan(_file(_tensors(a=(0, 4)), bytes(4), b"\n\t"))
    assert _ids(result) == ["PCL-SFT-007"]
    assert result.findings[0].severity is Severity.LOW


def test_many_broken_entries_are_capped() -> None:
    header = json.dumps(
        {f"t{i}": {"dtype": "XX", "shape": [], "data_offsets": [0, 0]} for i in range(50)}
    )
    result = _scan(_file(header))
    assert _ids(result) == ["PCL-SFT-003"] * 21
    assert result.findings[-1].detail == "30 more not listed"


def test_safetensors_named_pickle_is_identified_as_pickle() -> None:
    import pickle

    data = pickle.dumps({"w": [1.0, 2.0]}, protocol=4)
    assert identify(ByteSource(data), "model.safetensors") is FileKind.PICKLE


def test_leading_whitespace_is_padding() -> None:
    data = _file(" " + _tensors(a=(0, 4)), bytes(4))
    assert not _rejected_by_reference(data)  # the loader accepts it
    result = _scan(data)
    assert _ids(result) == ["PCL-SFT-007"]
    assert result.findings[0].evidence.offset == 8


def test_leading_whitespace_header_is_identified() -> None:
    data = _file("\n" + _tensors(a=(0, 4)), bytes(4))
    assert identify(ByteSource(data)) is FileKind.SAFETENSORS
