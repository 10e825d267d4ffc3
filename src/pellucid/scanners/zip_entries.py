"""What the entries of a zip mean (PyTorch, TorchScript, Keras, npz) and how each is handed on.

``ZipRun`` turns the directory read by ``formats.zip`` into findings and members: stored
entries become zero-copy windows, compressed ones are decoded within the member and
unpacked-bytes budgets, CRCs are compared where that is cheap, and TorchScript code is checked
for native libraries and custom operators.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

from pellucid.formats.compression import decode_method
from pellucid.formats.zip import Directory, Entry
from pellucid.formats.zip_checks import Anomaly, Issue
from pellucid.model import Artifact, FileKind, Finding, Rule
from pellucid.scanners import archive_rules as R
from pellucid.scanners.base import Member, ScanContext
from pellucid.source import ByteSource

STORAGE_NOTE = "tensor storage (raw numbers, read by the loader as data only)"
_CRC_LIMIT = 16 * 1024 * 1024  # stored entries up to this size get their CRC-32 checked
_ISSUE_RULES: dict[Issue, Rule] = {
    Issue.EXTRA_END: R.ZIP_AMBIGUOUS_DIRECTORY,
    Issue.SHIFTED: R.ZIP_AMBIGUOUS_DIRECTORY,
    Issue.COUNT: R.ZIP_AMBIGUOUS_DIRECTORY,
    Issue.NAME: R.ZIP_NAME_MISMATCH,
    Issue.LOCAL: R.ZIP_LOCAL_MISMATCH,
    Issue.BAD_LOCAL: R.ZIP_LOCAL_MISMATCH,
    Issue.DUPLICATE: R.ZIP_DUPLICATE_NAMES,
    Issue.OVERLAP: R.ZIP_OVERLAP,
    Issue.OUTSIDE: R.ZIP_OUTSIDE_BYTES,
    Issue.ENCRYPTED: R.ZIP_ENCRYPTED,
    Issue.FLAGS: R.ZIP_FLAGS,
    Issue.PATH: R.ZIP_UNSAFE_PATH,
}


class ZipLayout:
    """What kind of zip this is (PyTorch, TorchScript, Keras, npz) and what its entries mean."""

    def __init__(self, names: Sequence[str]) -> None:
        self.prefix = names[0].split("/", 1)[0] + "/" if names and "/" in names[0] else ""
        inner = {n[len(self.prefix) :] for n in names if n.startswith(self.prefix)}
        files = [n for n in names if not n.endswith("/")]
        if self.prefix and "constants.pkl" in inner and any(n.startswith("code/") for n in inner):
            self.kind = "torchscript"
        elif self.prefix and "data.pkl" in inner:
            self.kind = "pytorch"
        elif {"config.json", "metadata.json"} <= set(names):
            self.kind = "keras"
        elif files and all(n.endswith(".npy") for n in files):
            self.kind = "npz"
        else:
            self.kind = "generic"

    def role(self, name: str) -> tuple[FileKind | None, str]:
        """The kind to force (None: identify by content) and a note for the member."""
        if self.kind not in ("pytorch", "torchscript") or not name.startswith(self.prefix):
            return None, ""
        inner = name[len(self.prefix) :]
        if inner.endswith((".pkl", ".debug_pkl")):
            return FileKind.PICKLE, "unpickled by torch.load / torch.jit.load"
        if inner.startswith("data/"):
            return None, STORAGE_NOTE
        if inner.startswith("code/") and inner.endswith(".py"):
            return FileKind.TEXT, "TorchScript code (checked for native libraries and custom ops)"
        return None, ""


class ZipRun:
    """The state of one zip scan: findings, members and the unpacked-bytes budget."""

    def __init__(
        self, artifact: Artifact, source: ByteSource, ctx: ScanContext, directory: Directory
    ) -> None:
        self.artifact, self.source, self.budget = artifact, source, ctx.budget
        self.directory = directory
        self.layout = ZipLayout([e.name for e in directory.entries])
        self.findings: list[Finding] = [self._finding(a) for a in directory.anomalies]
        self.members: list[Member] = []
        self.incomplete: list[str] = []
        self.unpacked = 0

    def _finding(self, anomaly: Anomaly) -> Finding:
        evidence = self.artifact.evidence(offset=anomaly.offset, snippet=anomaly.snippet)
        return _ISSUE_RULES[anomaly.issue].finding(evidence, anomaly.detail)

    def entry(self, entry: Entry) -> None:
        if entry.is_dir:
            return
        if entry.encrypted or entry.data_offset < 0:
            why = "encrypted" if entry.encrypted else "no local header"
            self.incomplete.append(f"{entry.name}: {why}; not examined")
            return
        data = self._body(entry)
        if data is None:
            return
        name = entry.name
        if entry.index in self.directory.duplicated:
            name = f"{entry.name} (entry {entry.index})"
        kind, note = self.layout.role(entry.name)
        if kind is FileKind.TEXT:
            self.findings.extend(
                _torchscript_findings(
                    self.artifact.child(name, kind, data.size), data, self.budget.max_text_bytes
                )
            )
        self.members.append(Member(name, data, note, kind, unpacked=entry.method != 0))

    def _body(self, entry: Entry) -> ByteSource | None:
        if entry.method == 0:
            data = self.source.slice(entry.data_offset, entry.compressed_size)
            if entry.compressed_size != entry.size:
                self._size_finding(entry, entry.compressed_size)
            if data.size <= _CRC_LIMIT:
                self._crc(entry, data.view())
            return data
        room = min(self.budget.max_member_bytes, self.budget.max_unpacked_bytes - self.unpacked)
        if entry.size > room:
            self._bomb(entry, f"declares {entry.size} bytes uncompressed, more than the budget")
            return None
        raw = self.source.view(entry.data_offset, entry.compressed_size)
        result = decode_method(raw, entry.method, entry.size, room, self.budget)
        if isinstance(result, str):
            self.incomplete.append(f"{entry.name}: {result}; not examined")
            return None
        if result.bomb and len(result.data) > entry.size:
            del result.data[entry.size :]  # loaders stop at the declared size
        elif result.bomb:
            self._bomb(entry, result.problem)
            return None
        elif result.problem:
            self.incomplete.append(f"{entry.name}: {result.problem}")
        if len(result.data) != entry.size or result.bomb:
            self._size_finding(entry, len(result.data) + int(result.bomb))
        self.unpacked += len(result.data)
        self._crc(entry, memoryview(result.data))
        return ByteSource(result.data)

    def _crc(self, entry: Entry, data: memoryview) -> None:
        actual = zlib.crc32(data)
        if actual != entry.crc:
            snippet = f"CRC-32 0x{entry.crc:08x} recorded, 0x{actual:08x} computed"
            self.findings.append(
                R.ZIP_CRC_MISMATCH.finding(
                    self.artifact.evidence(offset=entry.header_offset, snippet=snippet),
                    f"{entry.name!r}: torch.load ignores the CRC, Python zipfile raises",
                )
            )

    def _size_finding(self, entry: Entry, actual: int) -> None:
        found = f"more than {actual - 1}" if actual > entry.size else str(actual)
        snippet = f"{entry.size} bytes declared, {found} found"
        self.findings.append(
            R.ZIP_SIZE_MISMATCH.finding(
                self.artifact.evidence(offset=entry.header_offset, snippet=snippet), entry.name
            )
        )

    def _bomb(self, entry: Entry, problem: str) -> None:
        self.findings.append(
            R.ZIP_BOMB.finding(
                self.artifact.evidence(offset=entry.header_offset, snippet=problem), entry.name
            )
        )
        self.incomplete.append(f"{entry.name}: {problem} (budget); not examined")


_LOAD_LIBRARY = re.compile(r"\bload_library\s*\(|\bctypes\b|\bcdll\b", re.IGNORECASE)
_OP_NAMESPACE = re.compile(r"\b(?:ops|classes)\.([A-Za-z_]\w*)\.")
_STANDARD_NAMESPACES = frozenset({"aten", "prim", "quantized", "_caffe2", "_quantized"})


def _torchscript_findings(child: Artifact, data: ByteSource, limit: int) -> list[Finding]:
    text = data.read(0, limit).decode("utf-8", "replace")
    found: list[Finding] = []
    for number, line in enumerate(text.splitlines(), start=1):
        snippet = line.strip()[:200]
        if _LOAD_LIBRARY.search(line):
            found.append(R.TS_NATIVE_LIBRARY.finding(child.evidence(line=number, snippet=snippet)))
        found.extend(
            R.TS_CUSTOM_OP.finding(
                child.evidence(line=number, snippet=snippet), f"namespace {match.group(1)!r}"
            )
            for match in _OP_NAMESPACE.finditer(line)
            if match.group(1) not in _STANDARD_NAMESPACES
        )
    return found
