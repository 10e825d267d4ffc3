"""Name resolution for the Python source scanner: what a name, attribute or call refers to.

``import os as o``, ``from subprocess import Popen as P``, ``getattr(os, "system")``,
``__import__("os")``, ``vars(builtins)["exec"]``, ``sys.modules["os"]`` and simple assignments
(``run = o.system``) all resolve to the dotted names of ``python_names``. Names assigned from
decoded data (base64, zlib, reversed strings, chr() spelling) are marked tainted. Resolution
depth is bounded, so hostile nesting cannot exhaust the interpreter stack.
"""

from __future__ import annotations

import ast

from pellucid.scanners import python_names as names

_MAX_DEPTH = 8  # nested resolution steps (getattr(__import__("os"), "system") is three)
_MAX_ROUNDS = 4  # passes over assignments, so that ``a = os; b = a.system`` resolves
CHR_RUN = 4  # chr(<int>) calls, or list items under chr(), that spell out a string


class Resolver:
    """Bindings of one module (imports, assignments, definitions) and queries over them."""

    def __init__(self, nodes: list[ast.AST]) -> None:
        self._nodes = nodes
        self.aliases: dict[str, str] = {}
        self.stars: list[str] = []
        self.defined: set[str] = set()
        # Taint is per function (or module) scope: names like ``content`` are reused freely.
        self.tainted: set[tuple[int, str]] = set()  # (scope, name)
        self.function_of: dict[int, str] = {}  # id(node) -> innermost enclosing function
        self.scope_of: dict[int, int] = {}  # id(node) -> id(innermost function node); 0: module
        self._collect_bindings()
        self.called_at_import = {  # functions the module itself calls while being imported
            n.func.id
            for n in nodes
            if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Name)
            and id(n) not in self.function_of
        }

    # -- bindings --------------------------------------------------------------------------

    def _collect_bindings(self) -> None:
        assignments: list[tuple[ast.expr, ast.expr]] = []
        for node in self._nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    top = alias.name.split(".")[0]
                    self.aliases[alias.asname or top] = alias.name if alias.asname else top
            elif isinstance(node, ast.ImportFrom):
                module = "." * node.level + (node.module or "")
                for alias in node.names:
                    if alias.name == "*":
                        self.stars.append(module)
                    else:
                        self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}"
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                self.defined.add(node.name)
                if not isinstance(node, ast.ClassDef):  # BFS: inner functions come later
                    for child in ast.walk(node):
                        self.function_of[id(child)] = node.name
                        self.scope_of[id(child)] = id(node)
            elif isinstance(node, ast.arg):
                self.defined.add(node.arg)
            elif isinstance(node, ast.Assign):
                assignments.extend(_pairs(node.targets, node.value))
            elif isinstance(node, ast.AnnAssign | ast.NamedExpr) and node.value is not None:
                assignments.append((node.target, node.value))
        for _ in range(_MAX_ROUNDS):
            before = (len(self.aliases), len(self.tainted))
            for target, value in assignments:
                self._bind(target, value)
            if (len(self.aliases), len(self.tainted)) == before:
                break

    def _bind(self, target: ast.expr, value: ast.expr) -> None:
        if not isinstance(target, ast.Name):
            return
        resolved = self.qualify(value)
        if resolved is not None:
            self.aliases.setdefault(target.id, resolved)
        else:
            self.defined.add(target.id)
        key = (self.scope_of.get(id(target), 0), target.id)
        if key not in self.tainted and self.obfuscated(value):
            self.tainted.add(key)

    # -- resolution ------------------------------------------------------------------------

    def qualify(self, node: ast.expr, depth: int = 0) -> str | None:
        """The dotted name ``node`` refers to, or None when it cannot be known statically."""
        if depth > _MAX_DEPTH:
            return None
        parts: list[str] = []
        while isinstance(node, ast.Attribute) and len(parts) < 32:
            parts.append(node.attr)
            node = node.value
        base: str | None = None
        if isinstance(node, ast.Name):
            base = self._name(node.id)
        elif isinstance(node, ast.Call):
            base = self._call_value(node, depth)
        elif isinstance(node, ast.Subscript):
            base = self._subscript_value(node, depth)
        if base is None:
            return None
        return names.canonical(".".join([base, *reversed(parts)]))

    def _name(self, name: str) -> str | None:
        if name in self.aliases:
            return self.aliases[name]
        if name == "__builtins__":
            return "builtins"
        if name in names.BUILTINS and name not in self.defined:
            return name
        for module in self.stars:
            if not module.startswith(".") and names.call_family(f"{module}.{name}"):
                return f"{module}.{name}"
        return None

    def _call_value(self, call: ast.Call, depth: int) -> str | None:
        """What a call returns, for the calls that return a module or attribute by name."""
        func = self.qualify(call.func, depth + 1)
        first = literal(call.args[0]) if call.args else None
        if func in names.IMPORTERS:
            return first
        if func == "getattr" and len(call.args) >= 2:
            owner = self.qualify(call.args[0], depth + 1)
            attr = literal(call.args[1])
            return f"{owner}.{attr}" if owner and attr else None
        if func == "vars" and call.args:
            return self.qualify(call.args[0], depth + 1)
        if func == "globals":
            return "<globals>"
        return None

    def _subscript_value(self, node: ast.Subscript, depth: int) -> str | None:
        key = literal(node.slice)
        container = self.qualify(node.value, depth + 1)
        if key is None or container is None:
            return None
        if container == "<globals>":
            return self._name(key)
        if container == "sys.modules":
            return key
        if container == "builtins" or container.endswith(".__dict__"):
            return f"{container.removesuffix('.__dict__')}.{key}"
        return None

    def obfuscated(self, expr: ast.expr) -> bool:
        """``expr`` contains decoding, a reversed slice, chr() spelling or a tainted name."""
        for node in ast.walk(expr):
            if (
                isinstance(node, ast.Name)
                and (
                    self.scope_of.get(id(node), 0),
                    node.id,
                )
                in self.tainted
            ):
                return True
            if isinstance(node, ast.Subscript) and reversed_slice(node.slice):
                return True
            if isinstance(node, ast.GeneratorExp | ast.ListComp) and chr_over_literals(node):
                return True
            if isinstance(node, ast.Call) and self.decodes(node):
                return True
        return False

    def decodes(self, call: ast.Call) -> bool:
        func = self.qualify(call.func)
        if func in names.DECODERS:
            return True
        if func == "chr" and call.args and isinstance(call.args[0], ast.Constant):
            return True
        if isinstance(call.func, ast.Attribute) and call.func.attr in names.DECODER_METHODS:
            return True
        codec = literal(call.args[0]) if call.args else None
        return (
            isinstance(call.func, ast.Attribute)
            and call.func.attr == "decode"
            and codec is not None
            and codec.lower().replace("-", "_") in _EXOTIC_CODECS
        )


