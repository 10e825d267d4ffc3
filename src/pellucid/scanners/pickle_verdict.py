"""Turn what the pickle VM saw into findings: allowlist first, denylist to label.

Findings are consolidated: one per distinct (rule, name) per artifact, with the first offset
and a count, so a checkpoint that imports the same unknown class 10,000 times yields one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pellucid.formats.pickle_streams import PickleAnalysis
from pellucid.formats.pickle_values import Call, Global, Mutation, PDict, global_root, render
from pellucid.model import Artifact, Finding, Rule
from pellucid.policy import Policy
from pellucid.scanners import pickle_knowledge as knowledge
from pellucid.scanners.pickle_rules import (
    COMPUTED_GLOBAL,
    EXTENSION_CODE,
    HIDDEN_STREAM,
    KNOWN_GADGET,
    MALFORMED,
    MODULE_TRAVERSAL,
    MUTATION,
    SUSPICIOUS_ARGUMENT,
    UNKNOWN_GLOBAL,
)

_CODE_LIKE = re.compile(
    r"__import__|\b(?:eval|exec|compile|system|popen|getattr)\s*\(|\bos\.|\bsubprocess\b"
    r"|/bin/(?:ba|z)?sh\b|\b(?:curl|wget|powershell|nc)\s+-?\w|\brm\s+-rf\b"
)
_ANOMALY_RULES = {
    "malformed": MALFORMED,
    "legacy": MALFORMED,
    "trailing": HIDDEN_STREAM,
    "stacked": HIDDEN_STREAM,
    "salvaged": HIDDEN_STREAM,
}


@dataclass
class _Entry:
    rule: Rule
    offset: int
    snippet: str
    detail: str
    references: tuple[str, ...] = ()
    count: int = 1


class Verdict:
    """Collects consolidated findings for one artifact."""

    def __init__(self, artifact: Artifact, policy: Policy) -> None:
        self.artifact = artifact
        self.policy = policy
        self.entries: dict[tuple[str, Any], _Entry] = {}

    def add(
        self,
        rule: Rule,
        key: Any,
        offset: int,
        snippet: str,
        detail: str,
        references: tuple[str, ...] = (),
    ) -> None:
        entry = self.entries.get((rule.id, key))
        if entry is None:
            self.entries[(rule.id, key)] = _Entry(rule, offset, snippet, detail, references)
        else:
            entry.count += 1

    def findings(self) -> list[Finding]:
        out = []
        for entry in sorted(self.entries.values(), key=lambda e: (-e.rule.severity, e.offset)):
            detail = entry.detail
            if entry.count > 1:
                detail += f" (seen {entry.count} times; first at offset {entry.offset})"
            evidence = self.artifact.evidence(offset=entry.offset, snippet=entry.snippet)
            out.append(entry.rule.finding(evidence, detail, references=entry.references))
        return out

    # ---- checks ------------------------------------------------------------------------

    def judge(self, analysis: PickleAnalysis) -> None:
        vm = analysis.vm
        calls = _first_calls(vm.calls)
        salvaged = analysis.salvage_from
        method_fetches = harmless_method_fetches(vm.globals, vm.calls)
        for found in vm.globals:
            if id(found) in method_fetches:
                continue
            where = (
                " (recovered from unparsed bytes)"
                if salvaged is not None and found.offset >= salvaged
                else ""
            )
            self._global(found, calls.get(found.key), where)
        for event in vm.mutations:
            self._mutation(event)
        for offset, code in vm.exts:
            self.add(
                EXTENSION_CODE,
                code,
                offset,
                f"EXT code {code}",
                f"extension code {code} is not registered in a standard interpreter",
            )
        for anomaly in analysis.anomalies:
            rule = _ANOMALY_RULES.get(anomaly.kind, MALFORMED)
            self.add(
                rule,
                anomaly.kind,
                anomaly.offset,
                anomaly.detail[:200],
                f"{anomaly.kind}: {anomaly.detail}",
            )
        self._arguments(vm.calls)

    def _global(self, found: Global, call: Call | None, where: str) -> None:
        module, qualname = found.key
        snippet = render(call) if call is not None else f"{module}.{qualname}"
        name = f"{module}:{qualname}"
        if found.computed is not None:
            args = found.computed.args
            snippet = f"STACK_GLOBAL({render(args[0], 90)}, {render(args[1], 90)})"
            self.add(
                COMPUTED_GLOBAL,
                "computed",
                found.offset,
                snippet,
                f"import name computed at load time{where}",
            )
            return
        if _introspection_walk(qualname) or knowledge.is_module_alias(module, qualname):
            gadget = knowledge.known_gadget(module, qualname)
            reason = (
                f"; reaches {gadget.module}.{gadget.qualname}: {gadget.reason}" if gadget else ""
            )
            self.add(
                MODULE_TRAVERSAL,
                name,
                found.offset,
                snippet,
                f"{name} walks through a module attribute{reason}{where}",
                gadget.references if gadget else (),
            )
            return
        if knowledge.allowed(module, qualname) is not None:
            return
        gadget = knowledge.known_gadget(module, qualname)
        if gadget is not None:
            self.add(
                KNOWN_GADGET,
                name,
                found.offset,
                snippet,
                f"{name}: {gadget.reason}{where}",
                gadget.references,
            )
        elif not self.policy.allows_global(module, qualname):
            self.add(
                UNKNOWN_GLOBAL,
                name,
                found.offset,
                snippet,
                f"{name} is not on the allowlist{where}; if you trust it, allow it in your "
                f'policy: [pickle] allow = ["{name}"]',
            )

    def _mutation(self, event: Mutation) -> None:
        target = render(event.target, 80)
        state = event.state
        if event.op == "BUILD":
            verb = "__dict__.update" if isinstance(state, PDict) else "__setstate__"
            snippet = f"{target}.{verb}({render(state, 110)})"
        elif event.op == "SETITEM" and isinstance(state, list) and state:
            key, value = state[0]
            snippet = f"{target}[{render(key, 50)}] = {render(value, 60)}"
        else:
            snippet = f"{target}.{event.op.lower()}({render(state, 110)})"
        self.add(
            MUTATION,
            target,
            event.offset,
            snippet,
            f"{event.op} writes into imported object {target}",
        )

    def _arguments(self, calls: list[Call]) -> None:
        for call in calls:
            root = global_root(call.func)
            if root is None or knowledge.allowed(*root.key) is None:
                continue
            text = _code_like(call.args)
            if text is not None:
                self.add(
                    SUSPICIOUS_ARGUMENT,
                    root.key,
                    call.offset,
                    render(call),
                    f"{root.module}.{root.qualname} receives code-like text {text[:80]!r}",
                )


def _first_calls(calls: list[Call]) -> dict[tuple[str, str], Call]:
    """The first call of each imported name, for decompiled evidence."""
    first: dict[tuple[str, str], Call] = {}
    for call in calls:
        func = call.func
        if isinstance(func, Global) and func.key not in first:
            first[func.key] = call
    return first


def _code_like(args: Any, depth: int = 0) -> str | None:
    if isinstance(args, str):
        return args if _CODE_LIKE.search(args) else None
    if depth < 2 and isinstance(args, (tuple, list)):
        for item in args[:16]:
            found = _code_like(item, depth + 1)
            if found is not None:
                return found
    return None


_GETATTR = ("builtins", "getattr")
_ATTRIBUTE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def harmless_method_fetches(found: list[Global], calls: list[Call]) -> set[int]:
    """ids of ``builtins.getattr`` imports used only as pickle stores bound methods.

    Pickle writes a bound method (a forward hook of a lazy torch module, say) as
    ``getattr(instance, "name")``. That is harmless when the instance was built from an
    allowlisted callable, the name is a plain attribute (no dunder), and the method it yields
    is never called nor handed to any call. Every other use of getattr stays a finding.
    """
    getattrs = {id(g): g for g in found if g.key == _GETATTR and g.computed is None}
    if not getattrs:
        return set()
    uses: dict[int, list[Call]] = {gid: [] for gid in getattrs}
    for call in calls:
        if id(call.func) in uses:
            uses[id(call.func)].append(call)
    fetched = {id(c) for group in uses.values() for c in group}
    escaped: set[int] = set()
    for call in calls:
        if id(call.func) in fetched:
            escaped.add(id(call.func))
        escaped.update(_ids_in((call.args, call.kwargs), fetched | set(getattrs)))
    return {
        gid
        for gid, group in uses.items()
        if group
        and gid not in escaped
        and all(id(c) not in escaped and _is_method_fetch(c) for c in group)
    }


def _is_method_fetch(call: Call) -> bool:
    args = call.args
    if call.kwargs or not isinstance(args, tuple) or len(args) != 2:
        return False
    owner, name = args
    root = global_root(owner)
    return (
        isinstance(owner, Call)
        and root is not None
        and knowledge.allowed(*root.key) is not None
        and isinstance(name, str)
        and not name.startswith("__")
        and _ATTRIBUTE.fullmatch(name) is not None
    )


def _ids_in(value: Any, wanted: set[int], depth: int = 0) -> set[int]:
    """Which of ``wanted`` (object ids) occur inside ``value``, looking a few levels deep."""
    if id(value) in wanted:
        return {id(value)}
    if depth >= 6:
        return set()
    if isinstance(value, (tuple, list)):
        hits: set[int] = set()
        for item in value[:256]:
            hits |= _ids_in(item, wanted, depth + 1)
        return hits
    if isinstance(value, Call):
        return _ids_in((value.func, value.args, value.kwargs), wanted, depth + 1)
    return set()


# Attributes that lead from any object to code, globals or classes (`f.__globals__`,
# `C.__init__.__globals__`, `x.__class__.__mro__`): a dotted name through one of them is a
# walk out of whatever the first name was allowed for.
_INTROSPECTION = frozenset(
    {
        "__globals__",
        "__builtins__",
        "__dict__",
        "__class__",
        "__base__",
        "__bases__",
        "__mro__",
        "__subclasses__",
        "__init__",
        "__code__",
        "__closure__",
        "__func__",
        "__self__",
        "__module__",
        "__loader__",
        "__spec__",
        "__getattribute__",
        "__getattr__",
        "__reduce__",
        "__reduce_ex__",
        "__import__",
        "__call__",
        "__wrapped__",
        "__objclass__",
        "f_globals",
    }
)


def _introspection_walk(qualname: str) -> bool:
    return any(part in _INTROSPECTION for part in qualname.split(".")[1:])
