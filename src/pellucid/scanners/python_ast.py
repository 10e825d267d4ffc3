"""Walk a parsed Python module and report what it would do when run.

Names are resolved through ``python_resolve`` (aliases, getattr, __import__ ...) and matched
against the tables of ``python_names``. Nothing is imported or executed; the walk is
iterative (``ast.walk``), so deeply nested input cannot exhaust the interpreter stack.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass

from pellucid.model import Severity
from pellucid.scanners import python_names as names
from pellucid.scanners.python_names import Family
from pellucid.scanners.python_resolve import (
    CHR_RUN,
    Resolver,
    chr_over_literals,
    int_list,
    is_chr,
    literal,
)

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
        self._names = Resolver(self._nodes)
        self.qualify = self._names.qualify
        self._hits: dict[tuple[Family, int], Hit] = {}
        self._chr_lines: dict[int, int] = {}

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
            elif isinstance(node, ast.GeneratorExp | ast.ListComp) and chr_over_literals(node):
                self._hit(
                    Family.OBFUSCATION,
                    node,
                    "chr() over a list of integers builds a string",
                    Severity.MEDIUM,
                )
            elif isinstance(node, ast.ImportFrom):
                self._star_import(node)
        for line, count in self._chr_lines.items():
            if count >= CHR_RUN:
                self._hits.setdefault(
                    (Family.OBFUSCATION, line),
                    Hit(
                        Family.OBFUSCATION,
                        line,
                        f"{count} chr() calls spell out a string",
                        Severity.MEDIUM,
                    ),
                )
        return sorted(self._hits.values(), key=lambda h: (h.line, h.family.value))

    # -- checks ----------------------------------------------------------------------------

    def _hit(
        self, family: Family, node: ast.AST, detail: str, severity: Severity | None = None
    ) -> None:
        line = getattr(node, "lineno", 1)
        function = self._names.function_of.get(id(node), "")
        if (
            family is Family.FILE_WRITE
            and _SAVE_FUNCTION.match(function)
            and (function not in self._names.called_at_import)
        ):
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
        if name in names.EXECUTORS and call.args and self._names.obfuscated(call.args[0]):
            self._hit(Family.OBFUSCATED_EXEC, call, f"{name}() of decoded or obfuscated data")
            return
        if name in names.IMPORTERS:
            if not call.args or literal(call.args[0]) is None:
                self._hit(Family.DYNAMIC_IMPORT, call, f"{name}() with a computed module name")
            return
        for check in (self._loader_call, self._open_call, self._patch_call, self._environ_call):
            if check(name, call):
                return
        family = names.call_family(name)
        if family is Family.DYNAMIC_EXEC:
            what = "a literal" if call.args and literal(call.args[0]) else "a computed value"
            self._hit(family, call, f"{name}() of {what}")
        elif family is not None:
            self._hit(family, call, f"call to {name}()")
        elif (
            name == "map"
            and len(call.args) == 2
            and is_chr(call.args[0])
            and int_list(call.args[1])
        ):
            self._hit(Family.OBFUSCATION, call, "map(chr, [...]) builds a string", Severity.MEDIUM)

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
                self._hit(
                    Family.DESERIALISE,
                    call,
                    f"{name}() without weights_only=True "
                    "(safe only where torch >= 2.6 makes it the default)",
                    Severity.LOW,
                )
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
        if call.args and self.qualify(call.args[0]) == "os.devnull":
            return True  # silencing output is not writing a file
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
            key = literal(call.args[0]) if call.args else None
            if key is not None and names.SECRET_ENV.search(key):
                self._hit(Family.CREDENTIALS, call, f"reads secret environment variable {key}")
            return True
        whole = name in names.ENV_DUMPS or (
            name == "dict" and call.args != [] and self.qualify(call.args[0]) == "os.environ"
        )
        if whole:  # usually handed to a subprocess; exfiltration needs the network too
            self._hit(
                Family.CREDENTIALS, call, "copies the whole process environment", Severity.LOW
            )
        return whole

    def _environ_read(self, node: ast.Subscript) -> None:
        key = literal(node.slice)
        if (
            key is not None
            and names.SECRET_ENV.search(key)
            and self.qualify(node.value) in ("os.environ", "os.environb")
        ):
            self._hit(Family.CREDENTIALS, node, f"reads secret environment variable {key}")

    def _constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, str):
            found = names.CREDENTIAL_PATHS.search(value[:4096])
            if found:
                self._hit(
                    Family.CREDENTIALS,
                    node,
                    f"names credential path {found.group()!r}",
                    Severity.HIGH,
                )
            if _looks_encoded(value):
                self._hit(Family.OBFUSCATION, node, f"{len(value)}-character encoded string")
        elif isinstance(value, bytes) and len(value) >= 200:
            binary = sum(1 for b in value[:4096] if b < 9 or 13 < b < 32 or b > 126)
            if binary * 10 > min(len(value), 4096) * 3:
                self._hit(Family.OBFUSCATION, node, f"{len(value)}-byte binary constant")

    def _patch_targets(self, node: ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Delete) -> None:
        targets: Iterable[ast.expr] = (
            node.targets if isinstance(node, ast.Assign | ast.Delete) else (node.target,)
        )
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
        if names.under(name, names.HARMLESS_PATCHES):
            return False
        if name == "builtins" or names.under(name, names.PATCH_TARGETS):
            return True
        return not strict and not name.startswith(".") and name in self._names.aliases.values()

    def _star_import(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module and any(a.name == "*" for a in node.names):
            family = names.module_family(node.module)
            if family is not None:
                self._hit(family, node, f"imports every name from {node.module}")


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
        text = literal(node)
        if (
            text is not None
            and len(text) <= 4
            and set(text) <= set("rwaxbtU+")
            and (set(text) & set("wax+"))
        ):
            return True
    return False


def _looks_encoded(text: str) -> bool:
    """Long base64 / hex text: a payload kept out of a reviewer's sight."""
    if len(text) < 200:
        return False
    compact = "".join(text.split())  # base64 is often wrapped; prose has spaces everywhere
    if (len(text) - len(compact)) * 20 > len(text) or not names.ENCODED_TEXT.fullmatch(compact):
        return False
    sample = compact[:4096]
    classes = sum(
        (
            any(c.isupper() for c in sample),
            any(c.islower() for c in sample),
            any(c.isdigit() for c in sample),
        )
    )
    return len(set(sample)) >= 12 and classes >= 2
