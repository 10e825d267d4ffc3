"""Opcode handlers that import, call, or write into objects.

These are the opcodes that make a pickle dangerous, so every one of them leaves an event with
its byte offset: ``globals`` for imports, ``calls`` for REDUCE/INST/OBJ/NEWOBJ(_EX),
``builds`` for BUILD, and ``mutations`` for state written into imported objects.
"""

from __future__ import annotations

from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from typing import Any

from pellucid.formats.pickle_machine import Machine, PickleError
from pellucid.formats.pickle_values import CONTAINERS, Call, Ext, Global, Mutation, PersId

# CPython's copyreg extension registry is empty unless a program registers codes at run time;
# a stream that relies on one either fails to load or depends on state the attacker may control.
EXTENSION_REGISTRY: dict[int, tuple[str, str]] = {}


class CallOps(Machine):
    """GLOBAL, STACK_GLOBAL, INST, OBJ, NEWOBJ(_EX), REDUCE, BUILD, PERSID, EXT, SETITEM(S) ..."""

    def resolve(self, at: int, module: str, qualname: str, computed: Any = None) -> Global:
        """``find_class``: Python 2 names are mapped below protocol 3, as ``fix_imports`` does."""
        if self.proto < 3:
            mapped = NAME_MAPPING.get((module, qualname))
            if mapped is not None:
                module, qualname = mapped
            else:
                module = IMPORT_MAPPING.get(module, module)
        found = Global(module, qualname, at, computed)
        self.globals.append(found)
        return found

    def op_global(self, at: int) -> int:
        module, nxt = self.text_line(at, at + 1)
        qualname, nxt = self.text_line(at, nxt)
        self.stack.append(self.resolve(at, module, qualname))
        return nxt

    def op_stack_global(self, at: int) -> int:
        qualname = self.pop(at)
        module = self.pop(at)
        if type(module) is str and type(qualname) is str:
            self.stack.append(self.resolve(at, module, qualname))
            return at + 1
        if _literal(module) or _literal(qualname):
            raise PickleError(at, "STACK_GLOBAL requires str")
        # Operands computed at load time (a call result, a persistent id ...): name unknown.
        computed = Call(Global("<stack>", "STACK_GLOBAL", at), (module, qualname), "STACK", at)
        self.stack.append(self.resolve(at, "<computed>", "<computed>", computed))
        return at + 1

    def op_inst(self, at: int) -> int:
        mark = self.pop_mark(at)
        module, nxt = self.text_line(at, at + 1)
        qualname, nxt = self.text_line(at, nxt)
        cls = self.resolve(at, module, qualname)
        args = tuple(self.stack[mark:])
        del self.stack[mark:]
        self._call(at, cls, args, "INST")
        return nxt

    def op_obj(self, at: int) -> int:
        mark = self.pop_mark(at)
        if len(self.stack) - mark < 1:
            raise PickleError(at, "unpickling stack underflow")
        cls = self.stack[mark]
        args = tuple(self.stack[mark + 1 :])
        del self.stack[mark:]
        self._call(at, cls, args, "OBJ")
        return at + 1

    def op_newobj(self, at: int) -> int:
        args = self.pop(at)
        cls = self.pop(at)
        if _literal(args) and type(args) is not tuple:
            raise PickleError(at, "NEWOBJ expected an arg tuple")
        self._call(at, cls, args, "NEWOBJ")
        return at + 1

    def op_newobj_ex(self, at: int) -> int:
        kwargs = self.pop(at)
        args = self.pop(at)
        cls = self.pop(at)
        self._call(at, cls, args, "NEWOBJ_EX", kwargs)
        return at + 1

    def op_reduce(self, at: int) -> int:
        args = self.pop(at)
        func = self.pop(at)
        self._call(at, func, args, "REDUCE")
        return at + 1

    def _call(self, at: int, func: Any, args: Any, op: str, kwargs: Any = None) -> None:
        call = Call(func, args, op, at, kwargs)
        self.calls.append(call)
        self.stack.append(call)

    def op_build(self, at: int) -> int:
        if len(self.stack) - 2 < self.fence:
            raise PickleError(at, "unpickling stack underflow")
        state = self.stack.pop()
        target = self.stack[-1]
        event = Mutation(target, state, "BUILD", at)
        self.builds.append(event)
        if isinstance(target, (Global, Ext)):
            self.mutations.append(event)
        if self.after_build is not None:
            return self.after_build(target, state, at + 1)
        return at + 1

    def op_persid(self, at: int) -> int:
        raw, nxt = self.line(at, at + 1)
        try:
            pid = raw.decode("ascii")
        except UnicodeDecodeError:
            raise PickleError(at, "persistent IDs in protocol 0 must be ASCII strings") from None
        self._persid(at, pid)
        return nxt

    def op_binpersid(self, at: int) -> int:
        self._persid(at, self.pop(at))
        return at + 1

    def _persid(self, at: int, pid: Any) -> None:
        self.persids.append((at, pid))
        self.stack.append(PersId(pid))

    def op_ext1(self, at: int) -> int:
        return self._ext(at, self.uint(at, at + 1, 1), at + 2)

    def op_ext2(self, at: int) -> int:
        return self._ext(at, self.uint(at, at + 1, 2), at + 3)

    def op_ext4(self, at: int) -> int:
        return self._ext(at, self.uint(at, at + 1, 4), at + 5)

    def _ext(self, at: int, code: int, nxt: int) -> int:
        if code <= 0:
            raise PickleError(at, "EXT specifies code <= 0")
        self.exts.append((at, code))
        known = EXTENSION_REGISTRY.get(code)
        self.stack.append(Ext(code) if known is None else self.resolve(at, *known))
        return nxt

    # ---- writes into existing objects --------------------------------------------------

    def op_setitem(self, at: int) -> int:
        return self._setitems(at, len(self.stack) - 2)

    def op_setitems(self, at: int) -> int:
        return self._setitems(at, self.pop_mark(at))

    def _setitems(self, at: int, start: int) -> int:
        stack = self.stack
        if start > len(stack) or start <= self.fence:
            raise PickleError(at, "unpickling stack underflow")
        if (len(stack) - start) % 2:
            raise PickleError(at, "odd number of items for SETITEMS")
        items = stack[start:]
        del stack[start:]
        target = stack[-1]
        pairs = zip(items[::2], items[1::2], strict=True)
        if isinstance(target, CONTAINERS):
            target.extend(pairs)
        else:
            self._mutated(at, target, "SETITEM", list(pairs))
        return at + 1

    def op_append(self, at: int) -> int:
        return self._appends(at, len(self.stack) - 1)

    def op_appends(self, at: int) -> int:
        return self._appends(at, self.pop_mark(at))

    def op_additems(self, at: int) -> int:
        return self._appends(at, self.pop_mark(at), "ADDITEMS")

    def _appends(self, at: int, start: int, op: str = "APPEND") -> int:
        stack = self.stack
        if start > len(stack) or start <= self.fence:
            raise PickleError(at, "unpickling stack underflow")
        items = stack[start:]
        del stack[start:]
        target = stack[-1]
        if isinstance(target, CONTAINERS):
            target.extend(items)
        elif items:
            self._mutated(at, target, op, items)
        return at + 1

    def _mutated(self, at: int, target: Any, op: str, state: Any) -> None:
        # __setitem__/extend/append/add of an object the pickle built runs that object's own
        # method (ordinary for OrderedDict and friends); on an imported object it rewrites it.
        if isinstance(target, (Global, Ext)):
            self.mutations.append(Mutation(target, state, op, at))


def _literal(value: Any) -> bool:
    """True for values that are certainly not a str at load time."""
    return isinstance(value, (int, float, bytes, bytearray, tuple, list)) or value is None
