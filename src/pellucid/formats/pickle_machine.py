"""State of the symbolic pickle VM: stack, marks, memo, the input, and what was seen.

The layout follows CPython's ``_pickle.c`` Unpickler: an object stack with a separate mark
stack and a "fence" below which no opcode may pop, a memo keyed by integer, and a protocol
number that decides how names are resolved. Opcode handlers live in ``pickle_ops_*``; each
takes the offset of its opcode and returns the offset of the next one.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from typing import Any

from pellucid.formats.pickle_values import Call, Global, Mutation

Handler = Callable[[int], int]

HIGHEST_PROTOCOL = 5
BLOB_MIN_BYTES = 8  # bytes literals at least this long are checked for nested pickles
BLOB_MIN_CHARS = 32  # str literals too (base64 / hex of a pickle is never shorter)
WINDOW_MIN_BYTES = 4096  # longer bytes stay in the input as a Window
WINDOW_MIN_TEXT = 1 << 20  # longer str stays undecoded
_NEWLINE = re.compile(b"\n")
_UINTS = {
    width: struct.Struct(code) for width, code in ((1, "<B"), (2, "<H"), (4, "<I"), (8, "<Q"))
}


class PickleError(Exception):
    """The loader would raise here: the stream ends at ``offset``."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


class BudgetExceeded(Exception):
    """An opcode, memo or stack budget ran out; the artifact is incomplete."""


class StopStream(Exception):
    """STOP was executed; carries the unpickled value."""

    def __init__(self, value: Any, end: int) -> None:
        super().__init__("STOP")
        self.value = value
        self.end = end


class Machine:
    """Emulated unpickler state plus the event log shared by every stream of one input."""

    def __init__(self, data: memoryview, *, max_memo: int) -> None:
        self.data = data
        self.size = len(data)
        self.max_memo = max_memo
        self.stack: list[Any] = []
        self.marks: list[int] = []
        self.fence = 0
        self.memo: dict[int, Any] = {}
        self.proto = 0
        self.frame_end = 0
        # What was seen, in stream order, across all streams of the input.
        self.globals: list[Global] = []
        self.calls: list[Call] = []
        self.mutations: list[Mutation] = []
        self.builds: list[Mutation] = []
        self.blobs: list[tuple[int, Any]] = []
        self.exts: list[tuple[int, int]] = []
        self.persids: list[tuple[int, Any]] = []
        self.out_of_band = 0
        # joblib: called after BUILD with (target, state, next offset); returns where to resume.
        self.after_build: Callable[[Any, Any, int], int] | None = None

    def reset(self) -> None:
        """Fresh unpickler state for the next stream (memo is per ``load`` call)."""
        self.stack = []
        self.marks = []
        self.fence = 0
        self.memo = {}
        self.proto = 0
        self.frame_end = 0

    def save(self) -> tuple[Any, ...]:
        return (self.stack, self.marks, self.fence, self.memo, self.proto, self.frame_end)

    def restore(self, state: tuple[Any, ...]) -> None:
        self.stack, self.marks, self.fence, self.memo, self.proto, self.frame_end = state

    # ---- stack -------------------------------------------------------------------------

    def pop(self, at: int) -> Any:
        if len(self.stack) <= self.fence:
            raise PickleError(at, "unpickling stack underflow")
        return self.stack.pop()

    def top(self, at: int) -> Any:
        if len(self.stack) <= self.fence:
            raise PickleError(at, "unpickling stack underflow")
        return self.stack[-1]

    def pop_mark(self, at: int) -> int:
        """Remove the newest mark and return the stack length it recorded (``marker``)."""
        if not self.marks:
            raise PickleError(at, "could not find MARK")
        mark = self.marks.pop()
        self.fence = self.marks[-1] if self.marks else 0
        return mark

    def pop_items(self, at: int) -> list[Any]:
        """The items pushed since the newest mark, removed from the stack."""
        mark = self.pop_mark(at)
        items = self.stack[mark:]
        del self.stack[mark:]
        return items

    def memo_put(self, at: int, index: int, value: Any) -> None:
        if index < 0:
            raise PickleError(at, "negative PUT argument")
        self.memo[index] = value
        if len(self.memo) > self.max_memo:
            raise BudgetExceeded(f"memo larger than {self.max_memo} entries (budget)")

    def memo_get(self, at: int, index: int) -> Any:
        try:
            return self.memo[index]
        except KeyError:
            raise PickleError(at, f"memo key {index} not found") from None

    # ---- input -------------------------------------------------------------------------

    def need(self, at: int, end: int) -> None:
        if end > self.size:
            raise PickleError(at, "pickle data was truncated")

    def line(self, at: int, start: int) -> tuple[bytes, int]:
        """The bytes from ``start`` to the next ``\\n`` (excluded) and the offset after it."""
        found = _NEWLINE.search(self.data, start)
        if found is None:
            raise PickleError(at, "pickle data was truncated (no newline)")
        end = found.start()
        return bytes(self.data[start:end]), end + 1

    def text_line(self, at: int, start: int) -> tuple[str, int]:
        raw, nxt = self.line(at, start)
        try:
            return raw.decode("utf-8"), nxt
        except UnicodeDecodeError as exc:
            raise PickleError(at, f"undecodable name: {exc.reason}") from None

    def uint(self, at: int, start: int, width: int) -> int:
        try:
            value: int = _UINTS[width].unpack_from(self.data, start)[0]
        except struct.error:
            raise PickleError(at, "pickle data was truncated") from None
        return value

    def blob(self, at: int, value: Any) -> None:
        self.blobs.append((at, value))
