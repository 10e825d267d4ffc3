"""A minimal protobuf wire-format reader: enough to walk ONNX and TensorFlow messages.

Length-delimited fields are returned as (offset, length) windows into the buffer, so tensor
payloads are stepped over, never copied.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

VARINT, I64, LEN, SGROUP, EGROUP, I32 = 0, 1, 2, 3, 4, 5


class ProtobufError(ValueError):
    """The bytes are not a well-formed protobuf message."""


@dataclass(frozen=True, slots=True)
class Field:
    number: int
    wire_type: int
    value: int  # the varint / fixed value, or the payload offset for LEN fields
    length: int = 0  # payload length for LEN fields
    start: int = 0  # offset of the tag


def read_varint(buf: memoryview | bytes, pos: int, end: int) -> tuple[int, int]:
    """Decode a varint at ``pos``; returns (value, next position)."""
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise ProtobufError(f"truncated varint at offset {pos}")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ProtobufError(f"varint longer than 10 bytes at offset {pos}")


MAX_GROUP_DEPTH = 64


def fields(buf: memoryview | bytes, start: int = 0, end: int | None = None) -> Iterator[Field]:
    """Yield the fields of one message occupying ``buf[start:end]``; raises on malformed data.

    Groups (wire types 3/4, deprecated but still accepted by protobuf parsers as unknown
    fields) are skipped whole, so they cannot hide the fields after them.
    """
    end = len(buf) if end is None else end
    pos = start
    while pos < end:
        tag_at = pos
        key, pos = read_varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ProtobufError(f"field number 0 at offset {tag_at}")
        if wire == SGROUP:
            pos = _skip_group(buf, pos, end, number, 1)
        elif wire == VARINT:
            value, pos = read_varint(buf, pos, end)
            yield Field(number, wire, value, 0, tag_at)
        elif wire == LEN:
            length, pos = read_varint(buf, pos, end)
            if length > end - pos:
                raise ProtobufError(f"field {number} at offset {tag_at} overruns its message")
            yield Field(number, wire, pos, length, tag_at)
            pos += length
        elif wire == I64:
            if pos + 8 > end:
                raise ProtobufError(f"truncated fixed64 at offset {tag_at}")
            yield Field(number, wire, int.from_bytes(buf[pos : pos + 8], "little"), 0, tag_at)
            pos += 8
        elif wire == I32:
            if pos + 4 > end:
                raise ProtobufError(f"truncated fixed32 at offset {tag_at}")
            yield Field(number, wire, int.from_bytes(buf[pos : pos + 4], "little"), 0, tag_at)
            pos += 4
        else:
            raise ProtobufError(f"unsupported wire type {wire} at offset {tag_at}")


def _skip_group(buf: memoryview | bytes, pos: int, end: int, number: int, depth: int) -> int:
    """Position after the END_GROUP that closes group ``number`` opened just before ``pos``."""
    if depth > MAX_GROUP_DEPTH:
        raise ProtobufError(f"groups nested deeper than {MAX_GROUP_DEPTH} at offset {pos}")
    while pos < end:
        tag_at = pos
        key, pos = read_varint(buf, pos, end)
        inner, wire = key >> 3, key & 7
        if wire == EGROUP:
            if inner != number:
                raise ProtobufError(f"mismatched end of group at offset {tag_at}")
            return pos
        if wire == SGROUP:
            pos = _skip_group(buf, pos, end, inner, depth + 1)
        elif wire == VARINT:
            pos = read_varint(buf, pos, end)[1]
        elif wire == LEN:
            length, pos = read_varint(buf, pos, end)
            pos += length
        elif wire in (I64, I32):
            pos += 8 if wire == I64 else 4
        else:
            raise ProtobufError(f"unsupported wire type {wire} at offset {tag_at}")
        if pos > end:
            raise ProtobufError(f"group field at offset {tag_at} overruns its message")
    raise ProtobufError(f"unterminated group {number}")


def top_level_signature(buf: memoryview | bytes) -> dict[int, set[int]] | None:
    """Field number -> the wire types it appears with, or None if the buffer is not a message.

    Parsers treat a field seen with an unexpected wire type as unknown data, so every type
    seen is kept and the caller decides which one counts.
    """
    seen: dict[int, set[int]] = {}
    try:
        for field in fields(buf):
            seen.setdefault(field.number, set()).add(field.wire_type)
    except ProtobufError:
        return None
    return seen


def string_at(buf: memoryview | bytes, field: Field, limit: int = 1 << 20) -> str:
    """The text of a LEN field, invalid UTF-8 replaced, cut after ``limit`` bytes.

    proto2 ``string`` fields (ONNX) are not UTF-8 checked by protobuf, so neither is this.
    """
    end = field.value + min(field.length, limit)
    return bytes(buf[field.value : end]).decode("utf-8", "replace")
