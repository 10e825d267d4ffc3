"""A validating reader of GGUF headers (versions 1-3): metadata and tensor infos, never data.

ggml's own reader trusted counts and lengths from the file for years (Databricks 2024,
CVE-2026-33298, CVE-2026-7482), so every count, length and size here is checked against the
bytes that remain before anything is sized by it. Anything odd becomes a ``GgufProblem``; the
reader stops (``complete`` False) only where ggml's loader would stop too.
Layout: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from pellucid.formats.gguf_types import (
    GGML_MAX_DIMS,
    MIN_KV_BYTES,
    MIN_TENSOR_BYTES,
    SCALAR_FORMATS,
    ValueType,
)
from pellucid.source import ByteSource

GGUF_MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32
MAX_ARRAY_DEPTH = 4  # ggml reads no nested arrays at all; the spec allows them
MAX_ARRAY_ELEMENTS = 4_000_000  # string elements walked per file (vocabularies: ~256k)
TEMPLATE_KEY = "tokenizer.chat_template"


@dataclass(frozen=True, slots=True)
class GgufProblem:
    """A structural defect at a byte offset; ``kind`` names it (see scanners/gguf.py)."""

    kind: str
    offset: int
    snippet: str
    detail: str


@dataclass(frozen=True, slots=True)
class KeyValue:
    """One metadata entry. ``value`` is kept for scalars and for strings the caller asked for."""

    key: str
    type: ValueType
    offset: int  # of the value (for a string: of its bytes, after the length)
    length: int = 0  # string bytes, or array elements
    value: str | int | float | None = None


@dataclass(frozen=True, slots=True)
class TensorInfo:
    name: str
    name_bytes: int
    dims: tuple[int, ...]
    ggml_type: int
    offset: int  # relative to the data section
    info_offset: int  # where this tensor info starts in the file


@dataclass(slots=True)
class GgufHeader:
    """What the reader saw. ``data_offset`` is None when the reader stopped before it."""

    version: int = 0
    byte_order: str = "<"
    tensor_count: int = 0
    kv_count: int = 0
    kvs: list[KeyValue] = field(default_factory=list)
    tensors: list[TensorInfo] = field(default_factory=list)
    data_offset: int | None = None
    problems: list[GgufProblem] = field(default_factory=list)
    complete: bool = True
    budget_hit: str = ""  # non-empty: stopped by a pellucid limit, not by the file

    def kv(self, key: str) -> KeyValue | None:
        return next((kv for kv in self.kvs if kv.key == key), None)


class _Stop(Exception):
    """The reader cannot go on; the problem (if any) says why."""

    def __init__(self, problem: GgufProblem | None, budget: str = "") -> None:
        super().__init__(problem.detail if problem else budget)
        self.problem = problem
        self.budget = budget


class _Cursor:
    """Bounds-checked reads over the file's map; the position only moves forward."""

    def __init__(self, source: ByteSource, limit: int, order: str) -> None:
        self.view = source.view()
        self.size = len(self.view)
        self.limit = min(limit, self.size)
        self.pos = 0
        self.order = order
        self.wide = True  # GGUF v1 used 32-bit counts and lengths

    def need(self, count: int, what: str, declared: bool = False) -> None:
        """Fail unless ``count`` more bytes exist (and are within the header budget).

        ``declared``: ``count`` comes from a count or length field. A value no real file could
        need is reported as such; a moderate one as a file cut short (an interrupted download).
        """
        left = self.size - self.pos
        if count > left:
            absurd = declared and (count >= 1 << 32 or count > 16 * max(self.size, 1 << 20))
            detail = f"{what} needs {count} bytes at offset {self.pos}; {left} remain"
            raise _Stop(GgufProblem("too-large" if absurd else "truncated", self.pos, what, detail))
        if count > self.limit - self.pos:
            raise _Stop(None, f"GGUF header larger than the {self.limit}-byte budget")

    def scalar(self, fmt: str, what: str) -> int | float:
        size = struct.calcsize(fmt)
        self.need(size, what)
        value = struct.unpack_from(self.order + fmt, self.view, self.pos)[0]
        self.pos += size
        return value  # type: ignore[no-any-return]  # struct returns Any; fmt is numeric

    def count(self, what: str) -> int:
        return int(self.scalar("Q" if self.wide else "I", what))

    def u32(self, what: str) -> int:
        return int(self.scalar("I", what))

    def string(self, what: str, keep: int = 0) -> tuple[int, int, str | None]:
        """(offset of the bytes, length, text if length <= keep); checks the length first."""
        length = self.count(what)
        self.need(length, f"{what} of {length} bytes", declared=True)
        at = self.pos
        self.pos += length
        text = None
        if length <= keep:
            text = bytes(self.view[at : at + length]).decode("utf-8", "replace")
        return at, length, text


def read_gguf(source: ByteSource, *, max_header_bytes: int, keep_text: int) -> GgufHeader:
    """Read and validate the header of ``source`` (which starts with ``GGUF``).

    Strings of keys named ``tokenizer.chat_template*`` up to ``keep_text`` bytes are decoded;
    other values are skipped after their lengths are checked.
    """
    header = GgufHeader()
    head = source.read(4, 4)
    order = "<"
    if len(head) == 4 and not 1 <= int.from_bytes(head, "little") <= 3:
        order = ">" if 1 <= int.from_bytes(head, "big") <= 3 else "<"  # big-endian GGUF
    cursor = _Cursor(source, max_header_bytes, order)
    header.byte_order = order
    try:
        _read(cursor, header, keep_text)
    except _Stop as stop:
        header.complete = False
        header.budget_hit = stop.budget
        if stop.problem is not None:
            header.problems.append(stop.problem)
    return header


