"""Consistency checks over a parsed zip directory, and miniz's name lookup.

Given the entries ``formats.zip`` read from the central directory and local headers, these
functions find overlaps, bytes outside every entry, duplicate names (and which copy PyTorch's
miniz and Python's zipfile each load), encryption and patch flags, and unsafe names.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pellucid.formats.zip import EndRecord, Entry

DESCRIPTOR_SIG = b"PK\x07\x08"
FLAG_ENCRYPTED, FLAG_DESCRIPTOR, FLAG_PATCH, FLAG_STRONG = 0x1, 0x8, 0x20, 0x40
FLAG_UTF8, FLAG_MASKED = 0x800, 0x2000


class Issue(enum.Enum):
    EXTRA_END = "several end-of-central-directory records"
    SHIFTED = "offsets are only right after adjusting for prepended bytes"
    COUNT = "the central directory disagrees with the end record"
    NAME = "the local header names a different file"
    LOCAL = "the local header disagrees with the central directory"
    BAD_LOCAL = "the local header is missing or out of range"
    DUPLICATE = "several entries have the same name"
    OVERLAP = "entries overlap"
    OUTSIDE = "bytes outside every entry"
    ENCRYPTED = "encrypted entry"
    FLAGS = "patch-data flag set"
    PATH = "entry name leaves the extraction folder"


@dataclass(frozen=True, slots=True)
class Anomaly:
    issue: Issue
    offset: int
    detail: str
    snippet: str = ""


def _data_end(view: memoryview, entry: Entry) -> int:
    end = entry.data_offset + entry.compressed_size
    if not (entry.flags | entry.local_flags) & FLAG_DESCRIPTOR:
        return end
    if view[end : end + 4] == DESCRIPTOR_SIG:
        end += 4
    for length in (12, 20):  # the descriptor is 12 bytes, or 20 with ZIP64 sizes
        if bytes(view[end + length : end + length + 2]) == b"PK":
            return end + length
    return end + 12


def layout(
    view: memoryview, entries: Sequence[Entry], end: EndRecord, anomalies: list[Anomaly]
) -> list[tuple[int, int]]:
    """Find overlaps and bytes outside every entry, walking the file in offset order."""
    spans = sorted(
        (e.header_offset, _data_end(view, e), e.name) for e in entries if e.data_offset >= 0
    )
    spans.append((end.cd_start, end.cd_start + end.cd_size, "<central directory>"))
    gaps: list[tuple[int, int]] = []
    cursor, previous = 0, "<start of file>"
    for start, stop, name in spans:
        if start < cursor:
            anomalies.append(
                Anomaly(
                    Issue.OVERLAP,
                    start,
                    (
                        f"{name!r} starts at offset {start}, inside {previous!r} which ends at "
                        f"{cursor}; the same bytes are read twice"
                    ),
                    name,
                )
            )
        elif start > cursor:
            gaps.append((cursor, start - cursor))
        if stop > cursor:
            cursor, previous = stop, name
    if end.cd_limit > cursor:
        gaps.append((cursor, end.cd_limit - cursor))
    for offset, length in gaps:
        where = "before the first entry" if offset == 0 else "between entries"
        anomalies.append(
            Anomaly(
                Issue.OUTSIDE,
                offset,
                f"{length} bytes at offset {offset} {where} belong to no entry; loaders skip them",
                bytes(view[offset : offset + 16]).hex(" "),
            )
        )
    return gaps


def duplicates(entries: Sequence[Entry], counted: int, anomalies: list[Anomaly]) -> frozenset[int]:
    groups: dict[bytes, list[Entry]] = {}
    for entry in entries:
        groups.setdefault(entry.raw_name.lower(), []).append(entry)
    clashes = [g for g in groups.values() if len(g) > 1]
    if not clashes:
        return frozenset()
    keys = [e.raw_name.lower() for e in entries[:counted]]
    order = miniz_sorted(keys)
    for group in clashes:
        torch_pick = miniz_lookup(keys, order, group[0].raw_name)
        zipfile_pick = [e for e in group if e.name == group[0].name][-1].index
        where = ", ".join(f"#{e.index} at offset {e.header_offset}" for e in group)
        torch_text = "none" if torch_pick is None else f"#{torch_pick}"
        anomalies.append(
            Anomaly(
                Issue.DUPLICATE,
                group[0].header_offset,
                (
                    f"{len(group)} entries named {group[0].name!r} ({where}); torch.load "
                    f"(miniz, case-insensitive) reads {torch_text}, Python zipfile "
                    f"(numpy.load, Keras) reads #{zipfile_pick}; every copy is scanned"
                ),
                group[0].name,
            )
        )
    return frozenset(e.index for g in clashes for e in g)


def miniz_sorted(keys: Sequence[bytes]) -> list[int]:
    """Entry indices in the order miniz's (unstable) heap sort leaves them."""
    order = list(range(len(keys)))

    def sift(root: int, end: int) -> None:
        while (child := 2 * root + 1) < end:
            if child + 1 < end and keys[order[child]] < keys[order[child + 1]]:
                child += 1
            if not keys[order[root]] < keys[order[child]]:
                return
            order[root], order[child] = order[child], order[root]
            root = child

    for start in range((len(order) - 2) >> 1, -1, -1):
        sift(start, len(order))
    for end in range(len(order) - 1, 0, -1):
        order[end], order[0] = order[0], order[end]
        sift(0, end)
    return order


def miniz_lookup(keys: Sequence[bytes], order: Sequence[int], name: bytes) -> int | None:
    """The entry index miniz's binary search returns for ``name``, or None if none matches."""
    wanted = name.lower()
    low, high = 0, len(order) - 1
    while low <= high:
        middle = low + ((high - low) >> 1)
        here = keys[order[middle]]
        if here == wanted:
            return order[middle]
        low, high = (middle + 1, high) if here < wanted else (low, middle - 1)
    return None


def entry_checks(entry: Entry) -> list[Anomaly]:
    found = []
    flags = entry.flags | entry.local_flags
    if entry.encrypted:
        found.append(
            Anomaly(
                Issue.ENCRYPTED,
                entry.header_offset,
                (
                    f"{entry.name!r} is encrypted (flags 0x{flags:04x}, method {entry.method}); "
                    f"its content cannot be examined"
                ),
                entry.name,
            )
        )
    if flags & FLAG_PATCH:
        found.append(
            Anomaly(
                Issue.FLAGS,
                entry.header_offset,
                (
                    f"{entry.name!r} sets the patch-data flag (0x0020): Python zipfile refuses it, "
                    f"miniz ignores it"
                ),
                entry.name,
            )
        )
    reason = unsafe_path(entry.name)
    if reason:
        found.append(
            Anomaly(Issue.PATH, entry.central_offset, f"{entry.name!r}: {reason}", entry.name)
        )
    return found


_SEPARATORS = re.compile(r"[\\/]")


def unsafe_path(name: str) -> str:
    """Why extracting ``name`` would write outside the target folder, or "" if it would not."""
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        return "absolute path"
    if ".." in _SEPARATORS.split(name):
        return "a '..' component climbs out of the extraction folder"
    return ""
