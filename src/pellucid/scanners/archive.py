"""Container scanners: zip (PyTorch, TorchScript, Keras, npz), tar, 7z and compressed streams.

Each opens its container with a reader from ``pellucid.formats``, reports structural
anomalies with offsets, and hands every member on to the pipeline, which identifies it by
content and scans it in its turn. Stored and tar members are zero-copy windows of the parent;
decompressed members are bounded by the size and ratio budgets.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import TYPE_CHECKING, ClassVar

from pellucid.formats.compression import CODECS, inflate
from pellucid.formats.magic import joblib_zfile_start
from pellucid.formats.zip import ZipError, read_directory
from pellucid.formats.zip_checks import unsafe_path
from pellucid.model import Artifact, FileKind, Finding, Rule, Severity
from pellucid.scanners import archive_rules as R
from pellucid.scanners.base import Member, ScanContext, ScanResult
from pellucid.scanners.zip_entries import ZipRun
from pellucid.source import ByteSource

if TYPE_CHECKING:
    from pellucid.formats.archives import TarEntry


class ZipScanner:
    """Zip archives as PyTorch (miniz) and Python ``zipfile`` read them; every entry by index."""

    id: ClassVar[str] = "zip"
    rules: ClassVar[tuple[Rule, ...]] = R.ZIP_RULES

    def accepts(self, kind: FileKind) -> bool:
        return kind is FileKind.ZIP

    def scan(self, artifact: Artifact, source: ByteSource, ctx: ScanContext) -> ScanResult:
        try:
            directory = read_directory(source.view(), ctx.budget.max_members)
        except ZipError as exc:
            finding = R.ZIP_UNREADABLE.finding(artifact.evidence(offset=0, snippet=str(exc)))
            return ScanResult((finding,), incomplete=(f"zip: {exc}",))
        run = ZipRun(artifact, source, ctx, directory)
        for entry in directory.entries:
            run.entry(entry)
        for offset, length in directory.gaps:
            run.members.append(
                Member(
                    f"<bytes {offset}-{offset + length}>",
                    source.slice(offset, length),
                    "bytes outside every zip entry (loaders skip them)",
                )
            )
        if directory.truncated:
            limit = ctx.budget.max_members
            run.findings.append(
                R.ZIP_TOO_MANY.finding(
                    artifact.evidence(
                        offset=directory.end.cd_start, snippet=f"more than {limit} entries"
                    )
                )
            )
            run.incomplete.append(f"more than {limit} zip entries (budget); the rest not read")
        notes = (f"{len(directory.entries)} entries; layout: {run.layout.kind}",)
        return ScanResult(tuple(run.findings), tuple(run.members), tuple(run.incomplete), notes)


class TarScanner:
    """Tar archives, including PyTorch's legacy tar checkpoints; members are zero-copy."""

    id: ClassVar[str] = "tar"
    rules: ClassVar[tuple[Rule, ...]] = R.TAR_RULES
    LEGACY_TORCH: ClassVar[frozenset[str]] = frozenset({"storages", "tensors", "pickle"})

    def accepts(self, kind: FileKind) -> bool:
        return kind is FileKind.TAR

    def scan(self, artifact: Artifact, source: ByteSource, ctx: ScanContext) -> ScanResult:
        from pellucid.formats.archives import read_tar  # tar and 7z code loads only for them

        listing = read_tar(source.view(), ctx.budget.max_members)
        findings = [
            R.ARC_MALFORMED.finding(artifact.evidence(offset=offset, snippet=what))
            for offset, what in listing.problems
        ]
        legacy = {e.name for e in listing.entries} >= self.LEGACY_TORCH
        members: list[Member] = []
        seen: dict[str, int] = {}
        for entry in listing.entries:
            loaded = legacy and entry.name in self.LEGACY_TORCH
            findings.extend(_tar_entry_findings(artifact, entry, seen, loaded))
            if entry.is_file:
                note = "legacy torch tar member, unpickled by torch.load" if loaded else ""
                members.append(
                    Member(
                        entry.name,
                        source.slice(entry.data_offset, entry.size),
                        note,
                        FileKind.PICKLE if loaded else None,
                    )
                )
        incomplete: list[str] = []
        if listing.truncated:
            findings.append(
                R.ARC_TOO_MANY.finding(
                    artifact.evidence(snippet=f"more than {ctx.budget.max_members} entries")
                )
            )
            incomplete.append(f"more than {ctx.budget.max_members} tar entries (budget)")
        elif not listing.problems and _has_data(source, listing.end):  # after a clean end
            findings.append(
                R.ARC_TRAILING.finding(
                    artifact.evidence(
                        offset=listing.end, snippet=source.read(listing.end, 16).hex(" ")
                    )
                )
            )
            members.append(
                Member(
                    f"<bytes after the archive at {listing.end}>",
                    source.slice(listing.end),
                    "data after the end of the tar",
                )
            )
        note = f"{len(listing.entries)} entries" + ("; legacy torch checkpoint" if legacy else "")
        return ScanResult(tuple(findings), tuple(members), tuple(incomplete), (note,))


