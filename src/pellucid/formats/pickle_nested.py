"""Pickles hidden inside the string and bytes literals of a pickle.

A payload can carry a second pickle as a literal and hand it to ``pickle.loads`` at load time,
raw or wrapped in base64, hex, zlib or gzip. Each literal the VM recorded is unwrapped (a few
layers deep, within the size budget) and kept when the result starts like a pickle.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from dataclasses import dataclass
from typing import Any

from pellucid.formats.pickle_values import Window

_LAYERS = 3
_BASE64 = re.compile(rb"[A-Za-z0-9+/\-_\s]{16,}={0,2}\s*")
_HEX = re.compile(rb"(?:[0-9a-fA-F]{2}){8,}")
_PROTOCOL0 = re.compile(rb"[(]?[ci][A-Za-z_][\w.]*\n[A-Za-z_][\w.]*\n")


@dataclass(frozen=True, slots=True)
class NestedPickle:
    """A pickle found in a literal at ``offset``, after undoing ``encoding`` (outermost first)."""

    offset: int
    encoding: tuple[str, ...]
    data: bytes


def find_nested(
    data: memoryview, blobs: list[tuple[int, Any]], max_bytes: int
) -> list[NestedPickle]:
    """Nested pickles in the recorded literals; bytes beyond ``max_bytes`` are not unwrapped."""
    found: list[NestedPickle] = []
    for offset, value in blobs:
        raw = _as_bytes(data, value, max_bytes)
        if raw is None:
            continue
        hit = _unwrap(raw, (), max_bytes)
        if hit is not None:
            found.append(NestedPickle(offset, hit[0], hit[1]))
    return found


def looks_like_pickle(raw: bytes) -> bool:
    """A protocol 2+ header followed by an opcode, or a protocol 0/1 GLOBAL/INST first."""
    if len(raw) >= 3 and raw[0] == 0x80 and raw[1] <= 5:
        return True
    return _PROTOCOL0.match(raw) is not None


def _as_bytes(data: memoryview, value: Any, max_bytes: int) -> bytes | None:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass") if value.isascii() else None
    if isinstance(value, Window) and value.length <= max_bytes:
        head = bytes(data[value.offset : value.offset + 2])
        if head[:1] in (b"\x80", b"\x78", b"\x1f") or head.isalnum():
            return bytes(data[value.offset : value.offset + value.length])
    return None


def _unwrap(
    raw: bytes, layers: tuple[str, ...], max_bytes: int
) -> tuple[tuple[str, ...], bytes] | None:
    if looks_like_pickle(raw):
        return (layers, raw) if layers or raw[:1] == b"\x80" or len(raw) > 16 else None
    if len(layers) >= _LAYERS:
        return None
    for name, decode in _DECODERS:
        decoded = decode(raw, max_bytes)
        if decoded:
            result = _unwrap(decoded, (*layers, name), max_bytes)
            if result is not None:
                return result
    return None


def _zlib(raw: bytes, max_bytes: int) -> bytes | None:
    if raw[:1] not in (b"\x78", b"\x1f"):
        return None
    try:  # wbits 47: zlib or gzip header, detected automatically
        return zlib.decompressobj(47).decompress(raw, max_bytes) or None
    except zlib.error:
        return None


def _base64(raw: bytes, max_bytes: int) -> bytes | None:
    if len(raw) > max_bytes * 2 or _BASE64.fullmatch(raw) is None:
        return None
    text = b"".join(raw.split())
    try:
        if b"-" in text or b"_" in text:
            return base64.urlsafe_b64decode(text + b"=" * (-len(text) % 4))
        return base64.b64decode(text + b"=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def _hex(raw: bytes, max_bytes: int) -> bytes | None:
    if len(raw) > max_bytes * 2 or _HEX.fullmatch(raw.strip()) is None:
        return None
    return bytes.fromhex(raw.strip().decode("ascii"))


_DECODERS = (("zlib", _zlib), ("hex", _hex), ("base64", _base64))
