"""What matters for security in an ONNX ModelProto, read with the wire-format reader alone.

The walk visits the main graph, training graphs, model-local functions and every subgraph held
in node attributes (``If``/``Loop``/``Scan`` bodies), and records operator domains and tensors
that point at external data. Tensor payloads (``raw_data``, packed ``*_data``) are LEN fields
and are stepped over, never copied. Field numbers follow onnx.proto (onnx 1.23).
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field

from pellucid.formats.protobuf import LEN, VARINT, Field, ProtobufError, fields, string_at

STANDARD_DOMAINS = frozenset(
    {"", "ai.onnx", "ai.onnx.ml", "ai.onnx.training", "ai.onnx.preview.training"}
)
MAX_GRAPH_DEPTH = 32  # nested subgraphs; real models nest a handful, protobuf stops at 100
MAX_NODES = 1_000_000  # nodes over all graphs and functions
MAX_FIELDS = 10_000_000  # protobuf fields visited: bounds the time spent on one file
EXTERNAL = 1  # TensorProto.DataLocation.EXTERNAL

Buffer = memoryview | bytes


@dataclass(frozen=True, slots=True)
class ExternalRef:
    """A tensor whose ``external_data`` names a file; offsets are as written (strings)."""

    tensor: str
    locations: tuple[str, ...]  # every "location" entry; loaders keep the last one
    offset: str | None
    length: str | None
    declared_external: bool  # data_location == EXTERNAL, which is what loaders act on
    at: int  # byte offset of the TensorProto

    @property
    def location(self) -> str:
        return self.locations[-1] if self.locations else ""


@dataclass(frozen=True, slots=True)
class OpUse:
    """A node's operator; ``graph`` is the path of subgraphs that holds it."""

    domain: str
    op_type: str
    graph: str
    at: int


@dataclass(slots=True)
class OnnxModel:
    """The security-relevant summary of one model; ``incomplete`` lists what was not walked."""

    producer: str = ""
    nodes: int = 0
    initializers: int = 0
    opsets: list[tuple[str, int]] = field(default_factory=list)
    ops: list[OpUse] = field(default_factory=list)  # only ops outside the standard domains
    external: list[ExternalRef] = field(default_factory=list)
    functions: set[tuple[str, str]] = field(default_factory=set)  # (domain, name)
    metadata_props: int = 0
    incomplete: list[str] = field(default_factory=list)

    def custom_ops(self) -> list[OpUse]:
        """Ops in non-standard domains that no model-local function defines."""
        return [op for op in self.ops if (op.domain, op.op_type) not in self.functions]


class _Stop(Exception):
    """A budget was hit; the reason is already recorded."""


def parse_model(buf: Buffer) -> OnnxModel:
    """Summarise a ModelProto; malformed parts and budget hits go to ``incomplete``."""
    walker = _Walker(buf)
    with contextlib.suppress(_Stop):
        walker.model()
    return walker.result


