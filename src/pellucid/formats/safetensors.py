"""The safetensors header, validated the way the reference (Rust) loader validates it.

Layout: an 8-byte little-endian length N, N bytes of JSON, then the data region. The Rust
loader (safetensors 0.8) rejects a header over 100 MB, duplicate fields in a tensor entry,
unknown dtypes, sizes that disagree with dtype x shape, and offsets that leave gaps, overlap
or do not cover the data region exactly. Every such case is a ``Problem`` here: a permissive
reader may accept what the reference rejects, and the two then disagree about the content.
"""

from __future__ import annotations

import io
import json
import pickletools
from dataclasses import dataclass, field, replace

from pellucid.source import ByteSource

RUST_MAX_HEADER = 100_000_000  # safetensors::tensor::MAX_HEADER_SIZE
U64_MAX = 2**64 - 1
METADATA_KEY = "__metadata__"
_JSON_SPACE = " \t\r\n"
_MAX_LOCATED = 200  # problems whose tensor name is searched for in the header

DTYPE_BITS: dict[str, int] = {
    "BOOL": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "U8": 8, "I8": 8, "F8_E5M2": 8,
    "F8_E4M3": 8, "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8, "I16": 16, "U16": 16,
    "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32, "C64": 64, "F64": 64, "I64": 64,
    "U64": 64,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Problem:
    """One deviation from what the reference loader accepts.

    ``code`` is one of: unparsable, duplicate, entry, size, overlap, gap, uncovered, beyond,
    padding. ``at`` is a byte offset in the file (the tensor's name in the header when known).
    """

    code: str
    message: str
    name: str = ""
    at: int | None = None  # None: at the tensor's name, located once all checks are done


@dataclass(frozen=True, slots=True)
class TensorEntry:
    name: str
    dtype: str
    shape: tuple[int, ...]
    begin: int
    end: int


@dataclass(slots=True)
class SafetensorsHeader:
    header_length: int = 0
    tensors: list[TensorEntry] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)

    @property
    def data_start(self) -> int:
        return 8 + self.header_length


def parse_header(source: ByteSource, max_header_bytes: int) -> SafetensorsHeader:
    """Read and validate the header; never raises on hostile bytes."""
    result = SafetensorsHeader()
    if source.size < 8:
        result.problems.append(Problem("unparsable", f"file is {source.size} bytes, under 8"))
        return result
    length = int.from_bytes(source.read(0, 8), "little")
    result.header_length = length
    if length > source.size - 8:
        result.problems.append(
            Problem(
                "unparsable",
                f"header length {length} runs past the end of the {source.size}-byte file",
            )
        )
        return result
    if length > RUST_MAX_HEADER:
        result.problems.append(
            Problem(
                "unparsable",
                f"header length {length} exceeds the loader's {RUST_MAX_HEADER}-byte limit",
            )
        )
        return result
    if length > max_header_bytes:
        result.incomplete.append(f"header of {length} bytes exceeds {max_header_bytes} (budget)")
        return result
    raw = source.read(8, length)
    document = _decode(raw, result)
    if document is not None:
        _check_entries(document, result)
        _check_layout(result, source.size - 8 - length)
    result.problems = _located(result.problems, raw)
    return result


def _located(problems: list[Problem], raw: bytes) -> list[Problem]:
    """Fill in offsets of tensor names; each costs a search, so only the first few are found."""
    located = []
    for index, problem in enumerate(problems):
        if problem.at is None:
            at = _name_offset(raw, problem.name) if index < _MAX_LOCATED else 8
            problem = replace(problem, at=at)
        located.append(problem)
    return located


def _decode(raw: bytes, result: SafetensorsHeader) -> dict[str, object] | None:
    duplicates: list[str] = []
    surrogates: list[str] = []  # Python accepts lone surrogate escapes; serde_json does not

    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        seen: dict[str, object] = {}
        for key, value in items:
            if key in seen:
                duplicates.append(key)
            if not _encodable(key) or (isinstance(value, str) and not _encodable(value)):
                surrogates.append(key)
            seen[key] = value
        return seen

    def no_constants(name: str) -> object:
        raise ValueError(f"{name} is not JSON")

    try:
        text = raw.decode("utf-8")
        document = json.loads(text, object_pairs_hook=pairs, parse_constant=no_constants)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        result.problems.append(
            Problem("unparsable", f"header is not valid JSON: {exc}"[:300], at=8)
        )
        return None
    if not isinstance(document, dict):
        result.problems.append(Problem("unparsable", "header is not a JSON object", at=8))
        return None
    for key in dict.fromkeys(duplicates):
        result.problems.append(Problem("duplicate", f"key {key!r} appears more than once", key))
    for key in dict.fromkeys(surrogates):
        message = f"unpaired surrogate escape at key {key!r}"
        result.problems.append(Problem("unparsable", message, key))
    lead = text[: len(text) - len(text.lstrip(_JSON_SPACE))]
    tail = text[len(text.rstrip(_JSON_SPACE)) :]
    if lead or tail.strip(" "):  # the loader accepts both; the format allows trailing spaces
        shown = (lead + tail).strip(" ")[:8] or " "
        where = 8 if lead else 8 + len(raw.rstrip(_JSON_SPACE.encode()))
        result.problems.append(
            Problem("padding", f"header padded with {shown!r}, not trailing spaces", at=where)
        )
    return document


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _name_offset(raw: bytes, name: str) -> int:
    found = raw.find(json.dumps(name).encode())
    if found == -1:
        found = raw.find(json.dumps(name, ensure_ascii=False).encode())
    return 8 + max(found, 0)