_EXOTIC_CODECS = frozenset(
    {
        "rot13",
        "rot_13",
        "hex",
        "hex_codec",
        "base64",
        "base64_codec",
        "zlib",
        "zlib_codec",
        "bz2",
        "bz2_codec",
        "uu",
        "uu_codec",
    }
)


def _pairs(targets: list[ast.expr], value: ast.expr) -> list[tuple[ast.expr, ast.expr]]:
    pairs: list[tuple[ast.expr, ast.expr]] = []
    for target in targets:
        if (
            isinstance(target, ast.Tuple)
            and isinstance(value, ast.Tuple)
            and len(target.elts) == len(value.elts)
        ):
            pairs.extend(zip(target.elts, value.elts, strict=True))
        else:
            pairs.append((target, value))
    return pairs


def literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def reversed_slice(node: ast.expr) -> bool:
    if not isinstance(node, ast.Slice) or node.step is None:
        return False
    step = node.step
    return (
        isinstance(step, ast.UnaryOp)
        and isinstance(step.op, ast.USub)
        and isinstance(step.operand, ast.Constant)
        and step.operand.value == 1
    )


def is_chr(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "chr"


def int_list(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.List | ast.Tuple)
        and len(node.elts) >= CHR_RUN
        and all(isinstance(e, ast.Constant) and isinstance(e.value, int) for e in node.elts)
    )


def chr_over_literals(node: ast.GeneratorExp | ast.ListComp) -> bool:
    elt = node.elt
    return (
        isinstance(elt, ast.Call)
        and is_chr(elt.func)
        and len(node.generators) == 1
        and int_list(node.generators[0].iter)
    )