class _Walker:
    def __init__(self, buf: Buffer) -> None:
        self.buf = buf
        self.result = OnnxModel()
        self._fields = 0

    def _iter(self, start: int, end: int, what: str) -> list[Field]:
        """The fields of one message; a malformed message yields what came before the error."""
        found: list[Field] = []
        try:
            found.extend(fields(self.buf, start, end))
        except ProtobufError as exc:
            self.result.incomplete.append(f"malformed {what}: {exc}")
        self._fields += len(found)
        if self._fields > MAX_FIELDS:
            self.result.incomplete.append(f"more than {MAX_FIELDS} protobuf fields (budget)")
            raise _Stop
        return found

    def _text(self, f: Field, limit: int = 4096) -> str:
        """Names, domains and op types; locations get a larger ``limit`` (checked in full)."""
        return string_at(self.buf, f, limit) if f.wire_type == LEN else ""

    def model(self) -> None:
        functions: list[Field] = []
        for f in self._iter(0, len(self.buf), "ModelProto"):
            if f.wire_type != LEN:
                continue  # ir_version, model_version, or a wrong wire type protobuf ignores
            if f.number == 2:
                self.result.producer = self._text(f)[:200]
            elif f.number == 7:
                self.graph(f, 0, "graph")
            elif f.number == 8:
                self.opset(f)
            elif f.number == 14:
                self.result.metadata_props += 1
            elif f.number == 20:
                self.training(f)
            elif f.number == 25:
                functions.append(f)
        for f in functions:  # after the graph, so names of local functions are all known
            self.function(f)

    def opset(self, msg: Field) -> None:
        domain, version = "", 0
        for f in self._iter(msg.value, msg.value + msg.length, "OperatorSetIdProto"):
            if f.number == 1 and f.wire_type == LEN:
                domain = self._text(f)
            elif f.number == 2 and f.wire_type == VARINT:
                version = f.value
        self.result.opsets.append((domain, version))

    def training(self, msg: Field) -> None:
        for f in self._iter(msg.value, msg.value + msg.length, "TrainingInfoProto"):
            if f.number in (1, 2) and f.wire_type == LEN:
                self.graph(f, 0, "training_info." + ("initialization", "algorithm")[f.number - 1])

    def function(self, msg: Field) -> None:
        parts = self._iter(msg.value, msg.value + msg.length, "FunctionProto")
        name = next((self._text(f) for f in reversed(parts) if f.number == 1), "")
        domain = next((self._text(f) for f in reversed(parts) if f.number == 10), "")
        self.result.functions.add((domain, name))
        for f in parts:
            if f.number == 7 and f.wire_type == LEN:
                self.node(f, 1, f"function {domain}:{name}")

    def graph(self, msg: Field, depth: int, path: str) -> None:
        if depth > MAX_GRAPH_DEPTH:
            reason = f"subgraphs nested deeper than {MAX_GRAPH_DEPTH} (budget), first at {path}"
            if not any(r.startswith(reason[:40]) for r in self.result.incomplete):
                self.result.incomplete.append(reason[:300])
            return
        for f in self._iter(msg.value, msg.value + msg.length, f"GraphProto {path}"):
            if f.wire_type != LEN:
                continue
            if f.number == 1:
                self.node(f, depth, path)
            elif f.number == 5:
                self.result.initializers += 1
                self.tensor(f)
            elif f.number == 15:
                self.result.initializers += 1
                self.sparse_tensor(f)

    def node(self, msg: Field, depth: int, path: str) -> None:
        self.result.nodes += 1
        if self.result.nodes > MAX_NODES:
            self.result.incomplete.append(f"more than {MAX_NODES} nodes (budget)")
            raise _Stop
        parts = self._iter(msg.value, msg.value + msg.length, f"NodeProto in {path}")
        texts = {f.number: self._text(f) for f in parts if f.number in (3, 4, 7)}
        domain, op_type = texts.get(7, ""), texts.get(4, "")
        if domain not in STANDARD_DOMAINS:
            self.result.ops.append(OpUse(domain, op_type, path, msg.start))
        label = f"{path}/{(texts.get(3) or op_type)[:100]}"
        for f in parts:
            if f.number == 5 and f.wire_type == LEN:
                self.attribute(f, depth, label)

    def attribute(self, msg: Field, depth: int, path: str) -> None:
        parts = self._iter(msg.value, msg.value + msg.length, f"AttributeProto in {path}")
        name = next((self._text(f) for f in reversed(parts) if f.number == 1), "?")
        for f in parts:
            if f.wire_type != LEN:
                continue
            if f.number in (5, 10):
                self.tensor(f)
            elif f.number in (22, 23):
                self.sparse_tensor(f)
            elif f.number in (6, 11):
                self.graph(f, depth + 1, f"{path}.{name[:100]}")

    def sparse_tensor(self, msg: Field) -> None:
        for f in self._iter(msg.value, msg.value + msg.length, "SparseTensorProto"):
            if f.number in (1, 2) and f.wire_type == LEN:
                self.tensor(f)

    def tensor(self, msg: Field) -> None:
        name, external = "", False
        entries: list[tuple[str, str]] = []
        for f in self._iter(msg.value, msg.value + msg.length, "TensorProto"):
            if f.number == 8 and f.wire_type == LEN:
                name = self._text(f)
            elif f.number == 14 and f.wire_type == VARINT:
                external = f.value == EXTERNAL
            elif f.number == 13 and f.wire_type == LEN:
                entries.append(self.entry(f))
        if not entries and not external:
            return
        locations = tuple(v for k, v in entries if k == "location")
        values = dict(entries)  # the last entry for a key wins, as in onnx's ExternalDataInfo
        self.result.external.append(
            ExternalRef(
                name[:500],
                locations,
                values.get("offset"),
                values.get("length"),
                external,
                msg.start,
            )
        )

    def entry(self, msg: Field) -> tuple[str, str]:
        key = value = ""
        for f in self._iter(msg.value, msg.value + msg.length, "StringStringEntryProto"):
            if f.number == 1:
                key = self._text(f)
            elif f.number == 2:
                value = self._text(f, 1 << 16)
        return key, value


_DRIVE = re.compile(r"^[A-Za-z]:")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+:")
# Win32 path normalisation strips trailing dots and spaces from each component, so ".. " and
# "..." name the parent folder there although they are ordinary names on POSIX.
_WINDOWS_PARENT = re.compile(r"\.\.[. ]+")
_WINDOWS_DEVICE = re.compile(r"(?i)(?:CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(?:\..*)?[. ]*")


def location_problems(location: str) -> list[str]:
    """Why an external-data location may leave the model folder, judged on the string alone.

    Both separators count: onnxruntime on Windows splits on ``\\`` too, and a string check must
    hold for every platform the model may be loaded on.
    """
    problems: list[str] = []
    if "\x00" in location:
        problems.append("contains a NUL byte (C++ loaders stop at it)")
    if location.startswith(("\\\\", "//")):
        problems.append("UNC or network path")
    elif location.startswith(("/", "\\")):
        problems.append("absolute path")
    if _DRIVE.match(location):
        problems.append("Windows drive letter")
    elif _SCHEME.match(location):
        problems.append("URL scheme")
    parts = re.split(r"[/\\]", location)
    if ".." in parts:
        problems.append("'..' path component")
    elif any(_WINDOWS_PARENT.fullmatch(p) for p in parts):
        problems.append("component of dots and spaces that Windows trims to '..'")
    if any(_WINDOWS_DEVICE.fullmatch(p) for p in parts):
        problems.append("Windows device name (CON, NUL, COM1 ...)")
    return problems
