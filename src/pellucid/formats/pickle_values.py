"""Symbolic values of the pickle VM and their rendering as Python-like text.

The VM never builds real objects. Literals (int, float, str, small bytes, None, bools, tuples,
lists) are kept as the Python values they denote; everything a loader would import or call is a
symbol: ``Global``, ``Call``, ``PersId``, ``Ext``. Dicts and sets are lists of their items,
because symbolic keys need not be hashable. Big byte strings stay in the input as ``Window``s.
"""

from __future__ import annotations

from typing import Any

SNIPPET_LIMIT = 200
_MAX_DEPTH = 8


class Global:
    """A name a loader imports: ``module.qualname`` (GLOBAL, STACK_GLOBAL, INST, EXT)."""

    __slots__ = ("computed", "module", "offset", "qualname")

    def __init__(self, module: str, qualname: str, offset: int, computed: Any = None) -> None:
        self.module = module
        self.qualname = qualname
        self.offset = offset
        self.computed = computed  # the symbolic operands when STACK_GLOBAL got non-literals

    @property
    def key(self) -> tuple[str, str]:
        return (self.module, self.qualname)


class Call:
    """``func(*args, **kwargs)`` as REDUCE, INST, OBJ, NEWOBJ or NEWOBJ_EX would perform it."""

    __slots__ = ("args", "func", "kwargs", "offset", "op")

    def __init__(self, func: Any, args: Any, op: str, offset: int, kwargs: Any = None) -> None:
        self.func = func
        self.args = args
        self.op = op
        self.offset = offset
        self.kwargs = kwargs


class Mutation:
    """State written into an object the pickle did not build itself (BUILD, SETITEM, APPEND)."""

    __slots__ = ("offset", "op", "state", "target")

    def __init__(self, target: Any, state: Any, op: str, offset: int) -> None:
        self.target = target
        self.state = state
        self.op = op
        self.offset = offset


class PersId:
    """The opaque result of ``persistent_load(pid)`` (PERSID, BINPERSID)."""

    __slots__ = ("pid",)

    def __init__(self, pid: Any) -> None:
        self.pid = pid


class Ext:
    """An object fetched from the copyreg extension registry by code (EXT1/2/4)."""

    __slots__ = ("code",)

    def __init__(self, code: int) -> None:
        self.code = code


class Window:
    """A long bytes/str/bytearray literal left in the input: ``length`` bytes at ``offset``."""

    __slots__ = ("kind", "length", "offset")

    def __init__(self, offset: int, length: int, kind: str) -> None:
        self.offset = offset
        self.length = length
        self.kind = kind  # "bytes", "str" (undecoded UTF-8) or "bytearray"


class Opaque:
    """A value the VM cannot model (out-of-band buffer, joblib array, huge int)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class PDict(list[Any]):
    """A dict as the list of its ``(key, value)`` pairs."""

    __slots__ = ()


class PSet(list[Any]):
    """A set as the list of its items."""

    __slots__ = ()


class PFrozenSet(tuple[Any, ...]):
    """A frozenset as the tuple of its items."""

    __slots__ = ()


CONTAINERS = (list, PDict, PSet)
"""Types whose mutation by SETITEM/APPEND/ADDITEMS is ordinary data building."""


def global_root(value: Any) -> Global | None:
    """The Global a callable comes from, looking through ``Call``s of it (``f(...)(...)``)."""
    for _ in range(_MAX_DEPTH):
        if isinstance(value, Global):
            return value
        if not isinstance(value, Call):
            return None
        value = value.func
    return None


def render(value: Any, limit: int = SNIPPET_LIMIT) -> str:
    """Python-like text for a symbolic value, cut to about ``limit`` characters."""
    out: list[str] = []
    _Renderer(out, limit + 1).value(value, 0)
    text = "".join(out)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Renderer:
    __slots__ = ("left", "out")

    def __init__(self, out: list[str], left: int) -> None:
        self.out = out
        self.left = left

    def put(self, text: str) -> None:
        self.out.append(text)
        self.left -= len(text)

    def value(self, value: Any, depth: int) -> None:
        if self.left <= 0:
            return
        if depth > _MAX_DEPTH:
            self.put("…")
        elif isinstance(value, Global):
            self.put(_global_text(value))
        elif isinstance(value, Call):
            self.call(value, depth)
        elif isinstance(value, (PDict, PSet, PFrozenSet, list, tuple)):
            self.container(value, depth)
        elif isinstance(value, PersId):
            self.put("persistent_load(")
            self.value(value.pid, depth + 1)
            self.put(")")
        else:
            self.put(_leaf_text(value))

    def call(self, call: Call, depth: int) -> None:
        self.value(call.func, depth + 1)
        if call.op in ("NEWOBJ", "NEWOBJ_EX"):
            self.put(".__new__")
        self.put("(")
        args = call.args if isinstance(call.args, tuple) else (_Star(call.args),)
        self.items(args, depth, ")")
        if call.kwargs is not None:
            self.put(", **" if args else "**")
            self.value(call.kwargs, depth + 1)
        self.put(")")

    def container(self, value: Any, depth: int) -> None:
        if isinstance(value, PDict):
            self.put("{")
            for i, (key, item) in enumerate(value):
                if self.left <= 0:
                    return
                self.put(", " if i else "")
                self.value(key, depth + 1)
                self.put(": ")
                self.value(item, depth + 1)
            self.put("}")
            return
        opener, closer = _BRACKETS.get(type(value), ("(", ")"))
        self.put(opener)
        self.items(value, depth, closer)
        if type(value) is tuple and len(value) == 1:
            self.put(",")
        self.put(closer)

    def items(self, items: Any, depth: int, closer: str) -> None:
        for i, item in enumerate(items):
            if self.left <= 0:
                return
            self.put(", " if i else "")
            if isinstance(item, _Star):
                self.put("*")
                item = item.inner
            self.value(item, depth + 1)


class _Star:
    __slots__ = ("inner",)

    def __init__(self, inner: Any) -> None:
        self.inner = inner


_BRACKETS: dict[type, tuple[str, str]] = {
    list: ("[", "]"),
    PSet: ("{", "}"),
    PFrozenSet: ("frozenset({", "})"),
}


def _global_text(value: Global) -> str:
    if value.computed is not None:
        return f"<computed global {render(value.computed, 80)}>"
    return f"{value.module}.{value.qualname}"


def _leaf_text(value: Any) -> str:
    if isinstance(value, Window):
        return f"<{value.kind} of {value.length} bytes at offset {value.offset}>"
    if isinstance(value, Ext):
        return f"<extension {value.code}>"
    if isinstance(value, Opaque):
        return f"<{value.text}>"
    if isinstance(value, Mutation):
        return f"<{value.op}>"
    if isinstance(value, (str, bytes, bytearray)) and len(value) > SNIPPET_LIMIT:
        return repr(value[:SNIPPET_LIMIT])[:-1] + "…'"
    return repr(value)