def _check_entries(document: dict[str, object], result: SafetensorsHeader) -> None:
    for name, value in document.items():
        if name == METADATA_KEY:
            _check_metadata(value, result)
            continue
        entry, problem = _tensor_entry(name, value)
        if problem:
            result.problems.append(Problem("entry", problem, name))
        elif entry is not None:
            result.tensors.append(entry)
            size_problem = _size_problem(entry)
            if size_problem:
                result.problems.append(Problem("size", size_problem, name))


def _check_metadata(value: object, result: SafetensorsHeader) -> None:
    if not isinstance(value, dict):
        result.problems.append(Problem("entry", "__metadata__ is not an object", METADATA_KEY))
        return
    for key, item in value.items():
        if isinstance(item, str):
            result.metadata[key] = item
        else:
            result.problems.append(
                Problem(
                    "entry",
                    f"__metadata__[{key!r}] is {type(item).__name__}, not a string",
                    METADATA_KEY,
                )
            )


def _uint(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= U64_MAX


def _tensor_entry(name: str, value: object) -> tuple[TensorEntry | None, str]:
    if not isinstance(value, dict):
        return None, f"entry is {type(value).__name__}, not an object"
    missing = [k for k in ("dtype", "shape", "data_offsets") if k not in value]
    if missing:
        return None, f"missing {', '.join(missing)}"
    dtype, shape, offsets = value["dtype"], value["shape"], value["data_offsets"]
    if not isinstance(dtype, str) or dtype not in DTYPE_BITS:
        return None, f"unknown dtype {str(dtype)[:40]!r}"
    if not isinstance(shape, list) or not all(_uint(d) for d in shape):
        return None, f"shape {str(shape)[:80]} is not a list of non-negative integers"
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_uint(o) for o in offsets)):
        return None, f"data_offsets {str(offsets)[:80]} is not a pair of non-negative integers"
    begin, end = offsets
    if begin > end:
        return None, f"data_offsets [{begin}, {end}] end before they begin"
    return TensorEntry(name, dtype, tuple(shape), begin, end), ""


def _size_problem(entry: TensorEntry) -> str:
    count = 1
    for dim in entry.shape:
        count *= dim
        if count > U64_MAX:  # the loader's checked_mul fails here; stop before huge ints
            return f"element count of shape {list(entry.shape)[:8]} overflows 64 bits"
    bits = count * DTYPE_BITS[entry.dtype]
    if bits > U64_MAX:
        return f"bit size of {count} x {entry.dtype} overflows 64 bits"
    if bits % 8:
        return f"{count} x {entry.dtype} is {bits} bits, not a whole number of bytes"
    if bits // 8 != entry.end - entry.begin:
        return (
            f"{entry.dtype} {list(entry.shape)} needs {bits // 8} bytes but data_offsets "
            f"[{entry.begin}, {entry.end}] span {entry.end - entry.begin}"
        )
    return ""


def _check_layout(result: SafetensorsHeader, data_length: int) -> None:
    covered = 0
    previous: TensorEntry | None = None
    for entry in sorted(result.tensors, key=lambda t: (t.begin, t.end)):
        span = f"[{entry.begin}, {entry.end}]"
        if entry.end > data_length:
            result.problems.append(
                Problem(
                    "beyond",
                    f"data_offsets {span} run past the {data_length}-byte data region",
                    entry.name,
                )
            )
        if entry.begin > covered:
            result.problems.append(
                Problem(
                    "gap",
                    f"bytes [{covered}, {entry.begin}] before {span} belong to no tensor",
                    entry.name,
                )
            )
        elif entry.begin < covered and previous is not None:
            result.problems.append(
                Problem(
                    "overlap",
                    f"data_offsets {span} overlap {previous.name!r} "
                    f"[{previous.begin}, {previous.end}]",
                    entry.name,
                )
            )
        if entry.end >= covered:
            covered, previous = entry.end, entry
    if covered < data_length:
        result.problems.append(
            Problem(
                "uncovered",
                f"{data_length - covered} bytes after offset {covered} belong to no tensor",
                at=8 + result.header_length + covered,
            )
        )


_PICKLE_WINDOW = 1 << 20
_PICKLE_CODE_OPS = frozenset(
    ("GLOBAL", "STACK_GLOBAL", "INST", "OBJ", "REDUCE", "NEWOBJ", "NEWOBJ_EX", "BUILD")
)


def pickle_prefix(source: ByteSource) -> list[str]:
    """Opcode names when the file also parses as a pickle from offset 0, else [].

    A real safetensors file fails within two or three opcodes (its length bytes are followed
    by zeros); a polyglot reaches STOP or an import/call opcode first.
    """
    names: list[str] = []
    try:
        for opcode, _arg, _pos in pickletools.genops(io.BytesIO(source.view(0, _PICKLE_WINDOW))):
            names.append(opcode.name)
            if opcode.name == "STOP" or opcode.name in _PICKLE_CODE_OPS:
                return names if len(names) >= 2 else []
    except Exception:
        return []
    return []
