"""TensorFlow SavedModel and frozen GraphDef protobufs, and Keras ``keras_metadata.pb``.

Graph ops run when the model is served (and some on load), so ops that touch the file system,
call back into Python or need a native kernel library are reported by node. Keras layer
metadata embedded in these files is handed to the Keras config scanner as JSON members.
"""

from __future__ import annotations

import re
from typing import ClassVar

from pellucid.formats.tensorflow import (
    GraphContents,
    GraphNode,
    is_keras_metadata,
    op_family,
    read_graph_def,
    read_keras_metadata,
    read_saved_model,
)
from pellucid.formats.tensorflow_text import looks_like_text_proto, read_text_proto
from pellucid.model import Artifact, FileKind, Finding, Rule, Severity
from pellucid.scanners.base import Member, ScanContext, ScanResult
from pellucid.source import ByteSource

_MODELSCAN = "https://github.com/protectai/modelscan"
_TF_SECURITY = "https://github.com/tensorflow/tensorflow/blob/master/SECURITY.md"

FILE_OP = Rule(
    id="PCL-TFS-001",
    title="TensorFlow graph reads or writes files",
    severity=Severity.HIGH,
    cwe=73,
    description=(
        "The graph contains an op that opens, lists, memory-maps or writes files (ReadFile, "
        "WriteFile, MatchingFiles, file readers and datasets, PrintV2 to a file). Serving the "
        "model runs it with the server's permissions, so a model can read secrets into its "
        "outputs or drop files on disk."
    ),
    remediation="Do not serve the model; graphs for inference need no file access.",
    references=(_MODELSCAN, _TF_SECURITY),
)
PYTHON_OP = Rule(
    id="PCL-TFS-002",
    title="TensorFlow graph calls Python or runs processes",
    severity=Severity.HIGH,
    cwe=94,
    description=(
        "The graph contains PyFunc / EagerPyFunc (a call back into Python code registered in "
        "the process) or a custom op whose name suggests shell or process execution. Such ops "
        "run arbitrary code when the graph executes."
    ),
    remediation="Do not load or serve the model; rebuild it without Python callbacks.",
    references=(_MODELSCAN, _TF_SECURITY),
)
CHECKPOINT_OP = Rule(
    id="PCL-TFS-003",
    title="Checkpoint I/O op outside the saver sub-graph",
    severity=Severity.LOW,
    cwe=73,
    description=(
        "Save/Restore ops normally live only in the saver sub-graph (save/... nodes, "
        "_traced_save / _traced_restore functions). One elsewhere writes or reads checkpoint "
        "files at attacker-chosen paths when the graph runs."
    ),
    remediation="Check what the node's file name input is before serving the model.",
    references=(_TF_SECURITY,),
)
CUSTOM_OP = Rule(
    id="PCL-TFS-004",
    title="TensorFlow graph uses a non-standard op",
    severity=Severity.MEDIUM,
    cwe=829,
    description=(
        "The graph uses an op that is neither a common TensorFlow op nor a function of its own "
        "library. Custom ops need a native kernel library loaded into the process "
        "(tf.load_op_library), which is native code outside this file."
    ),
    remediation="Find out which library provides the op and whether you trust it.",
    references=(_TF_SECURITY,),
)
TF_RULES: tuple[Rule, ...] = (FILE_OP, PYTHON_OP, CHECKPOINT_OP, CUSTOM_OP)

_RULE_BY_FAMILY = {
    "file": FILE_OP,
    "python": PYTHON_OP,
    "process": PYTHON_OP,
    "checkpoint": CHECKPOINT_OP,
    "custom": CUSTOM_OP,
}
_SAVER_NODE = re.compile(r"^(save|saver)(_\d+)?/")
_SAVER_FUNCTION = re.compile(r"_traced_(save|restore)|(save|restore)_fn|saver|checkpoint", re.I)


class SavedModelScanner:
    """Ops of SavedModel / GraphDef graphs and their function libraries; Keras metadata."""

    id: ClassVar[str] = "tensorflow"
    rules: ClassVar[tuple[Rule, ...]] = TF_RULES

    def accepts(self, kind: FileKind) -> bool:
        return kind in (FileKind.SAVED_MODEL, FileKind.TF_GRAPH)

    def scan(self, artifact: Artifact, source: ByteSource, ctx: ScanContext) -> ScanResult:
        buf = source.view()
        limit = ctx.budget.max_members
        if artifact.kind is FileKind.SAVED_MODEL:
            contents, what = read_saved_model(buf, limit), "SavedModel"
        elif is_keras_metadata(buf):
            contents, what = read_keras_metadata(buf, limit), "Keras metadata"
        else:
            contents, what = read_graph_def(buf, limit), "GraphDef"
        if looks_like_text_proto(source.head(4096)):
            # TensorFlow picks text or binary by file name (saved_model.pbtxt / .pb), so bytes
            # that read both ways are scanned both ways; text that fails as binary is text.
            if source.size > ctx.budget.max_text_bytes:
                return ScanResult(incomplete=(f"text protobuf of {source.size} bytes (budget)",))
            text = read_text_proto(bytes(buf).decode("utf-8", "replace"), limit)
            if contents.problems:
                contents, what = text, "text-format protobuf"
            else:
                contents.nodes.extend(text.nodes)
                contents.functions |= text.functions
                contents.json_texts.extend(text.json_texts)
        reasons = [f"malformed {what}: {problem}" for problem in contents.problems[:5]]
        if contents.truncated:
            reasons.append(f"more than {limit} graph nodes (budget); the rest were not examined")
        members = tuple(
            Member(
                f"{label} (Keras metadata)",
                source.slice(at, length),
                kind=FileKind.JSON,
                note="Keras layer metadata JSON",
            )
            for label, at, length in contents.json_strings
        ) + tuple(
            Member(
                f"{label} (Keras metadata)",
                ByteSource(data),
                kind=FileKind.JSON,
                note="Keras layer metadata JSON",
                unpacked=True,
            )
            for label, data in contents.json_texts
        )
        notes = (f"{what}: {len(contents.nodes)} nodes, {len(contents.functions)} functions",)
        return ScanResult(tuple(_findings(artifact, contents)), members, tuple(reasons), notes)


def _findings(artifact: Artifact, contents: GraphContents) -> list[Finding]:
    """One finding per (rule, op): the first node as evidence, with the count of the others."""
    groups: dict[tuple[str, str], list[GraphNode]] = {}
    for node in contents.nodes:
        if node.op in contents.functions:  # a call of the graph's own library function
            continue
        family = op_family(node.op, node.output_stream)
        if family == "standard" or (family == "checkpoint" and _in_saver(node)):
            continue
        groups.setdefault((family, node.op), []).append(node)
    findings = []
    for (family, op), nodes in groups.items():
        first = nodes[0]
        where = f" in function {first.function!r}" if first.function else ""
        more = f" (+{len(nodes) - 1} more nodes)" if len(nodes) > 1 else ""
        stream = f" output_stream={first.output_stream!r}" if first.output_stream else ""
        snippet = f"node {first.name!r} op {op}{stream}{where}{more}"
        findings.append(
            _RULE_BY_FAMILY[family].finding(
                artifact.evidence(offset=first.offset, snippet=snippet[:500])
            )
        )
    return findings


def _in_saver(node: GraphNode) -> bool:
    return bool(_SAVER_NODE.match(node.name) or _SAVER_FUNCTION.search(node.function))
