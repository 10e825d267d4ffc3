"""OnnxScanner: custom domains and external-data paths, on generated models."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from pellucid.formats import onnx as onnx_format
from pellucid.identify import identify
from pellucid.model import Artifact, FileKind, Severity
from pellucid.scanners.base import ScanContext, ScanResult
from pellucid.scanners.onnx import OnnxScanner
from pellucid.source import ByteSource, open_source

FLOAT = TensorProto.FLOAT


def _graph(
    nodes: Sequence[onnx.NodeProto], inits: Sequence[TensorProto] = (), name: str = "g"
) -> onnx.GraphProto:
    out = helper.make_tensor_value_info("y", FLOAT, [4])
    return helper.make_graph(nodes, name, [], [out], list(inits))


def _model(
    nodes: Sequence[onnx.NodeProto], inits: Sequence[TensorProto] = (), **kw: Any
) -> onnx.ModelProto:
    return helper.make_model(_graph(nodes, inits), **kw)


def _external_tensor(
    location: str, offset: int | None = None, length: int | None = None
) -> TensorProto:
    tensor = numpy_helper.from_array(np.ones(4, np.float32), "w")
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    entries = {"location": location, "offset": offset, "length": length}
    for key, value in entries.items():
        if value is not None:
            tensor.external_data.add(key=key, value=str(value))
    return tensor


def _relu_on_w(location: str, **kw: int) -> onnx.ModelProto:
    return _model([helper.make_node("Relu", ["w"], ["y"])], [_external_tensor(location, **kw)])


def _scan(path: Path, shown: Path | None = None, member: tuple[str, ...] = ()) -> ScanResult:
    with open_source(path) as source:
        kind = identify(source, path.name)
        assert kind is FileKind.ONNX
        artifact = Artifact(str(shown or path), kind, source.size, member)
        ctx = ScanContext(root=path.parent.resolve(), disk_path=path.resolve())
        return OnnxScanner().scan(artifact, source, ctx)


def _save(model: onnx.ModelProto, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model.SerializeToString())
    return path


def _rules(result: ScanResult) -> list[tuple[str, Severity]]:
    return [(f.rule_id, f.severity) for f in result.findings]


def test_helper_built_model_is_clean(tmp_path: Path) -> None:
    init = numpy_helper.from_array(np.ones(4, np.float32), "w")
    result = _scan(
        _save(_model([helper.make_node("Relu", ["w"], ["y"])], [init]), tmp_path / "m.onnx")
    )
    assert result.findings == ()
    assert result.incomplete == ()
    assert result.notes[0].startswith("1 nodes, 1 initializers, 0 external tensors")


def test_model_saved_with_external_data_is_clean(tmp_path: Path) -> None:
    init = numpy_helper.from_array(np.ones((32, 32), np.float32), "w")
    model = _model([helper.make_node("Relu", ["w"], ["y"])], [init])
    path = tmp_path / "m.onnx"
    onnx.save_model(
        model, path, save_as_external_data=True, location="m.onnx_data", size_threshold=0
    )
    result = _scan(path)
    assert result.findings == ()
    assert "1 external tensors" in result.notes[0]


def test_torch_exported_model_is_clean(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    path = tmp_path / "t.onnx"
    module = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (torch.zeros(1, 4),), str(path), dynamo=False)
    result = _scan(path)
    assert result.findings == ()
    assert "producer pytorch" in result.notes[0]


@pytest.mark.parametrize(
    ("location", "problem"),
    [
        ("../../etc/passwd", "'..' path component"),  # CVE-2022-25882
        ("a/../../b", "'..' path component"),  # CVE-2024-27318: only a leading ../ was checked
        ("a\\..\\..\\b", "'..' path component"),
        ("/etc/passwd", "absolute path"),
        ("C:\\Windows\\win.ini", "Windows drive letter"),
        ("\\\\server\\share\\w.bin", "UNC or network path"),
        ("https://evil.example/w.bin", "URL scheme"),
        ("file:///etc/passwd", "URL scheme"),
        ("w.bin\x00../../x", "NUL byte"),
    ],
)
def test_external_data_location_traversal(tmp_path: Path, location: str, problem: str) -> None:
    path = _save(_relu_on_w(location), tmp_path / "m.onnx")
    result = _scan(path)
    assert _rules(result) == [("PCL-ONX-001", Severity.HIGH)]
    finding = result.findings[0]
    assert finding.evidence.snippet == location
    assert problem in finding.detail
    assert "'w'" in finding.detail
    tag = path.read_bytes()[finding.evidence.offset or 0]
    assert tag == (5 << 3 | 2)  # GraphProto.initializer


def test_every_location_entry_is_checked(tmp_path: Path) -> None:
    tensor = _external_tensor("w.bin")
    tensor.external_data.add(key="location", value="../../etc/shadow")
    result = _scan(
        _save(_model([helper.make_node("Relu", ["w"], ["y"])], [tensor]), tmp_path / "m.onnx")
    )
    assert [f.evidence.snippet for f in result.findings] == ["../../etc/shadow"]


def test_external_data_symlinked_directory_component(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "w.bin").write_bytes(b"\0" * 16)
    folder = tmp_path / "model"
    path = _save(_relu_on_w("sub/w.bin"), folder / "m.onnx")
    (folder / "sub").symlink_to(outside, target_is_directory=True)
    result = _scan(path)
    assert _rules(result) == [("PCL-ONX-003", Severity.MEDIUM), ("PCL-ONX-002", Severity.HIGH)]
    assert f"{folder / 'sub'} -> {outside}" in result.findings[0].detail
    assert str(outside / "w.bin") in result.findings[1].detail


def test_external_data_symlink_inside_folder_is_low(tmp_path: Path) -> None:
    path = _save(_relu_on_w("w.bin"), tmp_path / "m.onnx")
    (tmp_path / "real.bin").write_bytes(b"\0" * 16)
    (tmp_path / "w.bin").symlink_to("real.bin")
    assert _rules(_scan(path)) == [("PCL-ONX-003", Severity.LOW)]


def test_external_data_hardlinked_file(tmp_path: Path) -> None:
    secret = tmp_path / "elsewhere" / "secret"
    secret.parent.mkdir()
    secret.write_bytes(b"\0" * 16)
    path = _save(_relu_on_w("w.bin"), tmp_path / "model" / "m.onnx")
    os.link(secret, tmp_path / "model" / "w.bin")
    result = _scan(path)
    assert _rules(result) == [("PCL-ONX-004", Severity.MEDIUM)]
    assert "2 links" in result.findings[0].detail


def test_external_data_missing_file_is_low(tmp_path: Path) -> None:
    result = _scan(_save(_relu_on_w("w.bin"), tmp_path / "m.onnx"))
    assert _rules(result) == [("PCL-ONX-005", Severity.LOW)]


@pytest.mark.parametrize(("offset", "length"), [(32, None), (0, 17), (12, 8)])
def test_external_data_out_of_bounds(tmp_path: Path, offset: int, length: int | None) -> None:
    path = _save(_relu_on_w("w.bin", offset=offset, length=length), tmp_path / "m.onnx")
    (tmp_path / "w.bin").write_bytes(b"\0" * 16)
    result = _scan(path)
    assert _rules(result) == [("PCL-ONX-005", Severity.MEDIUM)]
    assert "beyond the file's 16 bytes" in result.findings[0].detail


def test_external_data_in_bounds_is_clean(tmp_path: Path) -> None:
    path = _save(_relu_on_w("w.bin", offset=0, length=16), tmp_path / "m.onnx")
    (tmp_path / "w.bin").write_bytes(b"\0" * 16)
    assert _scan(path).findings == ()


def test_hf_cache_layout_is_low_only(tmp_path: Path) -> None:
    repo = tmp_path / "models--org--name"
    blobs, snap = repo / "blobs", repo / "snapshots" / "abc123"
    _save(_relu_on_w("model.onnx_data", offset=0, length=16), blobs / "aaaa")
    (blobs / "bbbb").write_bytes(b"\0" * 16)
    snap.mkdir(parents=True)
    (snap / "model.onnx").symlink_to("../../blobs/aaaa")
    (snap / "model.onnx_data").symlink_to("../../blobs/bbbb")
    result = _scan(blobs / "aaaa", shown=snap / "model.onnx")
    assert _rules(result) == [("PCL-ONX-003", Severity.LOW)]


def test_archive_member_is_checked_as_strings_only(tmp_path: Path) -> None:
    path = _save(_relu_on_w("w.bin"), tmp_path / "m.onnx")
    result = _scan(path, member=("inner/m.onnx",))
    assert result.findings == ()
    assert "strings only" in result.notes[-1]


def test_custom_domain_needs_native_library(tmp_path: Path) -> None:
    nodes = [helper.make_node("EvilOp", ["x"], ["y"], domain="com.evil") for _ in range(3)]
    path = _save(
        _model(nodes, opset_imports=[helper.make_opsetid("com.evil", 1)]), tmp_path / "m.onnx"
    )
    result = _scan(path)
    assert _rules(result) == [("PCL-ONX-006", Severity.MEDIUM)]
    assert result.findings[0].evidence.snippet == "com.evil::EvilOp"
    assert "3 nodes" in result.findings[0].detail
    assert path.read_bytes()[result.findings[0].evidence.offset or 0] == (1 << 3 | 2)  # node


def test_microsoft_contrib_domain_is_info(tmp_path: Path) -> None:
    node = helper.make_node("FusedMatMul", ["x", "w"], ["y"], domain="com.microsoft")
    result = _scan(_save(_model([node]), tmp_path / "m.onnx"))
    assert _rules(result) == [("PCL-ONX-006", Severity.INFO)]
    assert "contrib" in result.findings[0].detail


def test_custom_domain_in_nested_if_loop_body(tmp_path: Path) -> None:
    inner = _graph([helper.make_node("Payload", ["x"], ["y"], domain="org.hidden")], name="body")
    loop = helper.make_node("Loop", ["n", "c"], ["y"], body=inner, name="loop")
    then = _graph([loop], name="then")
    other = _graph([helper.make_node("Identity", ["x"], ["y"])], name="else")
    if_node = helper.make_node("If", ["c"], ["y"], then_branch=then, else_branch=other, name="if")
    result = _scan(_save(_model([if_node]), tmp_path / "m.onnx"))
    assert _rules(result) == [("PCL-ONX-006", Severity.MEDIUM)]
    assert result.findings[0].evidence.snippet == "org.hidden::Payload"


def test_external_tensor_inside_subgraph_attribute(tmp_path: Path) -> None:
    const = helper.make_node("Constant", [], ["y"], value=_external_tensor("../../etc/passwd"))
    body = _graph([const], name="then")
    other = _graph([helper.make_node("Identity", ["x"], ["y"])], name="else")
    if_node = helper.make_node("If", ["c"], ["y"], then_branch=body, else_branch=other)
    result = _scan(_save(_model([if_node]), tmp_path / "m.onnx"))
    assert [f.rule_id for f in result.findings] == ["PCL-ONX-001"]
    assert result.findings[0].evidence.snippet == "../../etc/passwd"


def test_model_local_function_domain_is_not_custom(tmp_path: Path) -> None:
    body = [helper.make_node("Relu", ["a"], ["b"])]
    function = helper.make_function(
        "my.funcs", "MyRelu", ["a"], ["b"], body, [helper.make_opsetid("", 18)]
    )
    node = helper.make_node("MyRelu", ["x"], ["y"], domain="my.funcs")
    model = _model(
        [node],
        functions=[function],
        opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("my.funcs", 1)],
    )
    result = _scan(_save(model, tmp_path / "m.onnx"))
    assert result.findings == ()
    assert "2 nodes" in result.notes[0]


def test_subgraph_nesting_over_budget_is_incomplete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # protobuf itself stops at 100 nested messages (33 graph levels), so test with a low budget
    monkeypatch.setattr(onnx_format, "MAX_GRAPH_DEPTH", 3)
    leaf = _graph([helper.make_node("Identity", ["x"], ["y"])])
    graph = leaf
    for _ in range(5):
        graph = _graph([helper.make_node("If", ["c"], ["y"], then_branch=graph, else_branch=leaf)])
    result = _scan(_save(helper.make_model(graph), tmp_path / "m.onnx"))
    assert len(result.incomplete) == 1
    assert "nested deeper than 3" in result.incomplete[0]


def test_too_many_nodes_is_incomplete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(onnx_format, "MAX_NODES", 5)
    nodes = [helper.make_node("Relu", ["x"], ["y"]) for _ in range(10)]
    result = _scan(_save(_model(nodes), tmp_path / "m.onnx"))
    assert result.incomplete == ("more than 5 nodes (budget)",)


def test_malformed_nested_message_is_incomplete() -> None:
    graph = b"\x0a\x05\x22\x09abc"  # node whose domain claims 9 bytes but has 3
    data = b"\x08\x0a" + b"\x3a" + bytes([len(graph)]) + graph
    result = OnnxScanner().scan(
        Artifact("m.onnx", FileKind.ONNX, len(data)), ByteSource(data), ScanContext()
    )
    assert len(result.incomplete) == 1
    assert "malformed NodeProto" in result.incomplete[0]