def _tar_entry_findings(
    artifact: Artifact, entry: TarEntry, seen: dict[str, int], loaded: bool
) -> list[Finding]:
    found = []
    evidence = artifact.evidence(offset=entry.header_offset, snippet=entry.name)
    reason = unsafe_path(entry.name)
    if reason:
        found.append(R.ARC_UNSAFE_PATH.finding(evidence, reason))
    from pellucid.formats.archives import LINK_TYPES, SPECIAL_TYPES

    what = LINK_TYPES.get(entry.type) or SPECIAL_TYPES.get(entry.type)
    if what:
        detail = what + ("; torch.load extracts it and reads what it points at" if loaded else "")
        found.append(
            R.ARC_LINK.finding(
                evidence.at(offset=entry.header_offset, snippet=f"{entry.name} -> {entry.link}"),
                detail,
                severity=Severity.HIGH if loaded else None,
            )
        )
    if entry.name in seen:
        found.append(
            R.ARC_DUPLICATE.finding(
                evidence,
                f"first copy at offset {seen[entry.name]}; tarfile reads the last; "
                "both are scanned",
            )
        )
    seen.setdefault(entry.name, entry.header_offset)
    return found


def _has_data(source: ByteSource, start: int) -> bool:
    """True if anything but zero padding follows ``start``."""
    step = 1024 * 1024
    return any(
        source.view(offset, step).tobytes().strip(b"\0")
        for offset in range(start, source.size, step)
    )


class SevenZipScanner:
    """7z archives (a repacked PyTorch checkpoint must still be reached); needs py7zr."""

    id: ClassVar[str] = "7z"
    rules: ClassVar[tuple[Rule, ...]] = R.SEVEN_ZIP_RULES

    def accepts(self, kind: FileKind) -> bool:
        return kind is FileKind.SEVEN_ZIP

    def scan(self, artifact: Artifact, source: ByteSource, ctx: ScanContext) -> ScanResult:
        budget = ctx.budget
        evidence = artifact.evidence(offset=0)
        from pellucid.formats.archives import read_7z

        contents = read_7z(
            source.view(),
            max_members=budget.max_members,
            member_limit=budget.max_member_bytes,
            total_limit=budget.max_unpacked_bytes,
        )
        findings: list[Finding] = []
        incomplete = list(contents.problems)
        for entry in contents.entries:
            reason = unsafe_path(entry.name)
            if reason:
                findings.append(R.ARC_UNSAFE_PATH.finding(evidence.at(snippet=entry.name), reason))
            if entry.is_link:
                findings.append(
                    R.ARC_LINK.finding(evidence.at(snippet=entry.name), "symbolic link")
                )
        if contents.encrypted:
            findings.append(R.ARC_ENCRYPTED.finding(evidence.at(snippet="7z password required")))
        if contents.bomb:
            findings.append(R.ARC_BOMB.finding(evidence.at(snippet="; ".join(contents.problems))))
        if len(contents.entries) >= budget.max_members and any(
            "entries" in p for p in contents.problems
        ):
            findings.append(
                R.ARC_TOO_MANY.finding(
                    evidence.at(snippet=f"more than {budget.max_members} entries")
                )
            )
        members = tuple(
            Member(name, ByteSource(data), unpacked=True) for name, data in contents.data.items()
        )
        note = f"{len(contents.entries)} entries, {len(members)} extracted"
        return ScanResult(tuple(findings), members, tuple(incomplete), (note,))


