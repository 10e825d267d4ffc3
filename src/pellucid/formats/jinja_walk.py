"""The AST walk behind ``analyze_template``: what real chat templates use, and what else is there.

Every node is visited once, iteratively (hostile templates nest deeply). Issues come out as
``(kind, line, snippet, detail)`` tuples, keyed by (kind, line, needle) so a construct repeated on
one line is reported once.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator

from jinja2 import nodes

from pellucid.formats.jinja_fold import StringFolder

IssueTuple = tuple[str, int, str, str]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


MAX_ISSUES = 100
MAX_NODES = 200_000

CALLABLE_GLOBALS = _words("raise_exception strftime_now range namespace dict cycler joiner")
# Names no chat template needs; each is a classic first step of a Jinja SSTI payload.
DANGEROUS_GLOBALS = _words("lipsum self config request url_for get_flashed_messages session")
ALLOWED_FILTERS = _words(
    "abs batch capitalize center count d default dictsort e escape first float forceescape "
    "format groupby indent int items join last length list lower map max min reject "
    "rejectattr replace reverse round safe select selectattr slice sort string striptags sum "
    "title tojson trim truncate unique upper urlencode wordcount wordwrap"
)
ALLOWED_TESTS = _words(
    "!= < <= == > >= boolean callable defined divisibleby eq equalto escaped even false "
    "filter float ge greaterthan gt in integer iterable le lessthan lower lt mapping ne none "
    "number odd sameas sequence string test true undefined upper"
)
ALLOWED_METHODS = _words(
    "strip lstrip rstrip split rsplit splitlines startswith endswith replace upper lower "
    "title capitalize items keys values get append extend insert pop update count index find "
    "rfind join isdigit isalpha isalnum isspace removeprefix removesuffix cycle changed next "
    "reset"
)
# Attributes that lead from an ordinary object to frames, code or globals without a leading "_".
INTERNAL_ATTRS = _words(
    "mro gi_frame gi_code cr_frame cr_code ag_frame ag_code f_globals f_locals f_builtins "
    "f_back f_code tb_frame tb_next func_globals func_code im_func im_self co_code co_consts"
)
# Filters taking a dotted attribute path (Jinja resolves each part with getattr); the value is
# the positional index of that path, -1 when only the ``attribute=`` keyword carries it.
_PATH_FILTERS = {"map": -1, "selectattr": 0, "rejectattr": 0, "groupby": 0, "sort": -1,
                 "unique": -1, "min": -1, "max": -1, "sum": -1, "join": -1}  # fmt: skip
_DUNDER = re.compile(r"__[A-Za-z_]\w*__")


def is_internal_name(name: str) -> bool:
    """True for attribute names that lead to Python internals (``__globals__``, ``mro``...)."""
    return name.startswith("_") or name in INTERNAL_ATTRS


def _children(node: nodes.Node) -> Iterator[nodes.Node]:
    return node.iter_child_nodes()


def _nodes_in_order(tree: nodes.Node, limit: int) -> Iterator[nodes.Node]:
    """Pre-order, iteratively (hostile templates nest deeply); stops after ``limit`` nodes."""
    stack = [tree]
    while stack and limit > 0:
        node = stack.pop()
        limit -= 1
        yield node
        stack.extend(reversed(list(_children(node))))


def _store_names(target: nodes.Node) -> Iterator[str]:
    if isinstance(target, nodes.Name):
        yield target.name
    elif isinstance(target, nodes.Tuple):
        for item in target.items:
            yield from _store_names(item)


class TemplateWalker:
    """Visits every node once and records issues keyed by (kind, line, needle)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.issues: dict[tuple[str, int, str], IssueTuple] = {}
        self.exhausted = False
        self.bound: set[str] = {"caller", "loop"}  # macros, set/for/with targets, parameters
        self.folder = StringFolder()
        self._consumed: set[int] = set()  # expressions already reported as lookup names

    def walk(self, tree: nodes.Template) -> None:
        for node in _nodes_in_order(tree, MAX_NODES):
            self._bind(node)
        count = 0
        for node in _nodes_in_order(tree, MAX_NODES):
            count += 1
            self.visit(node)
            if len(self.issues) >= MAX_ISSUES:
                self.exhausted = True
                return
        self.exhausted = count >= MAX_NODES

    def _bind(self, node: nodes.Node) -> None:
        if isinstance(node, nodes.Macro):
            self.bound.add(node.name)
        if isinstance(node, nodes.Macro | nodes.CallBlock):
            self.bound.update(n for arg in node.args for n in _store_names(arg))
        elif isinstance(node, nodes.Assign | nodes.AssignBlock | nodes.For):
            self.bound.update(_store_names(node.target))
        elif isinstance(node, nodes.With):
            self.bound.update(n for target in node.targets for n in _store_names(target))
        elif isinstance(node, nodes.FromImport):
            self.bound.update(n if isinstance(n, str) else n[-1] for n in node.names)

    def add(self, kind: str, node: nodes.Node, needle: str, detail: str) -> None:
        line = node.lineno if isinstance(node.lineno, int) and node.lineno > 0 else 1
        key = (kind, line, needle)
        if key not in self.issues:
            self.issues[key] = (kind, line, self._snippet(line, needle), detail)

    def _snippet(self, line: int, needle: str) -> str:
        text = self.lines[line - 1].strip() if line <= len(self.lines) else ""
        at = text.find(needle) if needle else -1
        if at < 0:
            return text[:120] or needle[:120]
        start = max(0, at - 50)
        return text[start : at + len(needle) + 50]

    def visit(self, node: nodes.Node) -> None:
        match node:
            case nodes.Name(ctx="load"):
                self._name(node)
            case nodes.Getattr():
                self._getattr(node)
            case nodes.Getitem():
                self._getitem(node)
            case nodes.NSRef() if is_internal_name(node.attr):
                self.add(
                    "dunder-attribute",
                    node,
                    node.attr,
                    f"assigns internal attribute {node.attr!r} of a namespace",
                )
            case nodes.Filter():
                self._filter(node)
            case nodes.Test() if node.name not in ALLOWED_TESTS:
                self.add(
                    "unknown-test",
                    node,
                    node.name,
                    f"test {node.name!r} is not one chat templates use",
                )
            case nodes.Call():
                self._call(node)
            case nodes.Include() | nodes.Extends():
                self.add(
                    "include",
                    node,
                    "",
                    "loads another template, which a chat "
                    "template cannot ship; with a file loader it reads local files",
                )
            case nodes.Import() | nodes.FromImport():
                self.add(
                    "import",
                    node,
                    "",
                    "imports another template's macros, which a chat template cannot ship",
                )
            case nodes.Assign() | nodes.AssignBlock() if isinstance(node.target, nodes.Name):
                self.folder.bind(node.target.name, getattr(node, "node", None))
        if isinstance(node, nodes.Expr) and id(node) not in self._consumed:
            self._dunder_value(node)

    def _name(self, node: nodes.Name) -> None:
        if _DUNDER.fullmatch(node.name):
            self.add(
                "dunder-attribute", node, node.name, f"refers to the Python internal {node.name!r}"
            )
        elif node.name in DANGEROUS_GLOBALS and node.name not in self.bound:
            self.add(
                "dangerous-global",
                node,
                node.name,
                f"{node.name!r} is a known template-injection entry point to Python internals",
            )

    def _getattr(self, node: nodes.Getattr) -> None:
        if is_internal_name(node.attr):
            self.add(
                "dunder-attribute",
                node,
                node.attr,
                f"reads the Python internal attribute {node.attr!r}",
            )
        elif (
            isinstance(node.node, nodes.Name)
            and node.node.name in CALLABLE_GLOBALS
            and (node.node.name not in self.bound)
        ):
            self.add(
                "dangerous-global",
                node,
                node.attr,
                f"reads attribute {node.attr!r} of "
                f"the global {node.node.name!r} itself, not of a value it made",
            )

    def _getitem(self, node: nodes.Getitem) -> None:
        arg = node.arg
        if isinstance(arg, nodes.Slice) or (
            isinstance(arg, nodes.Const) and not isinstance(arg.value, str)
        ):
            return
        self._lookup_name(node, arg, "item")

    def _lookup_name(self, node: nodes.Node, arg: nodes.Node, how: str) -> None:
        """``arg`` names an attribute or item (Jinja falls back from one to the other)."""
        value = arg.value if isinstance(arg, nodes.Const) else self.folder.fold(arg)
        self._consumed.add(id(arg))
        if isinstance(value, str):
            if any(is_internal_name(part) for part in value.split(".")):
                self.add(
                    "dunder-attribute",
                    node,
                    value[:60],
                    f"looks up the Python internal {value[:60]!r} by {how}",
                )
            elif how == "|attr":
                self.add(
                    "attr-filter",
                    node,
                    "attr",
                    f"getattr through |attr({value[:60]!r}), which chat templates do not need",
                )
        elif how in ("|attr", "attribute path") or self.folder.builds_string(arg):
            self.add(
                "computed-name",
                node,
                how.strip("|"),
                f"looks up an {how} whose name is computed when the template is rendered",
            )

    def _filter(self, node: nodes.Filter) -> None:
        name = node.name
        if name == "attr":
            if node.args:
                self._lookup_name(node, node.args[0], "|attr")
            else:
                self.add("attr-filter", node, "attr", "getattr through |attr")
            return
        if name not in ALLOWED_FILTERS:
            self.add("unknown-filter", node, name, f"filter {name!r} is not one chat templates use")
            return
        at = _PATH_FILTERS.get(name)
        for kw in node.kwargs:
            if kw.key == "attribute" and at is not None:
                self._lookup_name(node, kw.value, "attribute path")
        if at is not None and at >= 0 and len(node.args) > at:
            self._lookup_name(node, node.args[at], "attribute path")
        self._named_callable(node, name)

    def _named_callable(self, node: nodes.Filter, name: str) -> None:
        """``map('attr', ...)``, ``select('test')``: filters and tests named by a string."""
        index = {"map": 0, "select": 0, "reject": 0, "selectattr": 1, "rejectattr": 1}.get(name)
        if index is None or len(node.args) <= index:
            return
        arg = node.args[index]
        if not isinstance(arg, nodes.Const) or not isinstance(arg.value, str):
            self.add(
                "computed-name", node, name, f"|{name} is given a computed filter or test name"
            )
        elif name == "map" and arg.value == "attr":
            if len(node.args) > 1:
                self._lookup_name(node, node.args[1], "|attr")
            else:
                self.add("attr-filter", node, "attr", "getattr through map('attr')")
        elif name == "map" and arg.value not in ALLOWED_FILTERS:
            self.add(
                "unknown-filter",
                node,
                arg.value,
                f"filter {arg.value!r} is not one chat templates use",
            )
        elif name != "map" and arg.value not in ALLOWED_TESTS:
            self.add(
                "unknown-test", node, arg.value, f"test {arg.value!r} is not one chat templates use"
            )

    def _call(self, node: nodes.Call) -> None:
        callee = node.node
        if isinstance(callee, nodes.Name):
            if callee.name not in CALLABLE_GLOBALS | self.bound | DANGEROUS_GLOBALS:
                self.add(
                    "unknown-call",
                    node,
                    callee.name,
                    f"calls {callee.name!r}, which no chat template environment provides",
                )
        elif isinstance(callee, nodes.Getattr):
            if callee.attr in ("format", "format_map"):
                self._format_call(node, callee)
            elif callee.attr not in ALLOWED_METHODS and not is_internal_name(callee.attr):
                self.add(
                    "unknown-call",
                    node,
                    callee.attr,
                    f"calls method {callee.attr!r}, which chat templates do not use",
                )
        else:
            self.add("unknown-call", node, "(", "calls the result of an expression")

    def _format_call(self, node: nodes.Call, callee: nodes.Getattr) -> None:
        """``str.format`` resolves ``{0.attr}`` and ``{0[key]}`` fields with getattr."""
        template = self.folder.fold(callee.node)
        if template is None:
            self.add(
                "format-call",
                node,
                callee.attr,
                f".{callee.attr}() on a string not "
                "known until render time can read attributes of its arguments",
            )
            return
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(template) if f]
        except ValueError:
            self.add("format-call", node, callee.attr, f"malformed .{callee.attr}() string")
            return
        for name in fields:
            parts = re.split(r"[.\[\]]+", name)
            if any(is_internal_name(p) for p in parts[1:] if p):
                self.add(
                    "dunder-attribute",
                    node,
                    callee.attr,
                    f"format field {name[:60]!r} reads a Python internal",
                )
            elif len(parts) > 1:
                self.add(
                    "format-call",
                    node,
                    callee.attr,
                    f"format field {name[:60]!r} reads attributes or items of an argument",
                )

    def _dunder_value(self, node: nodes.Expr) -> None:
        if isinstance(node, nodes.Const):
            value = node.value
        elif isinstance(node, nodes.Name | nodes.Getattr | nodes.Getitem):
            return  # reported where the value was built
        else:
            value = self.folder.fold(node)
        if isinstance(value, str) and (
            _DUNDER.fullmatch(value)
            or (not isinstance(node, nodes.Const) and value in INTERNAL_ATTRS)
        ):
            self.add(
                "dunder-string",
                node,
                value if isinstance(node, nodes.Const) else "",
                f"builds the string {value!r}, the name of a Python internal",
            )
