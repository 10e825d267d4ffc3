"""A read-only walker over Python's marshal format that lists what a code object refers to.

Keras Lambda layers store ``marshal.dumps(fn.__code__)`` in base64. Unmarshalling would hand
attacker bytes to the interpreter, so this module never calls ``marshal.loads``: it steps over
the serialised values itself and keeps only the names (``co_names``) and string constants
(``co_consts``) of every code object, which is what a reviewer needs to see
(``os``, ``system``, ``'touch /tmp/x'``). It tolerates the code-object layouts of Python 3.8
to 3.13 and gives up quietly on anything it does not understand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FLAG_REF = 0x80
CODE_TYPES = (ord("c"), ord("c") | FLAG_REF)
_MAX_OBJECTS = 200_000
_MAX_DEPTH = 64
_MAX_KEPT = 200  # names and strings kept for evidence


class MarshalError(ValueError):
    """The bytes stop making sense as marshal data."""


@dataclass(slots=True)
class CodeSummary:
    """What the code objects in a marshal blob refer to, in order of appearance."""

    names: list[str] = field(default_factory=list)
    strings: list[str] = field(default_factory=list)
    code_objects: int = 0
    complete: bool = True

    def keep_name(self, value: object) -> None:
        if isinstance(value, str) and value not in self.names and len(self.names) < _MAX_KEPT:
            self.names.append(value)

    def keep_string(self, value: object) -> None:
        if isinstance(value, str | bytes) and len(self.strings) < _MAX_KEPT:
            text = value if isinstance(value, str) else value.decode("latin-1")
            if text not in self.strings:
                self.strings.append(text)


def looks_like_code(data: bytes | memoryview) -> bool:
    """True when ``data`` starts like ``marshal.dumps(<code object>)``."""
    return len(data) > 16 and data[0] in CODE_TYPES


def summarize_code(data: bytes | memoryview) -> CodeSummary:
    """Names and string constants of the marshalled code object in ``data`` (never raises)."""
    walker = _Walker(bytes(data))
    try:
        walker.value(0)
    except (MarshalError, IndexError, RecursionError):
        walker.summary.complete = False
    return walker.summary


_Marker = object()  # stands for values the walker does not keep (numbers, None, ...)


class _Walker:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.refs: list[object] = []
        self.count = 0
        self.summary = CodeSummary()

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise MarshalError("truncated")
        self.pos += 1
        return self.data[self.pos - 1]

    def int32(self) -> int:
        if self.pos + 4 > len(self.data):
            raise MarshalError("truncated int")
        value = int.from_bytes(self.data[self.pos : self.pos + 4], "little", signed=True)
        self.pos += 4
        return value

    def raw(self, length: int) -> bytes:
        if length < 0 or self.pos + length > len(self.data):
            raise MarshalError("length overruns the data")
        self.pos += length
        return self.data[self.pos - length : self.pos]

    def value(self, depth: int) -> object:
        self.count += 1
        if depth > _MAX_DEPTH or self.count > _MAX_OBJECTS:
            raise MarshalError("too deep or too many objects")
        code = self.byte()
        kind, flagged = chr(code & ~FLAG_REF), bool(code & FLAG_REF)
        slot = len(self.refs)
        if flagged:
            self.refs.append(_Marker)  # reserved before children, as marshal.c does
        result = self._body(kind, depth)
        if flagged:
            self.refs[slot] = result
        return result

    def _body(self, kind: str, depth: int) -> object:
        if kind in "0NFTS.":
            return None
        if kind == "i":
            return self.int32()
        if kind == "I":
            return self.raw(8) and _Marker
        if kind in "fx":  # text floats / complex: one or two length-prefixed numbers
            for _ in range(1 if kind == "f" else 2):
                self.raw(self.byte())
            return _Marker
        if kind == "g":
            return self.raw(8) and _Marker
        if kind == "y":
            return self.raw(16) and _Marker
        if kind == "l":
            return self.raw(abs(self.int32()) * 2) and _Marker
        if kind == "s":
            return self.raw(self.int32())
        if kind in "tuaA":
            return self.raw(self.int32()).decode("utf-8", "replace")
        if kind in "zZ":
            return self.raw(self.byte()).decode("latin-1")
        if kind == "r":
            index = self.int32()
            if not 0 <= index < len(self.refs):
                raise MarshalError("bad reference")
            return self.refs[index]
        if kind in "([<>":
            return self._sequence(self.int32(), depth)
        if kind == ")":
            return self._sequence(self.byte(), depth)
        if kind == "{":
            return self._dict(depth)
        if kind == ":":  # slice (3.14)
            return self._sequence(3, depth)
        if kind == "c":
            return self._code(depth)
        raise MarshalError(f"unknown marshal type {kind!r}")

    def _sequence(self, count: int, depth: int) -> tuple[object, ...]:
        if count < 0 or count > len(self.data) - self.pos:
            raise MarshalError("bad sequence length")
        return tuple(self.value(depth + 1) for _ in range(count))

    def _dict(self, depth: int) -> object:
        while self.pos < len(self.data) and self.data[self.pos] != ord("0"):
            self.value(depth + 1)
            self.value(depth + 1)
        self.byte()
        return _Marker

    def _code(self, depth: int) -> object:
        """3.11+ writes 5 int32 fields before co_code, 3.8-3.10 write 6 (with nlocals)."""
        self.summary.code_objects += 1
        start = self.pos
        self.raw(20)
        if self.byte() & ~FLAG_REF != ord("s"):
            self.pos = start + 24  # older layout: one more int32
            layout_311 = False
        else:
            self.pos -= 1
            layout_311 = True
        self.value(depth + 1)  # co_code
        consts = self.value(depth + 1)
        names = self.value(depth + 1)
        for item in consts if isinstance(consts, tuple) else ():
            self.summary.keep_string(item)
        for item in names if isinstance(names, tuple) else ():
            self.summary.keep_name(item)
        # 3.11+: localsplusnames, localspluskinds, filename, name, qualname, firstlineno,
        # linetable, exceptiontable. 3.8-3.10: varnames, freevars, cellvars, filename, name,
        # firstlineno, lnotab. firstlineno is a bare int32, not a marshal value.
        before, after = (5, 2) if layout_311 else (5, 1)
        for _ in range(before):
            self.value(depth + 1)
        self.int32()
        for _ in range(after):
            self.value(depth + 1)
        return _Marker