_KIND_CODECS = {
    FileKind.GZIP: "gzip",
    FileKind.BZIP2: "bzip2",
    FileKind.XZ: "xz",
    FileKind.ZSTD: "zstd",
    FileKind.LZ4: "lz4",
    FileKind.ZLIB: "zlib",
}
_SUFFIXES = (".gz", ".gzip", ".bz2", ".xz", ".lzma", ".zst", ".zstd", ".lz4", ".z", ".zlib")


class CompressedScanner:
    """One compressed stream (the joblib codecs, ``.pkl.gz``): decompressed within budget."""

    id: ClassVar[str] = "compressed"
    rules: ClassVar[tuple[Rule, ...]] = R.COMPRESSED_RULES

    def accepts(self, kind: FileKind) -> bool:
        return kind in _KIND_CODECS

    def scan(self, artifact: Artifact, source: ByteSource, ctx: ScanContext) -> ScanResult:
        codec = CODECS[_KIND_CODECS[artifact.kind]]
        start = 0
        if artifact.kind is FileKind.ZLIB:
            start = joblib_zfile_start(source.head(32)) or 0  # joblib < 0.9.3 "ZF" files
        limit = min(ctx.budget.max_member_bytes, ctx.budget.max_unpacked_bytes)
        result = inflate(source.view(start), codec, limit, ctx.budget)
        end = start + result.end
        findings: list[Finding] = []
        incomplete: list[str] = []
        if result.bomb:
            findings.append(
                R.ARC_BOMB.finding(artifact.evidence(offset=end, snippet=result.problem))
            )
            incomplete.append(f"{codec.name}: {result.problem} (budget); the rest not read")
        elif result.problem and not result.data:
            incomplete.append(f"{codec.name}: {result.problem}")
        elif result.problem:
            findings.append(
                R.ARC_MALFORMED.finding(
                    artifact.evidence(offset=end, snippet=result.problem),
                    "the loader stops here too",
                )
            )
        members = (
            [Member(_inner_name(artifact, codec.name), ByteSource(result.data), unpacked=True)]
            if result.data
            else []
        )
        if not result.problem and _has_data(source, end):
            findings.append(
                R.ARC_TRAILING.finding(
                    artifact.evidence(offset=end, snippet=source.read(end, 16).hex(" "))
                )
            )
            members.append(
                Member(
                    f"<bytes after the {codec.name} stream at {end}>",
                    source.slice(end),
                    f"data after the end of the {codec.name} stream (loaders stop before it)",
                )
            )
        note = f"{codec.name}: {result.streams} stream(s), {len(result.data)} bytes"
        return ScanResult(tuple(findings), tuple(members), tuple(incomplete), (note,))


def _inner_name(artifact: Artifact, codec: str) -> str:
    outer = PurePosixPath(artifact.member[-1] if artifact.member else artifact.path).name
    for suffix in _SUFFIXES:
        if outer.lower().endswith(suffix) and len(outer) > len(suffix):
            return outer[: -len(suffix)]
    if outer.lower().endswith(".tgz"):
        return outer[:-4] + ".tar"
    return f"<{codec} content>"
