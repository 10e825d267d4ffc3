"""A zip reader written for the scanner, faithful to the loaders rather than to the spec.

PyTorch reads zips with miniz: it finds the end record from the end of the file, takes the
central directory as the truth, ignores CRCs and looks names up case-insensitively by binary
search over a heap-sorted directory. Python's ``zipfile`` (numpy, Keras) differs on every one
of those points. This reader lists members by index, locates their bodies through the local
headers, and records each disagreement as an ``Anomaly`` with its byte offset. Only the end
records, the central directory and the local headers are read; bodies are decoded by
``formats.compression.decode_method`` when a caller asks for one.
"""

from __future__ import annotations

import enum
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass, replace

LOCAL_SIG, CENTRAL_SIG, END_SIG = b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06"
LOCATOR_SIG, END64_SIG, DESCRIPTOR_SIG = b"PK\x06\x07", b"PK\x06\x06", b"PK\x07\x08"
_END_SIZE, _LOCATOR_SIZE, _END64_SIZE = 22, 20, 56
_TAIL = 0xFFFF + _END_SIZE  # the end record sits at most one maximal comment from the end
_MAX_END_CANDIDATES = 256
_U32 = 0xFFFFFFFF

FLAG_ENCRYPTED, FLAG_DESCRIPTOR, FLAG_PATCH, FLAG_STRONG = 0x1, 0x8, 0x20, 0x40
FLAG_UTF8, FLAG_MASKED = 0x800, 0x2000
METHOD_NAMES = {
    0: "stored",
    8: "deflate",
    9: "deflate64",
    12: "bzip2",
    14: "lzma",
    93: "zstd",
    95: "xz",
    99: "AES-encrypted",
}


class ZipError(ValueError):
    """No end record with a central directory behind it: nothing a loader could open."""


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


@dataclass(frozen=True, slots=True)
class EndRecord:
    offset: int  # of the end-of-central-directory signature
    entries: int  # as recorded (miniz iterates this many)
    cd_size: int
    cd_offset: int  # as recorded
    cd_start: int  # where the central directory really is
    cd_limit: int  # where a well-formed central directory ends (ZIP64 record or end record)
    zip64: bool

    @property
    def shift(self) -> int:
        return self.cd_start - self.cd_offset


@dataclass(frozen=True, slots=True)
class Entry:
    index: int
    name: str  # decoded as zipfile does (UTF-8 with flag 0x800, else cp437)
    raw_name: bytes  # what miniz compares
    flags: int
    method: int
    crc: int
    compressed_size: int
    size: int
    header_offset: int  # of the local header, after any shift
    central_offset: int
    data_offset: int = -1  # -1 until a valid local header is found
    local_flags: int = 0

    @property
    def encrypted(self) -> bool:
        flags = self.flags | self.local_flags
        return bool(flags & (FLAG_ENCRYPTED | FLAG_STRONG | FLAG_MASKED)) or self.method == 99

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/") and self.size == 0


@dataclass(frozen=True, slots=True)
class Directory:
    end: EndRecord
    entries: tuple[Entry, ...]
    anomalies: tuple[Anomaly, ...]
    gaps: tuple[tuple[int, int], ...]  # (offset, length) of bytes no entry accounts for
    duplicated: frozenset[int]  # indices of entries whose name another entry shares
    truncated: bool  # more entries than the member budget


def end_records(view: memoryview) -> list[EndRecord]:
    """End records in the tail whose central directory is really there, nearest the end first."""
    base = max(0, len(view) - _TAIL)
    tail = bytes(view[base:])
    found: list[EndRecord] = []
    stop = len(tail)
    for _ in range(_MAX_END_CANDIDATES):
        at = tail.rfind(END_SIG, 0, stop)
        if at == -1:
            break
        stop = at + 3
        record = _end_record(view, base + at) if len(view) - base - at >= _END_SIZE else None
        if record is not None:
            found.append(record)
    return found


