"""Arbitrary and mutated bytes never make the ONNX reader raise or run long."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from pellucid.formats.onnx import location_problems, parse_model
from pellucid.model import Artifact, FileKind
from pellucid.scanners.base import ScanContext
from pellucid.scanners.onnx import OnnxScanner
from pellucid.source import ByteSource


def _seed() -> bytes:
    """A small model with every part the walker visits: subgraph, external data, domains."""
    ext = numpy_helper.from_array(np.ones(2, np.float32), "w")
    ext.ClearField("raw_data")
    ext.data_location = TensorProto.EXTERNAL
    ext.external_data.add(key="location", value="w.bin")
    ext.external_data.add(key="length", value="8")
    body = helper.make_graph(
        [helper.make_node("Op", ["x"], ["y"], domain="com.custom")], "b", [], []
    )
    nodes = [
        helper.make_node("If", ["c"], ["y"], then_branch=body, else_branch=body),
        helper.make_node("Relu", ["w"], ["z"]),
    ]
    graph = helper.make_graph(nodes, "g", [], [], [ext])
    return helper.make_model(graph).SerializeToString()


SEED = _seed()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("onnx-fuzz")
    (folder / "w.bin").write_bytes(b"\0" * 8)
    (folder / "m.onnx").write_bytes(SEED)
    return folder


def _scan(data: bytes, folder: Path | None) -> None:
    ctx = ScanContext(root=folder, disk_path=None if folder is None else folder / "m.onnx")
    path = "m.onnx" if folder is None else str(folder / "m.onnx")
    result = OnnxScanner().scan(Artifact(path, FileKind.ONNX, len(data)), ByteSource(data), ctx)
    assert isinstance(result.notes[0], str)


@settings(max_examples=200, deadline=500)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    _scan(data, None)


@settings(
    max_examples=200, deadline=500, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.integers(0, len(SEED) - 1), st.integers(0, 255), st.booleans()),
        min_size=1,
        max_size=8,
    )
)
def test_mutated_model_never_raises(model_dir: Path, edits: list[tuple[int, int, bool]]) -> None:
    data = bytearray(SEED)
    for at, value, insert in edits:
        if insert:
            data.insert(at, value)
        else:
            data[at % len(data)] = value
    _scan(bytes(data), model_dir)


@settings(max_examples=150, deadline=200)
@given(st.text(max_size=64))
def test_location_check_never_raises(location: str) -> None:
    problems = location_problems(location)
    if ".." in location.replace("\\", "/").split("/"):
        assert "'..' path component" in problems


def test_seed_parses_cleanly() -> None:
    model = parse_model(SEED)
    assert (model.nodes, len(model.external), model.incomplete) == (4, 1, [])