def _read(cursor: _Cursor, header: GgufHeader, keep_text: int) -> None:
    cursor.need(4, "magic")
    cursor.pos = 4
    header.version = cursor.u32("version")
    if not 1 <= header.version <= 3:
        raise _Stop(
            GgufProblem(
                "bad-version",
                4,
                f"version {header.version}",
                f"GGUF version {header.version} is not 1, 2 or 3",
            )
        )
    cursor.wide = header.version >= 2
    header.tensor_count = cursor.count("tensor count")
    header.kv_count = cursor.count("metadata count")
    narrow = 0 if cursor.wide else 4  # v1: 4-byte key and name lengths
    _check_count(cursor, header.kv_count, MIN_KV_BYTES - narrow, "metadata entries")
    _check_count(cursor, header.tensor_count, MIN_TENSOR_BYTES - narrow, "tensors")
    elements = [MAX_ARRAY_ELEMENTS]
    for _ in range(header.kv_count):
        header.kvs.append(_read_kv(cursor, keep_text, elements))
    for _ in range(header.tensor_count):
        header.tensors.append(_read_tensor(cursor))
    header.data_offset = cursor.pos  # aligned later, once general.alignment is known


def _check_count(cursor: _Cursor, count: int, min_bytes: int, what: str) -> None:
    cursor.need(count * min_bytes, f"{count} {what}", declared=True)


def _read_kv(cursor: _Cursor, keep_text: int, elements: list[int]) -> KeyValue:
    _, _, key = cursor.string("metadata key", keep=1 << 16)
    key = key if key is not None else "<unreadable key>"
    type_offset = cursor.pos
    raw_type = cursor.u32(f"type of {key!r}")
    if raw_type not in ValueType._value2member_map_:
        raise _Stop(_bad_type(type_offset, key, raw_type))
    vtype = ValueType(raw_type)
    offset = cursor.pos
    if vtype is ValueType.STRING:
        keep = keep_text if key.startswith(TEMPLATE_KEY) else 256
        at, length, text = cursor.string(f"value of {key!r}", keep=keep)
        return KeyValue(key, vtype, at, length, text)
    if vtype is ValueType.ARRAY:
        length = _skip_array(cursor, key, 1, elements)
        return KeyValue(key, vtype, offset, length)
    return KeyValue(key, vtype, offset, 0, cursor.scalar(SCALAR_FORMATS[vtype], key))


def _bad_type(offset: int, key: str, raw: int) -> GgufProblem:
    return GgufProblem(
        "bad-value-type",
        offset,
        f"{key}: type {raw}",
        f"metadata {key!r} has value type {raw}, which GGUF does not define",
    )


def _skip_array(cursor: _Cursor, key: str, depth: int, elements: list[int]) -> int:
    """Skip an array value after checking its element type and count; returns the count."""
    type_offset = cursor.pos
    raw_type = cursor.u32(f"element type of {key!r}")
    if raw_type not in ValueType._value2member_map_:
        raise _Stop(_bad_type(type_offset, key, raw_type))
    etype = ValueType(raw_type)
    count = cursor.count(f"element count of {key!r}")
    if etype is ValueType.ARRAY and depth >= MAX_ARRAY_DEPTH:
        raise _Stop(
            GgufProblem(
                "bad-value-type",
                type_offset,
                key,
                f"arrays nested deeper than {MAX_ARRAY_DEPTH} in {key!r}",
            )
        )
    if etype in SCALAR_FORMATS:
        size = struct.calcsize(SCALAR_FORMATS[etype])
        cursor.need(count * size, f"{count} x {size}-byte elements of {key!r}", declared=True)
        cursor.pos += count * size
        return count
    minimum = 8 if cursor.wide else 4
    cursor.need(count * minimum, f"{count} elements of {key!r}", declared=True)
    elements[0] -= count
    if elements[0] < 0:
        raise _Stop(None, f"more than {MAX_ARRAY_ELEMENTS} array elements to walk")
    for _ in range(count):
        if etype is ValueType.STRING:
            cursor.string(f"element of {key!r}")
        else:
            _skip_array(cursor, key, depth + 1, elements)
    return count


def _read_tensor(cursor: _Cursor) -> TensorInfo:
    start = cursor.pos
    _, name_bytes, name = cursor.string("tensor name", keep=1 << 16)
    name = name if name is not None else "<unreadable name>"
    n_dims = cursor.u32(f"dimension count of {name!r}")
    if n_dims > GGML_MAX_DIMS:  # ggml stops here; older ggml wrote past ne[4]
        raise _Stop(
            GgufProblem(
                "too-many-dims",
                cursor.pos - 4,
                f"{name}: n_dims={n_dims}",
                f"tensor {name!r} has {n_dims} dimensions; ggml allows {GGML_MAX_DIMS}",
            )
        )
    dims = tuple(cursor.count(f"dimension of {name!r}") for _ in range(n_dims))
    ggml_type = cursor.u32(f"type of {name!r}")
    offset = int(cursor.scalar("Q", f"data offset of {name!r}"))
    return TensorInfo(name, name_bytes, dims, ggml_type, offset, start)
