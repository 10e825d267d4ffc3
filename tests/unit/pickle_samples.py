"""Hand-built pickle bytes and a scan helper for the pickle scanner tests."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from canary import (
    MARK,
    MEMOIZE,
    PROTO4,
    REDUCE,
    STACK_GLOBAL,
    STOP,
    TUPLE,
    call,
    call_pickle,
    global_op,
    s,
)
from pellucid.budget import Budget
from pellucid.model import Artifact, FileKind, Finding
from pellucid.scanners.base import ScanContext, ScanResult
from pellucid.scanners.pickle import PickleScanner
from pellucid.source import ByteSource

__all__ = [
    "MARK",
    "MEMOIZE",
    "PROTO4",
    "REDUCE",
    "STACK_GLOBAL",
    "STOP",
    "TUPLE",
    "call",
    "call_pickle",
    "global_op",
    "s",
]


def binput(index: int) -> bytes:
    return b"q" + bytes([index])


def binget(index: int) -> bytes:
    return b"h" + bytes([index])


def scan(
    data: bytes, kind: FileKind = FileKind.PICKLE, budget: Budget | None = None, **ctx: object
) -> ScanResult:
    context = ScanContext(budget=budget or Budget(), **ctx)  # type: ignore[arg-type]
    return PickleScanner().scan(Artifact("x.pkl", kind, len(data)), ByteSource(data), context)


def rule_ids(result: ScanResult) -> set[str]:
    return {f.rule_id for f in result.findings}


def only(result: ScanResult, rule_id: str) -> Finding:
    """The single finding of ``rule_id`` (consolidation means there is at most one per name)."""
    found = [f for f in result.findings if f.rule_id == rule_id]
    assert found, f"no {rule_id} in {[(f.rule_id, f.evidence.snippet) for f in result.findings]}"
    return found[0]


def loader_code(path: Path, loader: str = "pickle") -> str:
    """Python source that loads ``path`` with the real loader, ignoring its errors."""
    if loader == "joblib":
        load = f"import joblib; joblib.load({str(path)!r})"
    else:
        load = f"import pickle; pickle.loads(open({str(path)!r}, 'rb').read())"
    return f"try:\n    {load}\nexcept Exception:\n    pass\n"
