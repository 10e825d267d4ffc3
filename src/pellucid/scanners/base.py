"""The seam every security analyzer plugs into.

A ``Scanner`` looks at one artifact (a file, or a member of an archive) and returns a
``ScanResult``: findings, members to scan next (for containers), and reasons the look was
incomplete. Scanners are stateless and picklable, never raise on hostile input, and never
execute what they read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol

from pellucid.budget import DEFAULT_BUDGET, Budget
from pellucid.model import Artifact, FileKind, Finding, Rule
from pellucid.policy import Policy
from pellucid.source import ByteSource


@dataclass(frozen=True, slots=True)
class Member:
    """A piece of a container to be identified and scanned in its turn.

    ``note`` explains the member to a reader when its content turns out to be unknown, e.g.
    "tensor storage referenced by data.pkl" (listed as skipped with that reason).
    ``kind`` forces a kind where the container format says what the member is.
    ``unpacked`` is true when the bytes were decompressed into memory (counted against the
    budget), false when they are a window into the parent (stored zip members, tar members).
    """

    name: str
    source: ByteSource
    note: str = ""
    kind: FileKind | None = None
    unpacked: bool = False


@dataclass(frozen=True, slots=True)
class ScanResult:
    findings: tuple[Finding, ...] = ()
    members: tuple[Member, ...] = ()
    incomplete: tuple[str, ...] = ()  # non-empty: the artifact was not fully examined
    notes: tuple[str, ...] = ()  # what was done, e.g. "3 pickle streams, 1204 opcodes"


@dataclass(frozen=True, slots=True)
class ScanContext:
    """What a scanner may know beyond the bytes: policy, limits and where the file lives."""

    policy: Policy = field(default_factory=Policy)
    budget: Budget = DEFAULT_BUDGET
    root: Path | None = None  # the folder the user asked about (model folder)
    disk_path: Path | None = None  # the file on disk that holds this artifact


class Scanner(Protocol):
    """One security analyzer. Implementations live one per module in ``pellucid.scanners``."""

    id: ClassVar[str]
    rules: ClassVar[Sequence[Rule]]

    def accepts(self, kind: FileKind) -> bool: ...

    def scan(self, artifact: Artifact, source: ByteSource, ctx: ScanContext) -> ScanResult: ...


@dataclass(frozen=True, slots=True)
class FolderFile:
    """A file on disk as a folder analyzer sees it."""

    artifact: Artifact
    disk_path: Path


@dataclass(frozen=True, slots=True)
class FolderResult:
    """What a folder analyzer found; ``incomplete`` pairs a file's path with a reason."""

    findings: tuple[Finding, ...] = ()
    incomplete: tuple[tuple[str, str], ...] = ()


class FolderAnalyzer(Protocol):
    """Checks that need the whole folder (e.g. pickle weights where safetensors is customary)."""

    id: ClassVar[str]
    rules: ClassVar[Sequence[Rule]]

    def analyze(
        self, root: Path, files: Sequence[FolderFile], ctx: ScanContext
    ) -> FolderResult: ...