def _end_record(view: memoryview, at: int) -> EndRecord | None:
    _disk, _cd_disk, _on_disk, entries, cd_size, cd_offset = struct.unpack_from(
        "<HHHHII", view, at + 4
    )
    limit, zip64 = at, False
    locator = at - _LOCATOR_SIZE
    if locator >= 0 and view[locator : locator + 4] == LOCATOR_SIG:
        recorded = struct.unpack_from("<Q", view, locator + 8)[0]
        for record in (recorded, locator - _END64_SIZE):  # miniz's choice, then zipfile's
            if 0 <= record <= len(view) - _END64_SIZE and view[record : record + 4] == END64_SIG:
                entries, cd_size, cd_offset = struct.unpack_from("<QQQ", view, record + 32)
                limit, zip64 = record, True
                break
    if entries == 0 and cd_size == 0 and cd_offset == limit:  # an empty archive
        return EndRecord(at, 0, 0, cd_offset, cd_offset, limit, zip64)
    for start in (cd_offset, limit - cd_size):  # miniz trusts the offset; zipfile adjusts it
        if 0 <= start < len(view) and view[start : start + 4] == CENTRAL_SIG:
            return EndRecord(at, entries, cd_size, cd_offset, start, limit, zip64)
    return None


def read_directory(view: memoryview, max_members: int) -> Directory:
    """Parse the directory of the zip in ``view``; raises ``ZipError`` if there is none."""
    records = end_records(view)
    if not records:
        raise ZipError("no end-of-central-directory record points at a central directory")
    end = records[0]
    anomalies: list[Anomaly] = []
    if end.shift:
        anomalies.append(
            Anomaly(
                Issue.SHIFTED,
                end.cd_start,
                (
                    f"the central directory is recorded at offset {end.cd_offset} but found at "
                    f"{end.cd_start}; torch.load (miniz) cannot open this file, Python zipfile can"
                ),
            )
        )
    entries, truncated = _central_directory(view, end, max_members, anomalies)
    entries = [_with_local(view, e, anomalies) for e in entries]
    gaps = [] if truncated else _layout(view, entries, end, anomalies)
    spans = [(e.data_offset, e.data_offset + e.compressed_size) for e in entries]
    anomalies.extend(
        Anomaly(
            Issue.EXTRA_END,
            extra.offset,
            (
                f"another end record at offset {extra.offset} describes a central directory at "
                f"{extra.cd_start}; loaders read the one at {end.offset}"
            ),
        )
        for extra in records[1:]
        if not any(a <= extra.offset < b for a, b in spans)
    )
    duplicated = _duplicates(entries, end.entries, anomalies)
    for entry in entries:
        anomalies.extend(_entry_checks(entry))
    return Directory(end, tuple(entries), tuple(anomalies), tuple(gaps), duplicated, truncated)


def _central_directory(
    view: memoryview, end: EndRecord, max_members: int, anomalies: list[Anomaly]
) -> tuple[list[Entry], bool]:
    # zipfile walks the directory by its size, miniz by the recorded count: read by size and
    # report any difference, so entries only one of them sees are still scanned.
    entries: list[Entry] = []
    pos, stop = end.cd_start, min(end.cd_start + end.cd_size, len(view))
    while pos + 46 <= stop:
        if view[pos : pos + 4] != CENTRAL_SIG:
            anomalies.append(
                Anomaly(
                    Issue.COUNT,
                    pos,
                    "the central directory has unparsable bytes where an entry should start",
                )
            )
            break
        if len(entries) >= max_members:
            return entries, True
        entry, pos = _central_entry(view, pos, len(entries), end.shift)
        entries.append(entry)
    if len(entries) != end.entries:
        anomalies.append(
            Anomaly(
                Issue.COUNT,
                end.offset,
                (
                    f"the end record counts {end.entries} entries, the central directory holds "
                    f"{len(entries)}; torch.load (miniz) sees only the first {end.entries}"
                ),
            )
        )
    return entries, False


