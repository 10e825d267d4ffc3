"""Hand-built pickle bytes and a scan helper for the pickle scanner tests."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from canary import call_pickle, global_op
from pellucid.budget import Budget
from pellucid.model import Artifact, FileKind, Finding
from pellucid.scanners.base import ScanContext, ScanResult
from pellucid.scanners.pickle import PickleScanner
from pellucid.source import ByteSource

__all__ = ["call_pickle", "global_op"]

PROTO4 = b"\x80\x04"
STOP = b"."
MARK = b"("
REDUCE = b"R"
TUPLE = b"t"
MEMOIZE = b"\x94"
STACK_GLOBAL = b"\x93"


def s(text: str) -> bytes:
    """SHORT_BINUNICODE (or BINUNICODE for long text)."""
    data = text.encode()
    if len(data) < 256:
        return b"\x8c" + bytes([len(data)]) + data
    return b"X" + struct.pack("<I", len(data)) + data


def binput(index: int) -> bytes:
    return b"q" + bytes([index])


def binget(index: int) -> bytes:
    return b"h" + bytes([index])


def call(module: str, name: str, *args: str) -> bytes:
    """Opcodes (no header, no STOP) that push ``module.name(*args)``."""
    return global_op(module, name) + MARK + b"".join(s(a) for a in args) + TUPLE + REDUCE


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
