"""Tar and 7z readers for the scanner.

Tar headers are parsed here rather than with ``tarfile``: members stay zero-copy windows of
the parent, and a hostile header becomes a problem with its offset instead of an exception.
7z needs ``py7zr`` (imported when first used) and is decompressed within the member and
total budgets; entries whose names would escape an extraction folder are listed, not read.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pellucid.formats.zip_checks import unsafe_path
from pellucid.source import ViewFile

if TYPE_CHECKING:
    import py7zr

BLOCK = 512
_ZERO_BLOCK = bytes(BLOCK)
_PAX_READ_LIMIT = 1024 * 1024
REGULAR_TYPES = frozenset({"0", "\0", "7"})
LINK_TYPES = {"1": "hard link", "2": "symbolic link"}
SPECIAL_TYPES = {"3": "character device", "4": "block device", "6": "FIFO"}
_META_TYPES = frozenset({"x", "g", "L", "K"})
_KNOWN_TYPES = REGULAR_TYPES | LINK_TYPES.keys() | SPECIAL_TYPES.keys() | {"5"}


@dataclass(frozen=True, slots=True)
class TarEntry:
    """One member as ``tarfile`` would see it (PAX and GNU long names applied)."""

    name: str
    type: str  # the typeflag character
    header_offset: int
    data_offset: int
    size: int
    link: str = ""

    @property
    def is_file(self) -> bool:
        return self.type in REGULAR_TYPES


@dataclass(frozen=True, slots=True)
class TarListing:
    entries: tuple[TarEntry, ...]
    problems: tuple[tuple[int, str], ...]  # (offset, what is wrong) in header order
    truncated: bool  # stopped at the member budget
    end: int  # offset just past the end-of-archive marker or the last member read


def read_tar(view: memoryview, max_members: int) -> TarListing:
    """List the members of a tar archive in ``view``; never raises on malformed headers."""
    entries: list[TarEntry] = []
    problems: list[tuple[int, str]] = []
    pending: dict[str, str] = {}  # PAX / GNU long-name values for the next member
    pos = 0
    while pos + BLOCK <= len(view):
        block = bytes(view[pos : pos + BLOCK])
        if block == _ZERO_BLOCK:
            return TarListing(tuple(entries), tuple(problems), False, pos + BLOCK)
        header = _header(block)
        if isinstance(header, str):
            problems.append((pos, f"{header}; tarfile stops reading here"))
            break
        name, kind, size, link = header
        data = pos + BLOCK
        size = _pax_int(pending, "size", size) if kind not in _META_TYPES else size
        if data + size > len(view):
            problems.append((pos, f"member {name!r} claims {size} bytes past the end of the file"))
            break
        if kind in _META_TYPES:
            _absorb(kind, bytes(view[data : data + min(size, _PAX_READ_LIMIT)]), pending)
        else:
            name, link = pending.pop("path", name), pending.pop("linkpath", link)
            pending.clear()
            if kind not in _KNOWN_TYPES:
                problems.append((pos, f"member {name!r} has unsupported type {kind!r}"))
            entries.append(TarEntry(name, kind, pos, data, size, link))
            if len(entries) >= max_members:
                return TarListing(tuple(entries), tuple(problems), True, data + size)
        pos = data + -(-size // BLOCK) * BLOCK
    else:
        if pos < len(view):
            problems.append((pos, "the archive ends inside a header"))
    return TarListing(tuple(entries), tuple(problems), False, pos)


def _header(block: bytes) -> tuple[str, str, int, str] | str:
    """(name, type, size, link) of one header block, or what is wrong with it."""
    stored = _number(block[148:156])
    unsigned = sum(block[:148]) + 8 * 32 + sum(block[156:])
    signed = unsigned - 2 * sum(b for b in (*block[:148], *block[156:]) if b > 127)
    if stored is None or stored not in (unsigned, signed):
        return "header checksum mismatch"
    size = _number(block[124:136])
    if size is None or size < 0:
        return "invalid size field"
    name = _text(block[0:100])
    if block[257:262] == b"ustar" and block[345:346] != b"\0":
        name = _text(block[345:500]) + "/" + name
    return name, chr(block[156]) if block[156] else "\0", size, _text(block[157:257])


def _number(field: bytes) -> int | None:
    """An octal or GNU base-256 numeric field."""
    if field[:1] in (b"\x80", b"\xff"):
        value = int.from_bytes(field[1:], "big")
        return value - 256 ** (len(field) - 1) if field[0] == 0xFF else value
    digits = field.replace(b"\0", b" ").strip()
    try:
        return int(digits, 8) if digits else 0
    except ValueError:
        return None


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "replace")


def _absorb(kind: str, payload: bytes, pending: dict[str, str]) -> None:
    if kind == "L":
        pending["path"] = _text(payload)
    elif kind == "K":
        pending["linkpath"] = _text(payload)
    elif kind == "x":
        pending.update(_pax_records(payload))


def _pax_records(payload: bytes) -> dict[str, str]:
    """``"<length> <key>=<value>\\n"`` records; stops quietly at the first malformed one."""
    records: dict[str, str] = {}
    pos = 0
    while pos < len(payload):
        space = payload.find(b" ", pos, pos + 24)
        try:
            length = int(payload[pos:space]) if space > pos else 0
        except ValueError:
            break
        record = payload[space + 1 : pos + length].rstrip(b"\n")
        if length <= 0 or b"=" not in record:
            break
        key, _, value = record.partition(b"=")
        records[key.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
        pos += length
    return records


def _pax_int(pending: dict[str, str], key: str, default: int) -> int:
    try:
        value = int(pending[key])
    except (KeyError, ValueError):
        return default
    return value if value >= 0 else default


@dataclass(frozen=True, slots=True)
class SevenZipEntry:
    name: str
    size: int
    is_dir: bool
    is_link: bool


@dataclass(slots=True)
class SevenZipContents:
    """What a 7z archive lists and, for entries within budget, their bytes."""

    entries: list[SevenZipEntry] = field(default_factory=list)
    data: dict[str, bytes] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # reasons the look is incomplete
    encrypted: bool = False
    bomb: bool = False


def read_7z(
    view: memoryview, *, max_members: int, member_limit: int, total_limit: int
) -> SevenZipContents:
    """List and decompress a 7z archive; entries with unsafe names are listed, not read."""
    contents = SevenZipContents()
    try:
        import py7zr
    except ImportError:
        contents.problems.append("py7zr not installed (pip install pellucid[formats])")
        return contents
    try:
        with py7zr.SevenZipFile(
            io.BufferedReader(ViewFile(view)), mode="r", max_extract_size=total_limit
        ) as archive:
            contents.encrypted = archive.needs_password()
            infos = archive.list()
            for info in infos[:max_members]:
                contents.entries.append(
                    SevenZipEntry(
                        info.filename,
                        int(info.uncompressed or 0),
                        info.is_directory,
                        info.is_symlink,
                    )
                )
            if len(infos) > max_members:
                contents.problems.append(f"more than {max_members} entries (budget)")
            if contents.encrypted:
                contents.problems.append("encrypted: entries cannot be read without the password")
                return contents
            _extract(archive, contents, member_limit)
    except Exception as exc:
        bomb = type(exc).__name__ in ("DecompressionBombError", "_MemberTooLarge")
        contents.bomb = contents.bomb or bomb
        contents.problems.append(f"7z: {type(exc).__name__}: {exc}")
    return contents


def _extract(archive: py7zr.SevenZipFile, contents: SevenZipContents, limit: int) -> None:
    from py7zr.io import Py7zIO, WriterFactory

    class _MemberTooLarge(Exception):
        pass

    class _Capped(Py7zIO):
        def __init__(self) -> None:
            self.buffer = io.BytesIO()

        def write(self, s: bytes | bytearray) -> int:
            if self.buffer.tell() + len(s) > limit:
                raise _MemberTooLarge(f"an entry decompresses to more than {limit} bytes")
            return self.buffer.write(s)

        def read(self, size: int | None = None) -> bytes:
            return self.buffer.read(size)

        def seek(self, offset: int, whence: int = 0) -> int:
            return self.buffer.seek(offset, whence)

        def flush(self) -> None:
            pass

        def size(self) -> int:
            return len(self.buffer.getbuffer())

    class _Factory(WriterFactory):
        def __init__(self) -> None:
            self.products: dict[str, _Capped] = {}

        def create(self, filename: str) -> Py7zIO:
            self.products[filename] = product = _Capped()
            return product

    targets = []
    for entry in contents.entries:
        if entry.is_dir or entry.is_link:
            continue
        if unsafe_path(entry.name):  # py7zr refuses the whole extraction for one such name
            contents.problems.append(f"{entry.name}: unsafe path, not extracted")
            continue
        if entry.size > limit:
            contents.problems.append(f"{entry.name}: declares {entry.size} bytes (budget)")
            contents.bomb = True
            continue
        targets.append(entry.name)
    factory = _Factory()
    if targets:
        archive.extract(targets=targets, factory=factory)
    contents.data = {name: p.buffer.getvalue() for name, p in factory.products.items()}