def _central_entry(view: memoryview, pos: int, index: int, shift: int) -> tuple[Entry, int]:
    (
        flags,
        method,
        _time,
        _date,
        crc,
        csize,
        usize,
        name_len,
        extra_len,
        comment_len,
        _disk,
        _internal,
        _external,
        local,
    ) = struct.unpack_from("<HHHHIIIHHHHHII", view, pos + 8)
    name_at = pos + 46
    raw = bytes(view[name_at : name_at + name_len])
    extra = bytes(view[name_at + name_len : name_at + name_len + extra_len])
    usize, csize, local = _zip64_extra(extra, usize, csize, local)
    name = raw.decode("utf-8" if flags & FLAG_UTF8 else "cp437", "replace")
    entry = Entry(index, name, raw, flags, method, crc, csize, usize, local + shift, pos)
    return entry, name_at + name_len + extra_len + comment_len


def _zip64_extra(extra: bytes, usize: int, csize: int, local: int) -> tuple[int, int, int]:
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        if tag == 1:
            values = [usize, csize, local]
            field_at = pos + 4
            for i, value in enumerate(values):
                if value == _U32 and field_at + 8 <= pos + 4 + size <= len(extra):
                    values[i] = struct.unpack_from("<Q", extra, field_at)[0]
                    field_at += 8
            return values[0], values[1], values[2]
        pos += 4 + size
    return usize, csize, local


def _with_local(view: memoryview, entry: Entry, anomalies: list[Anomaly]) -> Entry:
    at = entry.header_offset
    if not 0 <= at <= len(view) - 30 or view[at : at + 4] != LOCAL_SIG:
        anomalies.append(
            Anomaly(
                Issue.BAD_LOCAL,
                max(at, 0),
                (f"{entry.name!r}: no local header at offset {at}; the entry cannot be read"),
                entry.name,
            )
        )
        return entry
    flags, method, _t, _d, crc, csize, usize, name_len, extra_len = struct.unpack_from(
        "<HHHHIIIHH", view, at + 6
    )
    local_name = bytes(view[at + 30 : at + 30 + name_len])
    data = at + 30 + name_len + extra_len
    if local_name != entry.raw_name:
        anomalies.append(
            Anomaly(
                Issue.NAME,
                at,
                (
                    f"central directory name {entry.name!r}, local header name "
                    f"{local_name.decode('utf-8', 'replace')!r}; loaders that trust the local header "
                    f"see another file"
                ),
                entry.name,
            )
        )
    differences = []
    if method != entry.method:
        differences.append(f"method {method} locally, {entry.method} centrally")
    if (flags ^ entry.flags) & (FLAG_ENCRYPTED | FLAG_PATCH | FLAG_STRONG):
        differences.append(f"flags 0x{flags:04x} locally, 0x{entry.flags:04x} centrally")
    if not (flags | entry.flags) & FLAG_DESCRIPTOR:
        for label, here, there in (
            ("compressed size", csize, entry.compressed_size),
            ("size", usize, entry.size),
            ("CRC-32", crc, entry.crc),
        ):
            if here != there and here != _U32:
                differences.append(f"{label} {here} locally, {there} centrally")
    if differences:
        anomalies.append(
            Anomaly(Issue.LOCAL, at, f"{entry.name!r}: " + "; ".join(differences), entry.name)
        )
    if data + entry.compressed_size > len(view):
        anomalies.append(
            Anomaly(
                Issue.BAD_LOCAL,
                at,
                (f"{entry.name!r}: its data would run past the end of the file"),
                entry.name,
            )
        )
    return replace(entry, data_offset=data, local_flags=flags)


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


def _layout(
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
                (
                    f"{length} bytes at offset {offset} {where} belong to no entry; loaders skip them"
                ),
                bytes(view[offset : offset + 16]).hex(" "),
            )
        )
    return gaps


def _duplicates(entries: Sequence[Entry], counted: int, anomalies: list[Anomaly]) -> frozenset[int]:
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
                    f"{len(group)} entries named {group[0].name!r} ({where}); torch.load (miniz, "
                    f"case-insensitive) reads {torch_text}, Python zipfile (numpy.load, Keras) reads "
                    f"#{zipfile_pick}; every copy is scanned"
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


def _entry_checks(entry: Entry) -> list[Anomaly]:
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
