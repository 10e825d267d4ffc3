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

import struct
from dataclasses import dataclass, replace

from pellucid.formats.zip_checks import (
    FLAG_DESCRIPTOR,
    FLAG_ENCRYPTED,
    FLAG_MASKED,
    FLAG_PATCH,
    FLAG_STRONG,
    FLAG_UTF8,
    Anomaly,
    Issue,
    duplicates,
    entry_checks,
    layout,
)

LOCAL_SIG, CENTRAL_SIG, END_SIG = b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06"
LOCATOR_SIG, END64_SIG = b"PK\x06\x07", b"PK\x06\x06"
_END_SIZE, _LOCATOR_SIZE, _END64_SIZE = 22, 20, 56
_TAIL = 0xFFFF + _END_SIZE  # the end record sits at most one maximal comment from the end
_MAX_END_CANDIDATES = 256
_U32 = 0xFFFFFFFF

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
    gaps = [] if truncated else layout(view, entries, end, anomalies)
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
    duplicated = duplicates(entries, end.entries, anomalies)
    for entry in entries:
        anomalies.extend(entry_checks(entry))
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
                    f"{local_name.decode('utf-8', 'replace')!r}; loaders that trust the local "
                    f"header see another file"
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
