"""Walk a parsed Python module and report what it would do when run, with alias tracking.

``import os as o``, ``from subprocess import Popen as P``, ``getattr(os, "system")``,
``__import__("os")``, ``vars(builtins)["exec"]`` and simple assignments (``run = o.system``)
all resolve to the dotted names of ``python_names``. Nothing is imported or executed; the walk
is iterative (``ast.walk``), so deeply nested input cannot exhaust the interpreter stack.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass

from pellucid.model import Severity
from pellucid.scanners import python_names as names
from pellucid.scanners.python_names import Family

_MAX_DEPTH = 8  # nested resolution steps (getattr(__import__("os"), "system") is three)
_MAX_ROUNDS = 4  # passes over assignments, so that ``a = os; b = a.system`` resolves
_CHR_RUN = 4  # chr(<int>) calls on one line that spell out a string
# Writes inside these functions run when the user saves (save_vocabulary, save_pretrained),
# not when the model loads: still reported, at LOW.
_SAVE_FUNCTION = re.compile(r"_?(?:save|write|export|dump)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Hit:
    """One behaviour seen at one line; ``severity`` overrides the family's rule default."""

    family: Family
    line: int
    detail: str
    severity: Severity | None = None


class SourceWalk:
    """The analysis of one module: collect aliases, then look at every node once."""

    def __init__(self, tree: ast.Module) -> None:
        self._nodes = list(ast.walk(tree))
        self.aliases: dict[str, str] = {}
        self._stars: list[str] = []
        self._defined: set[str] = set()
        self._tainted: set[str] = set()
        self._hits: dict[tuple[Family, int], Hit] = {}
        self._chr_lines: dict[int, int] = {}
        self._function_of: dict[int, str] = {}  # id(node) -> innermost enclosing function
        self._collect_bindings()
        self._called_at_import = {  # functions the module itself calls while being imported
            n.func.id for n in self._nodes if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Name) and id(n) not in self._function_of}

    def run(self) -> list[Hit]:
        """Every hit, in line order."""
        for node in self._nodes:
            if isinstance(node, ast.Call):
                self._call(node)
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
                self._environ_read(node)
            elif isinstance(node, ast.Constant):
                self._constant(node)
            elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Delete):
                self._patch_targets(node)
            elif isinstance(node, ast.GeneratorExp | ast.ListComp) and _chr_over_literals(node):
                self._hit(Family.OBFUSCATION, node, "chr() over a list of integers builds a "
                          "string", Severity.MEDIUM)
            elif isinstance(node, ast.ImportFrom):
                self._star_import(node)
        for line, count in self._chr_lines.items():
            if count >= _CHR_RUN:
                self._hits.setdefault((Family.OBFUSCATION, line), Hit(
                    Family.OBFUSCATION, line, f"{count} chr() calls spell out a string",
                    Severity.MEDIUM))
        return sorted(self._hits.values(), key=lambda h: (h.line, h.family.value))

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
                        self._stars.append(module)
                    else:
                        self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}"
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                self._defined.add(node.name)
                if not isinstance(node, ast.ClassDef):  # BFS: inner functions come later
                    for child in ast.walk(node):
                        self._function_of[id(child)] = node.name
            elif isinstance(node, ast.arg):
                self._defined.add(node.arg)
            elif isinstance(node, ast.Assign):
                assignments.extend(_pairs(node.targets, node.value))
            elif isinstance(node, ast.AnnAssign | ast.NamedExpr) and node.value is not None:
                assignments.append((node.target, node.value))
        for _ in range(_MAX_ROUNDS):
            before = (len(self.aliases), len(self._tainted))
            for target, value in assignments:
                self._bind(target, value)
            if (len(self.aliases), len(self._tainted)) == before:
                break

    def _bind(self, target: ast.expr, value: ast.expr) -> None:
        if not isinstance(target, ast.Name):
            return
        resolved = self.qualify(value)
        if resolved is not None:
            self.aliases.setdefault(target.id, resolved)
        else:
            self._defined.add(target.id)
        if target.id not in self._tainted and self._obfuscated(value):
            self._tainted.add(target.id)

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
        if name in names.BUILTINS and name not in self._defined:
            return name
        for module in self._stars:
            if not module.startswith(".") and names.call_family(f"{module}.{name}"):
                return f"{module}.{name}"
        return None

    def _call_value(self, call: ast.Call, depth: int) -> str | None:
        """What a call returns, for the calls that return a module or attribute by name."""
        func = self.qualify(call.func, depth + 1)
        first = _literal(call.args[0]) if call.args else None
        if func in names.IMPORTERS:
            return first
        if func == "getattr" and len(call.args) >= 2:
            owner = self.qualify(call.args[0], depth + 1)
            attr = _literal(call.args[1])
            return f"{owner}.{attr}" if owner and attr else None
        if func == "vars" and call.args:
            return self.qualify(call.args[0], depth + 1)
        if func == "globals":
            return "<globals>"
        return None

    def _subscript_value(self, node: ast.Subscript, depth: int) -> str | None:
        key = _literal(node.slice)
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

    def _obfuscated(self, expr: ast.expr) -> bool:
        """``expr`` contains decoding, a reversed slice, chr() spelling or a tainted name."""
        for node in ast.walk(expr):
            if isinstance(node, ast.Name) and node.id in self._tainted:
                return True
            if isinstance(node, ast.Subscript) and _reversed_slice(node.slice):
                return True
            if isinstance(node, ast.GeneratorExp | ast.ListComp) and _chr_over_literals(node):
                return True
            if isinstance(node, ast.Call) and self._decodes(node):
                return True
        return False

    def _decodes(self, call: ast.Call) -> bool:
        func = self.qualify(call.func)
        if func in names.DECODERS:
            return True
        if func == "chr" and call.args and isinstance(call.args[0], ast.Constant):
            return True
        if isinstance(call.func, ast.Attribute) and call.func.attr in names.DECODER_METHODS:
            return True
        codec = _literal(call.args[0]) if call.args else None
        return (isinstance(call.func, ast.Attribute) and call.func.attr == "decode"
                and codec is not None and codec.lower().replace("-", "_") in _EXOTIC_CODECS)

    # -- checks ----------------------------------------------------------------------------

    def _hit(self, family: Family, node: ast.AST, detail: str,
             severity: Severity | None = None) -> None:
        line = getattr(node, "lineno", 1)
        function = self._function_of.get(id(node), "")
        if family is Family.FILE_WRITE and _SAVE_FUNCTION.match(function) and (
                function not in self._called_at_import):
            detail, severity = f"{detail} in {function}(), which runs on save", Severity.LOW
        self._hits.setdefault((family, line), Hit(family, line, detail, severity))

    def _call(self, call: ast.Call) -> None:
        name = self.qualify(call.func)
        if name is None:
            self._method(call)
            return
        if name == "chr" and call.args and isinstance(call.args[0], ast.Constant):
            self._chr_lines[call.lineno] = self._chr_lines.get(call.lineno, 0) + 1
            return
        if name in names.EXECUTORS and call.args and self._obfuscated(call.args[0]):
            self._hit(Family.OBFUSCATED_EXEC, call, f"{name}() of decoded or obfuscated data")
            return
        if name in names.IMPORTERS:
            if not call.args or _literal(call.args[0]) is None:
                self._hit(Family.DYNAMIC_IMPORT, call, f"{name}() with a computed module name")
            return
        for check in (self._loader_call, self._open_call, self._patch_call, self._environ_call):
            if check(name, call):
                return
        family = names.call_family(name)
        if family is Family.DYNAMIC_EXEC:
            what = "a literal" if call.args and _literal(call.args[0]) else "a computed value"
            self._hit(family, call, f"{name}() of {what}")
        elif family is not None:
            self._hit(family, call, f"call to {name}()")
        elif name == "map" and len(call.args) == 2 and _is_chr(call.args[0]) and _int_list(
                call.args[1]):
            self._hit(Family.OBFUSCATION, call, "map(chr, [...]) builds a string",
                      Severity.MEDIUM)

    def _method(self, call: ast.Call) -> None:
        if not isinstance(call.func, ast.Attribute):
            return
        attr = call.func.attr
        family = names.METHODS.get(attr)
        if family is not None:
            self._hit(family, call, f"call to .{attr}()")
        elif attr == "open" and _write_mode(call, positions=(0, 1)):
            self._hit(Family.FILE_WRITE, call, "opens a file for writing")

    def _loader_call(self, name: str, call: ast.Call) -> bool:
        if name in names.TORCH_LOAD:
            flag = _keyword(call, "weights_only")
            if flag is None:
                self._hit(Family.DESERIALISE, call, f"{name}() without weights_only=True "
                          "(safe only where torch >= 2.6 makes it the default)", Severity.LOW)
            elif _literal_value(flag) is not True:
                self._hit(Family.DESERIALISE, call, f"{name}() with weights_only not True")
            return True
        if name in names.NUMPY_LOAD:
            flag = _keyword(call, "allow_pickle")
            if flag is not None and _literal_value(flag) is not False:
                self._hit(Family.DESERIALISE, call, f"{name}() with allow_pickle")
            return True
        if name in names.YAML_LOAD:
            loader = _keyword(call, "Loader") or (call.args[1] if len(call.args) > 1 else None)
            resolved = None if loader is None else (self.qualify(loader) or _name_of(loader))
            if resolved is None or resolved.split(".")[-1] not in names.SAFE_YAML_LOADERS:
                self._hit(Family.DESERIALISE, call, f"{name}() without a safe Loader")
            return True
        return False

    def _open_call(self, name: str, call: ast.Call) -> bool:
        if name not in names.OPENERS:
            return False
        if _write_mode(call, positions=(1,)):
            self._hit(Family.FILE_WRITE, call, f"{name}() opens a file for writing")
        return True

    def _patch_call(self, name: str, call: ast.Call) -> bool:
        if name in ("setattr", "delattr") and call.args:
            target = self.qualify(call.args[0])
            if target is not None and self._patchable(target, strict=False):
                self._hit(Family.PATCH, call, f"{name}() on module {target}")
            return True
        if names.under(name, names.IMPORT_HOOKS):
            self._hit(Family.PATCH, call, f"call to {name}() installs an import hook")
            return True
        return False

    def _environ_call(self, name: str, call: ast.Call) -> bool:
        if name in names.ENV_GETTERS:
            key = _literal(call.args[0]) if call.args else None
            if key is not None and names.SECRET_ENV.search(key):
                self._hit(Family.CREDENTIALS, call, f"reads secret environment variable {key}")
            return True
        whole = name in names.ENV_DUMPS or (
            name == "dict" and call.args != [] and self.qualify(call.args[0]) == "os.environ")
        if whole:
            self._hit(Family.CREDENTIALS, call, "copies the whole process environment")
        return whole

    def _environ_read(self, node: ast.Subscript) -> None:
        key = _literal(node.slice)
        if key is not None and names.SECRET_ENV.search(key) and self.qualify(node.value) in (
                "os.environ", "os.environb"):
            self._hit(Family.CREDENTIALS, node, f"reads secret environment variable {key}")

    def _constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, str):
            found = names.CREDENTIAL_PATHS.search(value[:4096])
            if found:
                self._hit(Family.CREDENTIALS, node, f"names credential path {found.group()!r}",
                          Severity.HIGH)
            if _looks_encoded(value):
                self._hit(Family.OBFUSCATION, node, f"{len(value)}-character encoded string")
        elif isinstance(value, bytes) and len(value) >= 200:
            binary = sum(1 for b in value[:4096] if b < 9 or 13 < b < 32 or b > 126)
            if binary * 10 > min(len(value), 4096) * 3:
                self._hit(Family.OBFUSCATION, node, f"{len(value)}-byte binary constant")

    def _patch_targets(self, node: ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Delete) -> None:
        targets: Iterable[ast.expr] = (
            node.targets if isinstance(node, ast.Assign | ast.Delete) else (node.target,))
        for target in targets:
            owner: str | None = None
            if isinstance(target, ast.Attribute):
                base = self.qualify(target.value)
                owner = None if base is None else f"{base}.{target.attr}"
            elif isinstance(target, ast.Subscript):
                base = self.qualify(target.value)
                owner = base if base in ("sys.modules", "builtins") else None
            if owner is not None and (owner.startswith("builtins") or self._patchable(owner)):
                self._hit(Family.PATCH, node, f"replaces {owner}")

    def _patchable(self, name: str, *, strict: bool = True) -> bool:
        """Replacing ``name`` changes other code: a sensitive module or, for setattr, any
        imported (non-relative) module or object."""
        if name == "builtins" or names.under(name, names.PATCH_TARGETS):
            return True
        return not strict and not name.startswith(".") and name in self.aliases.values()

    def _star_import(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module and any(a.name == "*" for a in node.names):
            family = names.module_family(node.module)
            if family is not None:
                self._hit(family, node, f"imports every name from {node.module}")


_EXOTIC_CODECS = frozenset({"rot13", "rot_13", "hex", "hex_codec", "base64", "base64_codec",
                            "zlib", "zlib_codec", "bz2", "bz2_codec", "uu", "uu_codec"})


def _pairs(targets: list[ast.expr], value: ast.expr) -> list[tuple[ast.expr, ast.expr]]:
    pairs: list[tuple[ast.expr, ast.expr]] = []
    for target in targets:
        if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(
                target.elts) == len(value.elts):
            pairs.extend(zip(target.elts, value.elts, strict=True))
        else:
            pairs.append((target, value))
    return pairs


def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _literal_value(node: ast.expr) -> object:
    return node.value if isinstance(node, ast.Constant) else ...


def _name_of(node: ast.expr) -> str | None:
    return node.id if isinstance(node, ast.Name) else None


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _write_mode(call: ast.Call, positions: tuple[int, ...]) -> bool:
    candidates = [call.args[i] for i in positions if i < len(call.args)]
    mode = _keyword(call, "mode")
    if mode is not None:
        candidates.append(mode)
    for node in candidates:
        text = _literal(node)
        if text is not None and len(text) <= 4 and set(text) <= set("rwaxbtU+") and (
                set(text) & set("wax+")):
            return True
    return False


def _reversed_slice(node: ast.expr) -> bool:
    if not isinstance(node, ast.Slice) or node.step is None:
        return False
    step = node.step
    return isinstance(step, ast.UnaryOp) and isinstance(step.op, ast.USub) and isinstance(
        step.operand, ast.Constant) and step.operand.value == 1


def _is_chr(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "chr"


def _int_list(node: ast.expr) -> bool:
    return isinstance(node, ast.List | ast.Tuple) and len(node.elts) >= _CHR_RUN and all(
        isinstance(e, ast.Constant) and isinstance(e.value, int) for e in node.elts)


def _chr_over_literals(node: ast.GeneratorExp | ast.ListComp) -> bool:
    elt = node.elt
    return (isinstance(elt, ast.Call) and _is_chr(elt.func) and len(node.generators) == 1
            and _int_list(node.generators[0].iter))


def _looks_encoded(text: str) -> bool:
    """Long base64 / hex text: a payload kept out of a reviewer's sight."""
    if len(text) < 200:
        return False
    compact = "".join(text.split())  # base64 is often wrapped; prose has spaces everywhere
    if (len(text) - len(compact)) * 20 > len(text) or not names.ENCODED_TEXT.fullmatch(compact):
        return False
    sample = compact[:4096]
    classes = sum((any(c.isupper() for c in sample), any(c.islower() for c in sample),
                   any(c.isdigit() for c in sample)))
    return len(set(sample)) >= 12 and classes >= 2
