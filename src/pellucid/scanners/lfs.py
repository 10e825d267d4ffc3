"""Git LFS pointer files: the weights they stand for were never downloaded.

A pointer is a few ``key value`` lines (``version`` first, then keys in order: ``oid
sha256:<64 hex>``, ``size <bytes>``) and at most 1024 bytes; git-lfs treats anything longer
as content. The real file is absent, so the artifact is reported incomplete, never clean.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar

from pellucid.model import Artifact, FileKind, Finding, Rule, Severity
from pellucid.scanners.base import Member, ScanContext, ScanResult
from pellucid.scanners.hf_rules import LFS_MALFORMED, LFS_POINTER, LFS_RULES
from pellucid.source import ByteSource

MAX_POINTER_BYTES = 1024  # git-lfs: blobs larger than this are never pointers
SPEC_V1 = "https://git-lfs.github.com/spec/v1"
_LINE = re.compile(rb"([a-z0-9.-]+) ([^\n]*)\n")
_OID = re.compile(r"sha256:[0-9a-f]{64}")
_SIZE = re.compile(r"[0-9]{1,20}")


@dataclass(slots=True)
class Pointer:
    """What the pointer text says, where it ends, and what is wrong with it."""

    fields: dict[str, str] = field(default_factory=dict)
    end: int = 0  # byte offset just past the last well-formed line
    problems: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return " ".join(f"{k} {self.fields[k]}" for k in ("oid", "size") if k in self.fields)


def parse_pointer(head: bytes) -> Pointer:
    """Parse and validate the pointer lines at the start of ``head``."""
    pointer = Pointer()
    keys: list[str] = []
    while (match := _LINE.match(head, pointer.end)) is not None:
        key, value = match.group(1).decode(), match.group(2).decode("utf-8", "replace")
        if key in pointer.fields:
            pointer.problems.append(f"key {key!r} repeated")
        pointer.fields.setdefault(key, value)
        keys.append(key)
        pointer.end = match.end()
    if not keys or keys[0] != "version" or pointer.fields["version"] != SPEC_V1:
        pointer.problems.append("first line is not 'version " + SPEC_V1 + "'")
    if keys[1:] != sorted(keys[1:]):
        pointer.problems.append("keys after version are not in sorted order")
    if not _OID.fullmatch(pointer.fields.get("oid", "")):
        pointer.problems.append("oid is missing or not 'sha256:' and 64 lowercase hex digits")
    if not _SIZE.fullmatch(pointer.fields.get("size", "")):
        pointer.problems.append("size is missing or not a decimal byte count")
    unknown = [k for k in keys if k not in ("version", "oid", "size") and not k.startswith("ext-")]
    if unknown:
        pointer.problems.append(f"unknown keys {', '.join(unknown[:5])}")
    return pointer


class LfsPointerScanner:
    """Reports LFS pointers (weights absent) and text that only pretends to be one."""

    id: ClassVar[str] = "lfs"
    rules: ClassVar[tuple[Rule, ...]] = LFS_RULES

    def accepts(self, kind: FileKind) -> bool:
        return kind is FileKind.LFS_POINTER

    def scan(self, artifact: Artifact, source: ByteSource, ctx: ScanContext) -> ScanResult:
        pointer = parse_pointer(source.read(0, MAX_POINTER_BYTES))
        rest = source.view(pointer.end)
        trailing = len(rest) > 4096 or bytes(rest).strip() != b""
        findings: list[Finding] = []
        members: tuple[Member, ...] = ()
        problems = list(pointer.problems)
        if source.size > MAX_POINTER_BYTES:
            problems.append(
                f"{source.size} bytes; git-lfs pointers are at most {MAX_POINTER_BYTES}"
            )
        if trailing:
            problems.append(f"{len(rest)} bytes follow the pointer text at offset {pointer.end}")
            members = (
                Member(
                    f"after-lfs-pointer@{pointer.end}",
                    source.slice(pointer.end),
                    note="content after the Git LFS pointer text",
                ),
            )
        snippet = source.read(0, min(pointer.end, 200)).decode("utf-8", "replace").strip()
        evidence = artifact.evidence(offset=0, line=1, snippet=snippet)
        if problems:
            severity = (
                Severity.MEDIUM if trailing or source.size > MAX_POINTER_BYTES else (Severity.LOW)
            )
            findings.append(LFS_MALFORMED.finding(evidence, "; ".join(problems), severity=severity))
        findings.append(
            LFS_POINTER.finding(
                evidence, f"the file is a pointer to {pointer.summary or 'unknown content'}"
            )
        )
        reason = f"Git LFS pointer: the real file ({pointer.summary or 'unknown'}) is not present"
        return ScanResult(tuple(findings), members, incomplete=(reason,))
