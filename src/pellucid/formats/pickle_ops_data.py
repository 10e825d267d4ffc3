"""Opcode handlers for literals, containers, marks, memo and stream control.

Each handler mirrors the corresponding ``load_*`` function of CPython's ``_pickle.c``: same
checks, same errors, same stack effect. None of them calls anything in the input.
"""

from __future__ import annotations

import codecs
import struct
from typing import Any

from pellucid.formats.pickle_machine import (
    BLOB_MIN_BYTES,
    BLOB_MIN_CHARS,
    HIGHEST_PROTOCOL,
    WINDOW_MIN_BYTES,
    WINDOW_MIN_TEXT,
    Machine,
    PickleError,
    StopStream,
)
from pellucid.formats.pickle_values import Opaque, PDict, PFrozenSet, PSet, Window

_DOUBLE = struct.Struct(">d")
_INT4 = struct.Struct("<i")


class DataOps(Machine):
    """Literal, container, mark, memo and control opcodes."""

    # ---- control -----------------------------------------------------------------------

    def op_proto(self, at: int) -> int:
        self.need(at, at + 2)
        proto = self.data[at + 1]
        if proto > HIGHEST_PROTOCOL:
            raise PickleError(at, f"unsupported pickle protocol: {proto}")
        self.proto = proto
        return at + 2

    def op_frame(self, at: int) -> int:
        length = self.uint(at, at + 1, 8)
        self.need(at, at + 9 + length)  # C: the whole frame must be readable, nothing more
        self.frame_end = at + 9 + length
        return at + 9

    def op_stop(self, at: int) -> int:
        raise StopStream(self.pop(at), at + 1)

    def op_mark(self, at: int) -> int:
        self.marks.append(len(self.stack))
        self.fence = len(self.stack)
        return at + 1

    def op_pop(self, at: int) -> int:
        # C pops a mark when the mark is on top of the object stack.
        if self.marks and self.marks[-1] == len(self.stack):
            self.pop_mark(at)
        else:
            self.pop(at)
        return at + 1

    def op_pop_mark(self, at: int) -> int:
        self.pop_items(at)
        return at + 1

    def op_dup(self, at: int) -> int:
        self.stack.append(self.top(at))
        return at + 1

    # ---- numbers and constants ---------------------------------------------------------

    def op_none(self, at: int) -> int:
        self.stack.append(None)
        return at + 1

    def op_true(self, at: int) -> int:
        self.stack.append(True)
        return at + 1

    def op_false(self, at: int) -> int:
        self.stack.append(False)
        return at + 1

    def op_int(self, at: int) -> int:
        raw, nxt = self.line(at, at + 1)
        if raw in (b"00", b"01"):
            self.stack.append(raw == b"01")
        else:
            self.stack.append(_parse_int(at, raw))
        return nxt

    def op_long(self, at: int) -> int:
        raw, nxt = self.line(at, at + 1)
        self.stack.append(_parse_int(at, raw[:-1] if raw.endswith(b"L") else raw))
        return nxt

    def op_binint(self, at: int) -> int:
        self.need(at, at + 5)
        self.stack.append(_INT4.unpack_from(self.data, at + 1)[0])
        return at + 5

    def op_binint1(self, at: int) -> int:
        self.stack.append(self.data[at + 1])
        return at + 2

    def op_binint2(self, at: int) -> int:
        self.stack.append(self.uint(at, at + 1, 2))
        return at + 3

    def op_long1(self, at: int) -> int:
        return self._long(at, self.data[at + 1], at + 2)

    def op_long4(self, at: int) -> int:
        self.need(at, at + 5)
        size = _INT4.unpack_from(self.data, at + 1)[0]
        if size < 0:
            raise PickleError(at, "LONG pickle has negative byte count")
        return self._long(at, size, at + 5)

    def _long(self, at: int, size: int, start: int) -> int:
        self.need(at, start + size)
        if size > 65536:  # a real loader would build it; we need no digits of it
            self.stack.append(Opaque(f"int of {size} bytes"))
        else:
            self.stack.append(
                int.from_bytes(self.data[start : start + size], "little", signed=True)
            )
        return start + size

    def op_float(self, at: int) -> int:
        raw, nxt = self.line(at, at + 1)
        try:
            self.stack.append(float(raw))
        except ValueError:
            raise PickleError(at, "could not convert string to float") from None
        return nxt

    def op_binfloat(self, at: int) -> int:
        self.need(at, at + 9)
        self.stack.append(_DOUBLE.unpack_from(self.data, at + 1)[0])
        return at + 9

    # ---- strings and bytes -------------------------------------------------------------

    def op_string(self, at: int) -> int:
        raw, nxt = self.line(at, at + 1)
        if len(raw) < 2 or raw[0] != raw[-1] or raw[0] not in b"'\"":
            raise PickleError(at, "the STRING opcode argument must be quoted")
        try:
            value: bytes = codecs.escape_decode(raw[1:-1])[0]
        except ValueError as exc:
            raise PickleError(at, f"bad STRING escape: {exc}") from None
        return self._push_text(at, value.decode("latin-1"), nxt)

    def op_unicode(self, at: int) -> int:
        raw, nxt = self.line(at, at + 1)
        try:
            text = raw.decode("raw_unicode_escape")
        except UnicodeDecodeError as exc:
            raise PickleError(at, f"bad UNICODE escape: {exc.reason}") from None
        return self._push_text(at, text, nxt)

    def op_binstring(self, at: int) -> int:
        self.need(at, at + 5)
        size = _INT4.unpack_from(self.data, at + 1)[0]
        if size < 0:
            raise PickleError(at, "BINSTRING pickle has negative byte count")
        return self._bytes_as_str(at, at + 5, size)

    def op_short_binstring(self, at: int) -> int:
        return self._bytes_as_str(at, at + 2, self.data[at + 1])

    def _bytes_as_str(self, at: int, start: int, size: int) -> int:
        self.need(at, start + size)
        # Python 2 str: the default loader decodes it as ASCII; latin-1 keeps every byte.
        text = str(self.data[start : start + size], "latin-1")
        return self._push_text(at, text, start + size)

    def op_binunicode(self, at: int) -> int:
        return self._unicode(at, at + 5, self.uint(at, at + 1, 4))

    def op_short_binunicode(self, at: int) -> int:
        return self._unicode(at, at + 2, self.data[at + 1])

    def op_binunicode8(self, at: int) -> int:
        return self._unicode(at, at + 9, self.uint(at, at + 1, 8))

    def _unicode(self, at: int, start: int, size: int) -> int:
        end = start + size
        self.need(at, end)
        if size >= WINDOW_MIN_TEXT:
            value: Any = Window(start, size, "str")
            self.stack.append(value)
            self.blob(at, value)
            return end
        try:
            text = str(self.data[start:end], "utf-8", "surrogatepass")
        except UnicodeDecodeError as exc:
            raise PickleError(at, f"undecodable string: {exc.reason}") from None
        return self._push_text(at, text, end)

    def _push_text(self, at: int, text: str, nxt: int) -> int:
        self.stack.append(text)
        if len(text) >= BLOB_MIN_CHARS:
            self.blob(at, text)
        return nxt

    def op_binbytes(self, at: int) -> int:
        return self._bytes(at, at + 5, self.uint(at, at + 1, 4), "bytes")

    def op_short_binbytes(self, at: int) -> int:
        return self._bytes(at, at + 2, self.data[at + 1], "bytes")

    def op_binbytes8(self, at: int) -> int:
        return self._bytes(at, at + 9, self.uint(at, at + 1, 8), "bytes")

    def op_bytearray8(self, at: int) -> int:
        return self._bytes(at, at + 9, self.uint(at, at + 1, 8), "bytearray")

    def _bytes(self, at: int, start: int, size: int, kind: str) -> int:
        end = start + size
        self.need(at, end)
        value: Any = Window(start, size, kind)
        if size < WINDOW_MIN_BYTES:
            value = bytes(self.data[start:end])
            value = bytearray(value) if kind == "bytearray" else value
        self.stack.append(value)
        if size >= BLOB_MIN_BYTES:
            self.blob(at, value)
        return end

    def op_next_buffer(self, at: int) -> int:
        # Loaders without a buffers= argument raise here; the VM keeps reading for evidence.
        self.out_of_band += 1
        self.stack.append(Opaque("out-of-band buffer"))
        return at + 1

    def op_readonly_buffer(self, at: int) -> int:
        self.top(at)
        return at + 1

    # ---- containers --------------------------------------------------------------------

    def op_empty_tuple(self, at: int) -> int:
        self.stack.append(())
        return at + 1

    def op_tuple(self, at: int) -> int:
        self.stack.append(tuple(self.pop_items(at)))
        return at + 1

    def op_tuple1(self, at: int) -> int:
        return self._tuple_n(at, 1)

    def op_tuple2(self, at: int) -> int:
        return self._tuple_n(at, 2)

    def op_tuple3(self, at: int) -> int:
        return self._tuple_n(at, 3)

    def _tuple_n(self, at: int, n: int) -> int:
        stack = self.stack
        if len(stack) - n < self.fence:
            raise PickleError(at, "unpickling stack underflow")
        items = tuple(stack[-n:])
        del stack[-n:]
        stack.append(items)
        return at + 1

    def op_empty_list(self, at: int) -> int:
        self.stack.append([])
        return at + 1

    def op_list(self, at: int) -> int:
        self.stack.append(self.pop_items(at))
        return at + 1

    def op_empty_dict(self, at: int) -> int:
        self.stack.append(PDict())
        return at + 1

    def op_dict(self, at: int) -> int:
        items = self.pop_items(at)
        if len(items) % 2:
            raise PickleError(at, "odd number of items for DICT")
        self.stack.append(PDict(zip(items[::2], items[1::2], strict=True)))
        return at + 1

    def op_empty_set(self, at: int) -> int:
        self.stack.append(PSet())
        return at + 1

    def op_frozenset(self, at: int) -> int:
        self.stack.append(PFrozenSet(self.pop_items(at)))
        return at + 1

    # ---- memo --------------------------------------------------------------------------

    def op_put(self, at: int) -> int:
        raw, nxt = self.line(at, at + 1)
        self.memo_put(at, _parse_index(at, raw), self.top(at))
        return nxt

    def op_binput(self, at: int) -> int:
        self.memo_put(at, self.data[at + 1], self.top(at))
        return at + 2

    def op_long_binput(self, at: int) -> int:
        self.memo_put(at, self.uint(at, at + 1, 4), self.top(at))
        return at + 5

    def op_memoize(self, at: int) -> int:
        # The index is the number of filled memo slots, whatever PUTs came before.
        self.memo_put(at, len(self.memo), self.top(at))
        return at + 1

    def op_get(self, at: int) -> int:
        raw, nxt = self.line(at, at + 1)
        self.stack.append(self.memo_get(at, _parse_index(at, raw)))
        return nxt

    def op_binget(self, at: int) -> int:
        self.stack.append(self.memo_get(at, self.data[at + 1]))
        return at + 2

    def op_long_binget(self, at: int) -> int:
        self.stack.append(self.memo_get(at, self.uint(at, at + 1, 4)))
        return at + 5


def _parse_index(at: int, raw: bytes) -> int:
    """A PUT/GET memo index: decimal, as ``PyLong_FromString(s, NULL, 10)`` reads it."""
    try:
        return int(raw, 10)
    except ValueError:
        raise PickleError(at, f"invalid memo index {raw[:40]!r}") from None


def _parse_int(at: int, raw: bytes) -> Any:
    """A text-opcode integer as ``int(x, 0)`` reads it (C also takes strtol's octal)."""
    text = raw.strip()
    try:
        return int(text, 0)
    except ValueError:
        pass
    try:
        return int(text, 8) if text[:1] == b"0" else int(text, 10)
    except ValueError:
        if text.lstrip(b"+-").isdigit():
            return Opaque(f"int of {len(text)} digits")
        raise PickleError(at, f"invalid literal for int(): {raw[:40]!r}") from None
