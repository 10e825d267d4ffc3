"""Which ONNX files identify.py recognises. Real exporters' output is found; crafted models
that onnx.load accepts but the top-level field walk rejects are recorded as known gaps."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from pellucid.identify import identify
from pellucid.model import FileKind
from pellucid.source import ByteSource


def _model() -> onnx.ModelProto:
    tensor = numpy_helper.from_array(np.ones(4, np.float32), "w")
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    tensor.external_data.add(key="location", value="../../etc/passwd")
    node = helper.make_node("Relu", ["w"], ["y"])
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
    return helper.make_model(helper.make_graph([node], "g", [], [out], [tensor]))


def _field(number: int, payload: bytes) -> bytes:
    assert len(payload) < 128
    return bytes([number << 3 | 2, len(payload)]) + payload


def test_helper_model_is_onnx() -> None:
    assert identify(ByteSource(_model().SerializeToString())) is FileKind.ONNX


def _without_ir_version() -> bytes:
    bare = onnx.ModelProto()
    bare.graph.CopyFrom(_model().graph)
    return bare.SerializeToString()  # starts with 0x3a (graph), not 0x08


def _with_unknown_field() -> bytes:
    return _model().SerializeToString() + bytes([0xA0, 0x06, 0x01])  # field 100, varint


def _graph_first() -> bytes:
    model = _model()
    return _field(7, model.graph.SerializeToString()) + b"\x08\x0a"


@pytest.mark.parametrize("build", [_without_ir_version, _with_unknown_field, _graph_first])
def test_crafted_model_loadable_by_onnx_is_identified(build: object) -> None:
    assert callable(build)
    data = build()
    assert onnx.load_model_from_string(data).graph.node[0].op_type == "Relu"
    assert identify(ByteSource(data)) is FileKind.ONNX
