"""The hashing engine: a folder walked as OpenSSF model signing v1.0 walks it, and its files
(or byte ranges of them) hashed in parallel. ``signing.manifest`` builds the v1.0 manifest on
top; ``sign``, ``verify``, attestations and BOM digests all hash through here.

The walk (``plan``): every regular file under the folder, recursively, sorted component by
component as ``PurePosixPath`` sorts (``sub/x`` before ``sub-y``); directories are not entries;
any other kind of file is an error; a symlink is an error unless ``allow_symlinks`` (then a link
to a file is hashed as its target under the link's own name, and a link to a directory is
skipped); paths in ``ignore`` (relative, POSIX) exclude themselves and everything under them.

The hashing (``hash_ranges``): one thread per usable core (``os.sched_getaffinity``), the
largest ranges first so that no core idles at the end while another finishes a big file. Where
the platform has ``MAP_POPULATE`` (Linux) a range is mapped in 64 MiB windows, faulted in by one
system call, and handed to hashlib without the copy ``readinto`` makes (about 5 % less CPU on a
cached 2 GB folder); elsewhere, or when a file cannot be mapped, it is read into a 1 MiB buffer
(small enough to stay in the core's cache between the copy and the hash). hashlib drops the GIL
for each window or buffer, so the threads hash in parallel.

This module imports only what hashing needs (no pathlib, typing or dataclasses at run time):
``pellucid sign`` starts hashing before the rest of the program is imported.

A file truncated by another process while one of its windows is being hashed ends this process
with SIGBUS: every window is checked against the file size before it is mapped, which leaves
only that short race, and no signature or verdict is produced in that case.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import stat
import threading

from pellucid.errors import PellucidError

TYPE_CHECKING = False  # not typing's: importing typing costs 14 ms before hashing starts
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from io import FileIO
    from typing import Protocol

    StrPath = str | os.PathLike[str]
    Job = tuple[StrPath, int, int]  # (path, start, end)
    Entry = tuple[str, StrPath, int, int]  # (entry name, path, start, end)

    class Hash(Protocol):
        """The part of a hashlib object the engine uses."""

        def update(self, data: memoryview, /) -> None: ...
        def digest(self) -> bytes: ...


READ_CHUNK = 1024 * 1024
MAP_WINDOW = 64 * 1024 * 1024
_POPULATE: int | None = getattr(mmap, "MAP_POPULATE", None)

GIT_PATHS = (".git", ".gitattributes", ".github", ".gitignore")  # always ignored, as upstream
ALGORITHMS: dict[str, Callable[[], Hash]] = {
    "sha256": hashlib.sha256,
    "blake2b": hashlib.blake2b,  # 64-byte digest, as model_signing's "blake2"
}


class HashingError(PellucidError):
    """A folder could not be walked or a byte range hashed (unreadable, a symlink or special
    file, shrank, or hashing was cancelled)."""


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def hash_ranges(
    factory: Callable[[], Hash],
    jobs: Sequence[Job],
    workers: int | None = None,
    stop: threading.Event | None = None,
) -> list[bytes]:
    """The digest of bytes [start, end) of each job's path, in the order of ``jobs``.

    ``workers`` defaults to ``usable_cores()``; setting ``stop`` makes the remaining work raise
    HashingError within one window or buffer.
    """
    stop = stop or threading.Event()
    order = sorted(range(len(jobs)), key=lambda i: jobs[i][1] - jobs[i][2])  # largest first
    digests = [b""] * len(jobs)

    def run(index: int) -> None:
        digests[index] = hash_range(factory, *jobs[index], stop=stop)

    count = min(workers or usable_cores(), max(1, len(jobs)))
    if count == 1:
        for index in order:
            run(index)
        return digests
    pending = iter(order)  # shared: next() on a list iterator is atomic under the GIL
    failures: list[BaseException] = []

    def work() -> None:
        for index in pending:  # once ``stop`` is set, each remaining job raises at once
            try:
                run(index)
            except BaseException as exc:  # handed to the caller's thread below
                failures.append(exc)
                stop.set()  # the other workers give up at their next window
                return

    threads = [
        threading.Thread(target=work, name=f"pellucid-hash-{n}", daemon=True) for n in range(count)
    ]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except BaseException:  # Ctrl-C in the caller: stop the workers, then let it through
        stop.set()
        raise
    if failures:
        raise failures[0]
    return digests


def hash_range(
    factory: Callable[[], Hash],
    path: StrPath,
    start: int,
    end: int,
    stop: threading.Event | None = None,
) -> bytes:
    """Digest of bytes [start, end) of ``path``; HashingError when it cannot be read."""
    digest = factory()
    stop = stop or threading.Event()
    try:
        with open(path, "rb", buffering=0) as handle:
            done = _feed_mapped(digest, handle, start, end, stop) if _POPULATE else start
            _feed_read(digest, handle, done, end, stop)
    except HashingError as exc:
        raise HashingError(f"{path}: {exc}") from None
    except OSError as exc:
        raise HashingError(f"cannot read {path}: {exc.strerror or exc}") from None
    return digest.digest()


def _feed_mapped(digest: Hash, handle: FileIO, start: int, end: int, stop: threading.Event) -> int:
    """Hash [start, end) through mmap windows; the offset reached (start when mmap fails)."""
    fd = handle.fileno()
    flags = mmap.MAP_SHARED | (_POPULATE or 0)
    offset = start - start % mmap.ALLOCATIONGRANULARITY
    while offset < end:
        length = min(MAP_WINDOW, end - offset)
        _check(handle, offset + length, stop)
        try:
            mapped = mmap.mmap(fd, length, flags=flags, prot=mmap.PROT_READ, offset=offset)
        except OSError:
            if offset <= start:  # e.g. a file system without mmap: read the range instead
                return start
            raise
        with mapped, memoryview(mapped) as view:
            digest.update(view[max(start - offset, 0) :])
        offset += length
    return end


def _feed_read(digest: Hash, handle: FileIO, start: int, end: int, stop: threading.Event) -> None:
    buffer = bytearray(min(READ_CHUNK, max(end - start, 1)))
    view = memoryview(buffer)
    handle.seek(start)
    remaining = end - start
    while remaining > 0:
        _check(handle, 0, stop)
        count = handle.readinto(view[: min(remaining, len(buffer))])
        if not count:
            raise HashingError("the file shrank while it was being hashed")
        digest.update(view[:count])
        remaining -= count


def _check(handle: FileIO, needed: int, stop: threading.Event) -> None:
    if stop.is_set():
        raise HashingError("hashing was cancelled")
    if needed and os.fstat(handle.fileno()).st_size < needed:
        raise HashingError("the file shrank while it was being hashed")


def ignored_paths(ignore: Sequence[str]) -> tuple[str, ...]:
    """``ignore`` plus the git paths, each as a normalized relative POSIX path, sorted."""
    return tuple(sorted({relative(p) for p in (*GIT_PATHS, *ignore)}))


def relative(path: str) -> str:
    """``path`` with ``/`` separators and without empty or ``.`` components, as
    ``PurePosixPath(path).as_posix()`` writes it (one or two leading slashes kept)."""
    text = path.replace(os.sep, "/")
    if text.startswith("//") and not text.startswith("///"):
        root = "//"  # POSIX leaves two leading slashes to the implementation; pathlib keeps them
    else:
        root = "/" if text.startswith("/") else ""
    return root + "/".join(p for p in text.split("/") if p not in ("", ".")) or "."


def sign_hashing(folder: str, algorithm: str, signature: str | None) -> FolderHash:
    """The hashing ``pellucid sign`` needs, started from its arguments as given (the signature
    file, default ``folder/model.sig``, is left out when it lies inside the folder)."""
    target = signature if signature is not None else os.path.join(folder, "model.sig")
    return FolderHash(folder, algorithm, ignored_paths(signature_ignore_paths(folder, target)))


def signature_ignore_paths(folder: StrPath, target: StrPath) -> tuple[str, ...]:
    """``target`` relative to ``folder`` (POSIX, both resolved) when it lies inside, else ()."""
    base, path = os.path.realpath(folder), os.path.realpath(target)
    if path != base and not path.startswith(base.rstrip(os.sep) + os.sep):
        return ()
    return (relative(os.path.relpath(path, base)),)


def plan(
    folder: StrPath,
    ignored: Sequence[str],
    *,
    allow_symlinks: bool = False,
    shard_size: int | None = None,
) -> list[Entry]:
    """The folder's entries in manifest order: one per file, or one ``path:start:end`` per
    ``shard_size`` bytes (an empty file yields no shard); HashingError on what v1.0 refuses."""
    if not os.path.isdir(folder):
        raise HashingError(f"{os.fspath(folder)} is not a directory")
    ignored_parts = [_parts(i) for i in ignored]
    found: list[tuple[tuple[str, ...], str, int]] = []
    for directory, dirnames, filenames in os.walk(folder, onerror=_walk_error):
        rel_dir = os.path.relpath(directory, folder).replace(os.sep, "/")
        prefix = () if rel_dir == "." else tuple(rel_dir.split("/"))
        keep = []
        for name in sorted(dirnames):
            if _is_ignored((*prefix, name), ignored_parts):
                continue
            if os.path.islink(os.path.join(directory, name)):
                _check_symlink("/".join((*prefix, name)), allow_symlinks)  # never traversed
                continue
            keep.append(name)
        dirnames[:] = keep
        for name in filenames:
            parts = (*prefix, name)
            if not _is_ignored(parts, ignored_parts):
                found.extend(_file(os.path.join(directory, name), parts, allow_symlinks))
    found.sort(key=lambda item: item[0])
    entries: list[Entry] = []
    for parts, path, size in found:
        name = "/".join(parts)
        if shard_size is None:
            entries.append((name, path, 0, size))
            continue
        for start in range(0, size, shard_size):
            end = min(start + shard_size, size)
            entries.append((f"{name}:{start}:{end}", path, start, end))
    return entries


class FolderHash:
    """A folder walked now, in the caller's thread, and hashed in a thread of its own (files
    mode: one entry per file, no symlinks followed).

    The walk is not threaded because beside the imports that usually follow it would wait for
    the GIL; concurrent.futures is not used because it imports logging before the first byte is
    hashed. ``digests()`` waits and returns the digests in entry order, or raises what the walk
    or the hashing raised.
    """

    def __init__(
        self,
        folder: StrPath,
        algorithm: str,
        ignored: Sequence[str],
        *,
        workers: int | None = None,
    ) -> None:
        self.inputs = (os.fspath(folder), algorithm, tuple(ignored))
        self.entries: list[Entry] = []
        self._stop = threading.Event()
        self._outcome: list[list[bytes] | BaseException] = []
        factory = ALGORITHMS.get(algorithm)
        self._thread = threading.Thread(target=self._run, args=(factory, workers), daemon=True)
        try:
            if factory is None:
                raise HashingError(f"unsupported hash algorithm {algorithm!r}")
            self.entries = plan(folder, ignored)
        except BaseException as exc:  # raised by digests(), where the caller expects it
            self._outcome.append(exc)
            return
        self._thread.start()

    def _run(self, factory: Callable[[], Hash], workers: int | None) -> None:
        jobs = [entry[1:] for entry in self.entries]
        try:
            self._outcome.append(hash_ranges(factory, jobs, workers, self._stop))
        except BaseException as exc:  # re-raised in the caller's thread by digests()
            self._outcome.append(exc)

    def digests(self) -> list[bytes]:
        if self._thread.ident is not None:
            self._thread.join()
        (outcome,) = self._outcome
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def cancel(self) -> None:
        """Stop hashing (within one window or buffer) and wait for the thread."""
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join()


def _parts(rel: str) -> tuple[str, ...]:
    """Components as ``PurePosixPath(rel).parts`` has them, for a path made by ``relative``."""
    if rel == ".":
        return ()
    root = "//" if rel.startswith("//") else "/" if rel.startswith("/") else ""
    rest = tuple(p for p in rel[len(root) :].split("/") if p)
    return (root, *rest) if root else rest


def _is_ignored(parts: tuple[str, ...], ignored: Sequence[tuple[str, ...]]) -> bool:
    return any(parts[: len(i)] == i for i in ignored)


def _file(
    path: str, parts: tuple[str, ...], allow_symlinks: bool
) -> list[tuple[tuple[str, ...], str, int]]:
    rel = "/".join(parts)
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            _check_symlink(rel, allow_symlinks)
            if os.path.isdir(path):
                return []
            info = os.stat(path)
    except OSError as exc:
        raise HashingError(f"cannot read {rel}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise HashingError(f"{rel} is neither a regular file nor a directory")
    return [(parts, path, info.st_size)]


def _check_symlink(rel: str, allow_symlinks: bool) -> None:
    if not allow_symlinks:
        raise HashingError(
            f"{rel} is a symbolic link", hint="pass allow_symlinks to hash the link target"
        )


def _walk_error(exc: OSError) -> None:
    raise HashingError(f"cannot walk {exc.filename}: {exc.strerror or exc}")
