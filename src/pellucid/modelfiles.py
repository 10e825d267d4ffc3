"""One model folder as the whole-model analyses see it: its files, their kinds, their text.

The security scan looks at files one by one; licence, openness, regulation, lineage and
resource analyses look at a model as a whole. They all receive a ``ModelFiles``: the files of
one model folder, identified by content, with cheap bounded access to small text files.
Nothing here executes or parses model content beyond reading bytes.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pellucid.model import FileKind

TEXT_LIMIT = 1024 * 1024
"""Largest text file read whole by ``ModelFiles.text`` (licences, cards, configs)."""


@dataclass(frozen=True, slots=True)
class ModelFile:
    """A file of the model folder. ``rel`` is its posix path inside the folder."""

    path: str  # as shown to the user
    rel: str
    disk_path: Path
    kind: FileKind
    size: int

    @property
    def name(self) -> str:
        return posixpath.basename(self.rel)

    @property
    def top_level(self) -> bool:
        return "/" not in self.rel


@dataclass(frozen=True, slots=True)
class ModelFiles:
    """The files of one model folder, in a stable order."""

    root: str  # the folder as shown to the user
    files: tuple[ModelFile, ...]

    def __iter__(self) -> Iterator[ModelFile]:
        return iter(self.files)

    def named(self, *names: str, top_level: bool = True) -> list[ModelFile]:
        """Files whose name equals one of ``names`` (case-insensitive), e.g. "LICENSE"."""
        wanted = {n.lower() for n in names}
        return [
            f for f in self.files if f.name.lower() in wanted and (f.top_level or not top_level)
        ]

    def matching(self, predicate: object) -> list[ModelFile]:
        """Files for which ``predicate(file)`` is true."""
        assert callable(predicate)
        return [f for f in self.files if predicate(f)]

    def of_kind(self, *kinds: FileKind) -> list[ModelFile]:
        return [f for f in self.files if f.kind in kinds]

    def text(self, file: ModelFile, limit: int = TEXT_LIMIT) -> str | None:
        """The file as text (UTF-8, invalid bytes replaced), or None when it is larger than
        ``limit``, looks binary (NUL bytes) or cannot be read."""
        if file.size > limit:
            return None
        try:
            data = file.disk_path.read_bytes()[:limit]
        except OSError:
            return None
        if b"\x00" in data[:8192]:
            return None
        return data.decode("utf-8", errors="replace")

    def head(self, file: ModelFile, length: int) -> bytes:
        """The first ``length`` bytes of a file (b"" when unreadable)."""
        try:
            with file.disk_path.open("rb") as handle:
                return handle.read(length)
        except OSError:
            return b""

    @classmethod
    def from_entries(cls, root: str, entries: Sequence[ModelFile]) -> ModelFiles:
        return cls(root, tuple(sorted(entries, key=lambda f: f.rel)))

    @classmethod
    def scan_folder(cls, folder: Path) -> ModelFiles:
        """Discover and identify the files of ``folder`` (no security scan): for commands
        such as ``pellucid license`` that need only the whole-model view."""
        from pellucid.discover import discover
        from pellucid.identify import identify
        from pellucid.source import open_source

        base = folder.as_posix().rstrip("/")
        entries = []
        for item in discover([folder]):
            if item.skip_reason is not None or item.duplicate_of is not None:
                continue
            try:
                with open_source(item.real) as source:
                    kind, size = identify(source, item.real.name), source.size
            except OSError:
                continue
            rel = (
                item.display[len(base) + 1 :]
                if item.display.startswith(base + "/")
                else (posixpath.basename(item.display))
            )
            entries.append(ModelFile(item.display, rel, item.real, kind, size))
        return cls.from_entries(folder.as_posix(), entries)
