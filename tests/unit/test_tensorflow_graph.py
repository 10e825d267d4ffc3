"""SavedModelScanner on hand-built SavedModel, GraphDef and keras_metadata.pb protobufs."""

from __future__ import annotations

import base64
import json
import marshal
import time
import types
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from canary import Canary
from pellucid.audit import AuditOptions, run_audit
from pellucid.budget import Budget
from pellucid.identify import identify
from pellucid.model import Artifact, FileKind
from pellucid.scanners.base import ScanContext, ScanResult
from pellucid.scanners.keras import KerasConfigScanner
from pellucid.scanners.tensorflow import SavedModelScanner
from pellucid.source import ByteSource

CTX = ScanContext()


# A tiny protobuf writer: enough to build the messages the scanner walks.
def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def ld(number: int, payload: bytes | str) -> bytes:
    data = payload.encode() if isinstance(payload, str) else payload
    return varint(number << 3 | 2) + varint(len(data)) + data


def vi(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def node(name: str, op: str, **string_attrs: str) -> bytes:
    attrs = b"".join(ld(5, ld(1, key) + ld(2, ld(2, value))) for key, value in string_attrs.items())
    return ld(1, name) + ld(2, op) + ld(3, "input:0") + attrs


def const_node(name: str, size: int) -> bytes:
    tensor = ld(4, b"\x00" * size)  # TensorProto.tensor_content, stepped over
    return ld(1, name) + ld(2, "Const") + ld(5, ld(1, "value") + ld(2, ld(8, tensor)))


def function(name: str, *nodes: bytes) -> bytes:
    return ld(1, ld(1, name)) + b"".join(ld(3, n) for n in nodes)


def graph_def(*nodes: bytes, functions: tuple[bytes, ...] = ()) -> bytes:
    library = ld(2, b"".join(ld(1, f) for f in functions)) if functions else b""
    return b"".join(ld(1, n) for n in nodes) + library + ld(4, vi(1, 1087))


def saved_model(graph: bytes, *user_metadata: str) -> bytes:
    objects = b"".join(
        ld(1, ld(4, ld(1, "_tf_keras_layer") + ld(3, text))) for text in user_metadata
    )
    meta_graph = ld(1, ld(1, "serve")) + ld(2, graph) + (ld(7, objects) if objects else b"")
    return vi(1, 1) + ld(2, meta_graph)


def scan(
    data: bytes, ctx: ScanContext = CTX, kind: FileKind | None = None
) -> tuple[FileKind, ScanResult]:
    source = ByteSource(data)
    kind = kind or identify(source, "saved_model.pb")
    return kind, SavedModelScanner().scan(Artifact("m.pb", kind, len(data)), source, ctx)


def rule_ids(result: ScanResult) -> list[str]:
    return sorted(f.rule_id for f in result.findings)


BENIGN = graph_def(
    const_node("dense/kernel", 4096),
    node("x", "Placeholder"),
    node("dense/MatMul", "MatMul"),
    node("dense/BiasAdd", "BiasAdd"),
    node("save/SaveV2", "SaveV2"),
    node("save/RestoreV2", "RestoreV2"),
    node("call", "StatefulPartitionedCall"),
    node("model_fn", "__inference_call_42"),
    functions=(
        function("__inference_call_42", node("relu", "Relu"), node("p", "ReadVariableOp")),
        function(
            "__inference__traced_save_77", node("s", "SaveV2"), node("m", "MergeV2Checkpoints")
        ),
    ),
)


def test_standard_graph_and_saver_subgraph_are_clean() -> None:
    kind, result = scan(saved_model(BENIGN))
    assert kind is FileKind.SAVED_MODEL
    assert result.findings == ()
    assert result.incomplete == ()
    assert result.notes == ("SavedModel: 12 nodes, 2 functions",)


def test_saved_model_file_ops_read_write_matching() -> None:
    graph = graph_def(
        node("a", "ReadFile"),
        node("b", "WriteFile"),
        node("c", "MatchingFiles"),
        node("d", "ReadFile"),
    )
    data = saved_model(graph)
    _, result = scan(data)
    assert rule_ids(result) == ["PCL-TFS-001"] * 3
    read = next(f for f in result.findings if "ReadFile" in f.evidence.snippet)
    assert read.evidence.snippet == "node 'a' op ReadFile (+1 more nodes)"
    offset = read.evidence.offset
    assert offset is not None
    assert data[offset : offset + 1] == b"\x0a"


def test_pyfunc_in_function_library() -> None:
    graph = graph_def(
        node("x", "Placeholder"), functions=(function("__inference_serve_9", node("cb", "PyFunc")),)
    )
    kind, result = scan(graph)
    assert kind is FileKind.TF_GRAPH
    assert rule_ids(result) == ["PCL-TFS-002"]
    assert (
        result.findings[0].evidence.snippet == "node 'cb' op PyFunc in function "
        "'__inference_serve_9'"
    )


def test_shell_like_custom_op_and_unknown_op() -> None:
    _, result = scan(graph_def(node("s", "ShellExecute"), node("k", "AcmeFancyKernel")))
    assert rule_ids(result) == ["PCL-TFS-002", "PCL-TFS-004"]


def test_checkpoint_op_outside_saver_is_low() -> None:
    _, result = scan(graph_def(node("serving/dump", "SaveV2")))
    assert rule_ids(result) == ["PCL-TFS-003"]
    assert result.findings[0].severity.label == "low"


def test_print_to_file_is_a_file_op(canary: Canary) -> None:
    stream = f"file://{canary.marker}"
    _, result = scan(graph_def(node("p", "PrintV2", output_stream=stream), node("q", "PrintV2")))
    assert rule_ids(result) == ["PCL-TFS-001"]
    assert stream in result.findings[0].evidence.snippet


def test_keras_metadata_pb_is_handed_to_keras_analysis() -> None:
    lambda_layer = json.dumps(
        {
            "class_name": "Lambda",
            "config": {
                "name": "l",
                "function": {
                    "class_name": "__lambda__",
                    "config": {"code": "4wEAAAAA", "defaults": None},
                },
            },
        }
    )
    dense = json.dumps({"class_name": "Dense", "config": {"name": "d", "units": 2}})
    data = b"".join(
        ld(1, vi(2, i + 1) + ld(3, f"root.layer-{i}") + ld(4, "_tf_keras_layer") + ld(5, text))
        for i, text in enumerate((dense, lambda_layer))
    )
    kind, result = scan(data)
    assert kind is FileKind.TF_GRAPH  # identify sees a GraphDef shape; the scanner tells
    assert result.findings == ()
    assert result.notes[0].startswith("Keras metadata")
    assert [m.name for m in result.members] == [
        "root.layer-0 (Keras metadata)",
        "root.layer-1 (Keras metadata)",
    ]
    assert all(m.kind is FileKind.JSON for m in result.members)
    assert result.members[1].source.read().decode() == lambda_layer


def test_saved_model_object_graph_metadata_members() -> None:
    text = json.dumps({"class_name": "Sequential", "config": {"name": "s", "layers": []}})
    _, result = scan(saved_model(BENIGN, text))
    assert [m.source.read().decode() for m in result.members] == [text]


def test_truncated_graph_is_incomplete() -> None:
    data = saved_model(graph_def(node("a", "ReadFile"), node("b", "WriteFile")))
    _, result = scan(data[:-3], kind=FileKind.SAVED_MODEL)  # identify() rejects it as unknown
    assert result.incomplete == (
        "malformed SavedModel: SavedModel: field 2 at offset 2 overruns its message",
    )


def test_node_budget_is_incomplete() -> None:
    _, result = scan(BENIGN, ScanContext(budget=Budget(max_members=2)))
    assert any("budget" in reason for reason in result.incomplete)


@settings(max_examples=200, deadline=2000)
@given(
    data=st.binary(max_size=600),
    cut=st.integers(0, 600),
    kind=st.sampled_from([FileKind.SAVED_MODEL, FileKind.TF_GRAPH]),
)
def test_random_protobuf_bytes_never_raise(data: bytes, cut: int, kind: FileKind) -> None:
    started = time.perf_counter()
    scanner = SavedModelScanner()
    real = saved_model(BENIGN)
    for blob in (data, real[:cut] + data, real[:cut] + data[:8] + real[cut + 8 :]):
        result = scanner.scan(Artifact("m.pb", kind, len(blob)), ByteSource(blob), CTX)
        assert isinstance(result, ScanResult)
    assert time.perf_counter() - started < 2


def test_keras_metadata_lambda_found_through_the_pipeline(tmp_path: Path, canary: Canary) -> None:
    module = compile(f"lambda x: (__import__('os').system({canary.shell!r}), x)[1]", "<c>", "eval")
    code = next(c for c in module.co_consts if isinstance(c, types.CodeType))
    layer = {
        "class_name": "Lambda",
        "config": {
            "name": "lam",
            "function": [base64.b64encode(marshal.dumps(code)).decode(), None, None],
            "function_type": "lambda",
        },
    }
    data = ld(1, vi(2, 1) + ld(3, "root.layer-1") + ld(5, json.dumps(layer)))
    (tmp_path / "keras_metadata.pb").write_bytes(data)
    (tmp_path / "saved_model.pb").write_bytes(saved_model(graph_def(node("r", "ReadFile"))))
    options = AuditOptions(
        scanners=[KerasConfigScanner(), SavedModelScanner()], folder_analyzers=[]
    )
    report = run_audit([tmp_path], options)
    found = {f.rule_id: f.evidence for f in report.findings}
    assert set(found) == {"PCL-KRS-001", "PCL-TFS-001"}
    assert found["PCL-KRS-001"].member == ("root.layer-1 (Keras metadata)",)
    assert canary.shell in found["PCL-KRS-001"].snippet
    assert report.summary.verdict == "blocked"
