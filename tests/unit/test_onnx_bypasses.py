"""Red-team regressions for ONNX: Windows path normalisation in external-data locations, and
protobuf encodings onnx.load accepts but identify does not (xfail until identify is fixed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from pellucid.audit import AuditOptions, run_audit
from pellucid.formats.onnx import location_problems
from pellucid.model import Artifact, FileKind, Severity
from pellucid.scanners.base import ScanContext
from pellucid.scanners.onnx import OnnxScanner
from pellucid.source import ByteSource


def _model_bytes(location: str) -> bytes:
    tensor = numpy_helper.from_array(np.ones(4, np.float32), "w")
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    tensor.external_data.add(key="location", value=location)
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
    node = helper.make_node("Relu", ["w"], ["y"])
    graph = helper.make_graph([node], "g", [], [out], [tensor])
    return helper.make_model(graph).SerializeToString()


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


@pytest.mark.parametrize(
    ("location", "problem"),
    [
        (".. /.. /etc/passwd", "Windows trims to '..'"),
        ("...\\secret.bin", "Windows trims to '..'"),
        ("a/.. ./b", "Windows trims to '..'"),
        ("CON", "Windows device name"),
        ("nul.bin", "Windows device name"),
    ],
)
def test_windows_trailing_dots_spaces_and_device_names(location: str, problem: str) -> None:
    data = _model_bytes(location)
    art = Artifact("m.onnx", FileKind.ONNX, len(data), ("archive", "m.onnx"))
    result = OnnxScanner().scan(art, ByteSource(data), ScanContext())
    assert [(f.rule_id, f.severity) for f in result.findings] == [("PCL-ONX-001", Severity.HIGH)]
    assert problem in result.findings[0].detail
    assert result.findings[0].evidence.snippet == location


@pytest.mark.parametrize("location", ["weights.bin", "data/w.bin", "con_weights.bin", "a..b"])
def test_ordinary_names_are_not_windows_tricks(location: str) -> None:
    assert location_problems(location) == []


_HOSTILE = _model_bytes("../../../../etc/passwd")
_ENCODINGS = {
    # an unknown field encoded as a group (wire types 3/4): parsers skip it
    "leading-group": _varint(1000 << 3 | 3) + _varint(8) + _varint(5) + _varint(1000 << 3 | 4),
    # an unknown fixed32 field first: identify only sniffs varint/LEN first bytes
    "leading-fixed32": _varint(1000 << 3 | 5) + b"\x00" * 4,
}


@pytest.mark.parametrize("name", [*_ENCODINGS, "graph-field-also-varint"])
def test_onnx_unknown_group_fixed32_or_mismatched_wire_type_is_loaded(name: str) -> None:
    data = (
        _ENCODINGS[name] + _HOSTILE if name in _ENCODINGS else _HOSTILE + _varint(7 << 3) + b"\x01"
    )
    model = onnx.load_from_string(data)  # external data is not loaded by load_from_string
    assert model.graph.initializer[0].external_data[0].value == "../../../../etc/passwd"


@pytest.mark.parametrize("name", [*_ENCODINGS, "graph-field-also-varint"])
def test_onnx_unknown_group_fixed32_or_mismatched_wire_type_pipeline(
    tmp_path: Path, name: str
) -> None:
    data = (
        _ENCODINGS[name] + _HOSTILE if name in _ENCODINGS else _HOSTILE + _varint(7 << 3) + b"\x01"
    )
    (tmp_path / "model.onnx").write_bytes(data)
    report = run_audit([tmp_path], AuditOptions())
    assert "PCL-ONX-001" in [f.rule_id for f in report.findings]
