"""Constant folding of Jinja2 string expressions, without rendering anything.

Obfuscated template injection hides attribute names in pieces (``'__glo' ~ 'bals__'``,
``['__', 'class', '__']|join``, ``'{}'.format(...)``). ``StringFolder`` computes, on the AST,
the string such an expression always evaluates to, so the name can be checked like a literal.
Every operation is bounded: widths, repeats and replacements cannot make it allocate freely.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence

from jinja2 import nodes

FOLD_LIMIT = 256  # longest string built; attribute names are short
STRING_FILTERS: dict[str, Callable[[str], str]] = {
    "lower": str.lower,
    "upper": str.upper,
    "title": str.title,
    "capitalize": str.capitalize,
    "trim": str.strip,
    "string": str,
    "reverse": lambda text: text[::-1],
}
_STRING_METHODS: dict[str, Callable[[str], str]] = {
    "lower": str.lower,
    "upper": str.upper,
    "title": str.title,
    "capitalize": str.capitalize,
    "strip": str.strip,
}
_BUILDING_FILTERS = frozenset({"join", "format", "replace", *STRING_FILTERS})
_BUILDING_METHODS = frozenset({"format", "format_map", "join", "replace", *_STRING_METHODS})


class StringFolder:
    """Folds expressions of one template; ``{% set %}`` names are bound as the walk sees them."""

    def __init__(self) -> None:
        self.consts: dict[str, str | None] = {}  # ``{% set %}`` names -> folded string value
        self.built: set[str] = set()  # ``{% set %}`` names holding strings built at render time
        self._folded: dict[int, str | None] = {}

    def bind(self, name: str, value: nodes.Node | None) -> None:
        """Record ``{% set name = value %}`` (``value`` None: a ``{% set %}`` block)."""
        self.consts[name] = None if value is None else self.fold(value)
        if value is None or self.builds_string(value):
            self.built.add(name)

    def builds_string(self, node: nodes.Node) -> bool:
        """Whether ``node`` computes a string at render time (concatenation, format, join...)."""
        if isinstance(node, nodes.Concat | nodes.Mod):
            return True
        if isinstance(node, nodes.Add | nodes.Mul):
            return any(
                _is_str(side) or self.builds_string(side) for side in (node.left, node.right)
            )
        if isinstance(node, nodes.Name):
            return node.name in self.built
        if isinstance(node, nodes.Filter):
            return node.name in _BUILDING_FILTERS
        if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr):
            return node.node.attr in _BUILDING_METHODS
        if isinstance(node, nodes.CondExpr):
            return self.builds_string(node.expr1) or (
                node.expr2 is not None and self.builds_string(node.expr2)
            )
        return False

    def fold(self, node: nodes.Node) -> str | None:
        """The string ``node`` always evaluates to, if known without rendering; else None."""
        key = id(node)
        if key not in self._folded:
            self._folded[key] = None
            value = self._fold(node)
            self._folded[key] = value if value is not None and len(value) <= FOLD_LIMIT else None
        return self._folded[key]

    def _fold(self, node: nodes.Node) -> str | None:
        if isinstance(node, nodes.Const):
            value = node.value
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**12:
                return str(value)
            return value if isinstance(value, str) else None
        if isinstance(node, nodes.Name):
            return self.consts.get(node.name)
        if isinstance(node, nodes.Concat):
            parts = self._fold_all(node.nodes)
            return None if parts is None else "".join(parts)
        if isinstance(node, nodes.Add):
            left, right = self._fold_str(node.left), self._fold_str(node.right)
            return left + right if left is not None and right is not None else None
        if isinstance(node, nodes.Mul):
            return self._fold_repeat(node)
        if isinstance(node, nodes.Mod):
            return percent(self._fold_str(node.left), self._fold_items(node.right))
        if isinstance(node, nodes.Filter) and node.node is not None:
            return self._fold_filter(node, node.node)
        if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr):
            return self._fold_method(node, node.node)
        return None

    def _fold_str(self, node: nodes.Node) -> str | None:
        return None if isinstance(node, nodes.Const) and not _is_str(node) else self.fold(node)

    def _fold_all(self, items: Sequence[nodes.Node]) -> list[str] | None:
        parts = [self.fold(item) for item in items]
        return None if None in parts else [p for p in parts if p is not None]

    def _fold_items(self, node: nodes.Node) -> list[str] | None:
        return self._fold_all(node.items if isinstance(node, nodes.Tuple | nodes.List) else [node])

    def _fold_repeat(self, node: nodes.Mul) -> str | None:
        for text_node, count in ((node.left, node.right), (node.right, node.left)):
            text = self._fold_str(text_node)
            if (
                text is not None
                and isinstance(count, nodes.Const)
                and isinstance(count.value, int)
                and 0 <= count.value * len(text) <= FOLD_LIMIT
            ):
                return text * count.value
        return None

    def _fold_filter(self, node: nodes.Filter, subject: nodes.Node) -> str | None:
        args = self._fold_all(node.args)
        if args is None or node.kwargs:
            return None
        if node.name == "join":
            items = (
                self._fold_all(subject.items)
                if isinstance(subject, nodes.List | nodes.Tuple)
                else None
            )
            return (args[0] if args else "").join(items) if items is not None else None
        text = self._fold_str(subject)
        if text is None:
            return None
        if node.name in STRING_FILTERS and not args:
            return STRING_FILTERS[node.name](text)
        if node.name == "replace" and len(args) == 2:
            return replace(text, args[0], args[1])
        return percent(text, args) if node.name == "format" else None

    def _fold_method(self, node: nodes.Call, callee: nodes.Getattr) -> str | None:
        args = self._fold_all(node.args)
        text = self._fold_str(callee.node)
        if args is None or text is None or node.kwargs:
            return None
        if callee.attr == "join" and len(node.args) == 1:
            items = self._fold_items(node.args[0])
            return text.join(items) if items is not None else None
        if callee.attr in _STRING_METHODS and not args:
            return _STRING_METHODS[callee.attr](text)
        if callee.attr == "replace" and len(args) == 2:
            return replace(text, args[0], args[1])
        if callee.attr == "format" and plain_fields(text):
            try:
                return text.format(*args)
            except (IndexError, KeyError, ValueError):
                return None
        return None


def _is_str(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Const) and isinstance(node.value, str)


def replace(text: str, old: str, new: str) -> str | None:
    """``text.replace(old, new)`` unless the result would be long."""
    if not old or text.count(old) * len(new) + len(text) > 4 * FOLD_LIMIT:
        return None
    return text.replace(old, new)


def percent(text: str | None, args: list[str] | None) -> str | None:
    """``text % args`` for plain ``%s`` only: widths would let a template allocate freely."""
    if text is None or args is None or re.search(r"%(?![s%])", text):
        return None
    try:
        return text % tuple(args)
    except (TypeError, ValueError):
        return None


def plain_fields(text: str) -> bool:
    """Only ``{}`` / ``{0}`` fields: no attribute paths, conversions or format specs."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        return False
    return all(
        field is None or ((field.isdigit() or field == "") and not spec and conv is None)
        for _, field, spec, conv in parsed
    )
