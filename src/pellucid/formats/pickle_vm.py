"""A symbolic pickle VM: CPython's Unpickler for protocols 0-5, without executing anything.

``PickleVM(data).run(offset)`` interprets one pickle stream starting at ``offset`` and returns
a ``Stream``: where it ended, why, and its result. Imports, calls, BUILDs, mutations, literal
blobs, persistent ids and extension codes accumulate on the VM across streams, each with the
byte offset of its opcode, so everything reached before a broken opcode is kept.

Dispatch is a 256-entry table of the handler functions indexed by the opcode byte, built once
per process; the loop runs in chunks so that the budget check costs nothing per opcode.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from pellucid.formats.pickle_machine import BudgetExceeded, PickleError, StopStream
from pellucid.formats.pickle_ops_call import CallOps
from pellucid.formats.pickle_ops_data import DataOps

__all__ = ["OPCODE_NAMES", "BudgetExceeded", "PickleVM", "Stream"]

_CHUNK = 65536

OPCODE_NAMES: dict[int, str] = {
    ord(code): name
    for code, name in (
        ("(", "mark"), (".", "stop"), ("0", "pop"), ("1", "pop_mark"), ("2", "dup"),
        ("F", "float"), ("I", "int"), ("J", "binint"), ("K", "binint1"), ("L", "long"),
        ("M", "binint2"), ("N", "none"), ("P", "persid"), ("Q", "binpersid"), ("R", "reduce"),
        ("S", "string"), ("T", "binstring"), ("U", "short_binstring"), ("V", "unicode"),
        ("X", "binunicode"), ("a", "append"), ("b", "build"), ("c", "global"), ("d", "dict"),
        ("}", "empty_dict"), ("e", "appends"), ("g", "get"), ("h", "binget"), ("i", "inst"),
        ("j", "long_binget"), ("l", "list"), ("]", "empty_list"), ("o", "obj"), ("p", "put"),
        ("q", "binput"), ("r", "long_binput"), ("s", "setitem"), ("t", "tuple"),
        (")", "empty_tuple"), ("u", "setitems"), ("G", "binfloat"), ("B", "binbytes"),
        ("C", "short_binbytes"), ("\x80", "proto"), ("\x81", "newobj"), ("\x82", "ext1"),
        ("\x83", "ext2"), ("\x84", "ext4"), ("\x85", "tuple1"), ("\x86", "tuple2"),
        ("\x87", "tuple3"), ("\x88", "true"), ("\x89", "false"), ("\x8a", "long1"),
        ("\x8b", "long4"), ("\x8c", "short_binunicode"), ("\x8d", "binunicode8"),
        ("\x8e", "binbytes8"), ("\x8f", "empty_set"), ("\x90", "additems"),
        ("\x91", "frozenset"), ("\x92", "newobj_ex"), ("\x93", "stack_global"),
        ("\x94", "memoize"), ("\x95", "frame"), ("\x96", "bytearray8"),
        ("\x97", "next_buffer"), ("\x98", "readonly_buffer"),
    )
}  # fmt: skip
"""Every opcode CPython's Unpickler knows, by byte, with the handler's name."""


@dataclass(frozen=True, slots=True)
class Stream:
    """One pickle stream as interpreted: ``[start, end)`` and how it ended."""

    start: int
    end: int  # after STOP, or the offset of the failing opcode
    ops: int
    stopped: bool = False  # reached STOP
    value: Any = None  # what STOP returned
    error: str | None = None  # the loader's error at ``end`` when not stopped
    budget: str | None = None  # set when a budget ran out (the stream is unfinished)


class PickleVM(CallOps, DataOps):
    """Interpret pickle streams in ``data`` symbolically; see the module docstring."""

    def __init__(self, data: memoryview, *, max_ops: int, max_memo: int) -> None:
        super().__init__(data, max_memo=max_memo)
        self.ops_left = max_ops
        self.ops_total = 0

    def _invalid(self, at: int) -> int:
        raise PickleError(at, f"invalid load key, {bytes([self.data[at]])!r}")

    def run(self, start: int) -> Stream:
        """Interpret one stream from ``start`` with fresh unpickler state."""
        self.reset()
        return self._loop(start)

    def run_nested(self, start: int) -> Stream:
        """Interpret a stream inside another one (joblib object arrays), keeping outer state."""
        saved = self.save()
        self.reset()
        try:
            return self._loop(start)
        finally:
            self.restore(saved)

    def _loop(self, start: int) -> Stream:
        table, data, size = _dispatch_table(), self.data, self.size
        pos = start
        done = 0
        i = -1
        try:
            while True:
                chunk = min(self.ops_left - done, _CHUNK)
                if chunk <= 0:
                    raise BudgetExceeded(f"more than {self.ops_total + done} pickle opcodes")
                for i in range(chunk):  # noqa: B007 - i is the op count when a handler raises
                    if pos >= size:
                        raise PickleError(pos, "pickle data was truncated")
                    pos = table[data[pos]](self, pos)
                done += chunk
                i = -1
                if len(self.stack) > self.max_memo or len(self.marks) > self.max_memo:
                    raise BudgetExceeded(f"stack deeper than {self.max_memo} (budget)")
        except StopStream as stop:
            return self._ended(start, stop.end, done + i + 1, value=stop.value, stopped=True)
        except PickleError as exc:
            return self._ended(start, exc.offset, done + i + 1, error=exc.message)
        except BudgetExceeded as exc:
            return self._ended(start, pos, done + i + 1, budget=str(exc))
        except (IndexError, ValueError, OverflowError, MemoryError) as exc:
            # Reads past the end of the input (truncation) or numbers no loader accepts.
            return self._ended(start, pos, done + i + 1, error=f"{type(exc).__name__}: {exc}")

    def _ended(self, start: int, end: int, ops: int, **how: Any) -> Stream:
        self.ops_left -= ops
        self.ops_total += ops
        return Stream(start, end, ops, **how)


@cache
def _dispatch_table() -> list[Callable[[PickleVM, int], int]]:
    """Opcode byte -> unbound handler; unknown bytes raise like the loader does."""
    table: list[Callable[[PickleVM, int], int]] = [PickleVM._invalid] * 256
    for code, name in OPCODE_NAMES.items():
        table[code] = getattr(PickleVM, f"op_{name}")
    return table
