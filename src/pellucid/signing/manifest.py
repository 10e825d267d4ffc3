"""The hashing engine: a model folder as an OpenSSF model-signing v1.0 manifest.

The walk, the ordering and the root digest follow ``model-signing`` 1.1.1 exactly, so that a
folder hashed here gives the resources and subject digest the upstream verifier recomputes:

* every regular file under the folder, recursively; directories are not entries; any other kind
  of file is an error; a symlink is an error unless ``allow_symlinks`` (then a link to a file is
  hashed as its target under the link's own name, and a link to a directory is skipped);
* paths in ``ignore`` (relative to the folder, POSIX) exclude themselves and everything under
  them; ``.git``, ``.gitattributes``, ``.github`` and ``.gitignore`` are always ignored;
* entries are sorted by ``PurePosixPath`` (component by component, so ``sub/x`` sorts before
  ``sub-y``), shards by (path, start, end);
* ``files``: one entry per file, algorithm ``sha256`` or ``blake2b`` (64-byte digest);
  ``shards``: one entry ``path:start:end`` per ``shard_size`` bytes, algorithm
  ``<hash>-sharded-<shard_size>``; empty files yield no shard (as upstream);
* root digest: SHA-256 over the raw digest bytes of the entries, in order.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from pellucid.errors import PellucidError
from pellucid.signing.hashing import Hash, HashingError, hash_ranges

GIT_PATHS = (".git", ".gitattributes", ".github", ".gitignore")
DEFAULT_SHARD_SIZE = 1_000_000_000

_ALGORITHMS: dict[str, Callable[[], Hash]] = {
    "sha256": hashlib.sha256,
    "blake2b": hashlib.blake2b,  # 64-byte digest, as upstream's "blake2"
}


class SigningError(PellucidError):
    """A model cannot be hashed, signed or verified as asked."""


class SignatureInvalidError(SigningError):
    """The signature does not verify: wrong key, untrusted certificate or altered bundle."""


class UnsupportedAlgorithmError(SigningError):
    """A hash algorithm or serialization method pellucid does not implement."""


@dataclass(frozen=True)
class ManifestEntry:
    """One resource: a file (``files``) or a byte range ``path:start:end`` (``shards``)."""

    name: str
    digest_hex: str
    size: int


@dataclass(frozen=True)
class Manifest:
    """A folder serialized as OpenSSF model-signing v1.0 resources.

    ``root_digest`` is the v1.0 subject digest: SHA-256 over the concatenated raw digests of
    ``entries`` in order. It does not commit to names (renaming a file that keeps its place in
    the order leaves it unchanged), so ``manifest_digest`` does: the SHA-256 of the UTF-8 bytes
    of the JSON array ``[[name, algorithm, digest_hex], ...]`` in entry order, written with
    ``json.dumps(..., ensure_ascii=False, separators=(",", ":"))`` (no spaces, no trailing
    newline). Example for one file: ``[["a.bin","sha256","e3b0...b855"]]``.
    """

    entries: tuple[ManifestEntry, ...]
    algorithm: str
    serialization: str
    root_digest: bytes
    manifest_digest: bytes
    ignore_paths: tuple[str, ...] = ()
    shard_size: int | None = None
    allow_symlinks: bool = False
    model_name: str = field(default="", compare=False)

    @property
    def resource_algorithm(self) -> str:
        """The algorithm string each resource carries in the v1.0 predicate."""
        if self.serialization == "shards":
            return f"{self.algorithm}-sharded-{self.shard_size}"
        return self.algorithm

    def by_name(self) -> dict[str, str]:
        """Entry name -> digest hex."""
        return {entry.name: entry.digest_hex for entry in self.entries}


def hasher(algorithm: str) -> Callable[[], Hash]:
    """The hashlib constructor for ``algorithm``; UnsupportedAlgorithmError otherwise."""
    name = "blake2b" if algorithm == "blake2" else algorithm
    try:
        return _ALGORITHMS[name]
    except KeyError:
        raise UnsupportedAlgorithmError(
            f"unsupported hash algorithm {algorithm!r}",
            hint="use sha256 (interoperable) or blake2b",
        ) from None


def build_manifest(
    folder: Path,
    *,
    algorithm: str = "sha256",
    ignore: Sequence[str] = (),
    shard_size: int | None = None,
    allow_symlinks: bool = False,
    workers: int | None = None,
    stop: threading.Event | None = None,
) -> Manifest:
    """Hash ``folder`` as model-signing v1.0 does; ``shard_size`` selects ``shards`` mode.

    ``workers`` threads (default: one per usable core) hash the largest files first; setting
    ``stop`` from another thread makes the build raise SigningError promptly.
    """
    plan = plan_manifest(
        folder, algorithm=algorithm, ignore=ignore, shard_size=shard_size,
        allow_symlinks=allow_symlinks,
    )  # fmt: skip
    return plan.hash(workers, stop)


@dataclass(frozen=True)
class ManifestPlan:
    """A walked folder, not yet hashed: its byte ranges in manifest order."""

    folder: Path
    algorithm: str
    jobs: tuple[tuple[str, Path, int, int], ...]  # (entry name, path, start, end)
    ignore_paths: tuple[str, ...]
    shard_size: int | None
    allow_symlinks: bool

    def hash(self, workers: int | None = None, stop: threading.Event | None = None) -> Manifest:
        """The manifest: every range hashed by ``workers`` threads (see ``build_manifest``)."""
        try:
            digests = hash_ranges(
                hasher(self.algorithm), [job[1:] for job in self.jobs], workers, stop
            )
        except HashingError as exc:
            raise SigningError(str(exc)) from None
        entries = tuple(
            ManifestEntry(name, digest.hex(), end - start)
            for (name, _, start, end), digest in zip(self.jobs, digests, strict=True)
        )
        sharded = self.shard_size is not None
        resource_algorithm = (
            f"{self.algorithm}-sharded-{self.shard_size}" if sharded else self.algorithm
        )
        return Manifest(
            entries=entries,
            algorithm=self.algorithm,
            serialization="shards" if sharded else "files",
            root_digest=root_digest(digests),
            manifest_digest=manifest_digest(entries, resource_algorithm),
            ignore_paths=self.ignore_paths,
            shard_size=self.shard_size,
            allow_symlinks=self.allow_symlinks,
            model_name=self.folder.resolve().name,
        )


def plan_manifest(
    folder: Path,
    *,
    algorithm: str = "sha256",
    ignore: Sequence[str] = (),
    shard_size: int | None = None,
    allow_symlinks: bool = False,
) -> ManifestPlan:
    """Walk ``folder`` (the first half of ``build_manifest``): SigningError on a bad folder,
    symlink, special file or algorithm."""
    hasher(algorithm)
    algorithm = "blake2b" if algorithm == "blake2" else algorithm
    if shard_size is not None and shard_size <= 0:
        raise SigningError(f"shard size must be positive, got {shard_size}")
    if not folder.is_dir():
        raise SigningError(f"{folder} is not a directory")
    ignored = tuple(sorted({_relative(p) for p in (*GIT_PATHS, *ignore)}))
    jobs: list[tuple[str, Path, int, int]] = []
    for name, path, size in _walk(folder, ignored, allow_symlinks):
        if shard_size is None:
            jobs.append((name, path, 0, size))
            continue
        for start in range(0, size, shard_size):
            end = min(start + shard_size, size)
            jobs.append((f"{name}:{start}:{end}", path, start, end))
    return ManifestPlan(folder, algorithm, tuple(jobs), ignored, shard_size, allow_symlinks)


def root_digest(digests: Sequence[bytes]) -> bytes:
    """The v1.0 subject digest: SHA-256 over the raw digests, in order."""
    total = hashlib.sha256()
    for digest in digests:
        total.update(digest)
    return total.digest()


def manifest_digest(entries: Sequence[ManifestEntry], algorithm: str) -> bytes:
    """pellucid's name-committing digest (byte layout in the ``Manifest`` docstring)."""
    triples = [[e.name, algorithm, e.digest_hex] for e in entries]
    text = json.dumps(triples, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).digest()


def sort_key(name: str) -> tuple[tuple[str, ...], int, int]:
    """Upstream order: PurePosixPath components, then shard offsets as integers."""
    path, start, end = name, 0, 0
    head, _, tail = name.rpartition(":")
    head2, _, mid = head.rpartition(":")
    if head2 and mid.isdigit() and tail.isdigit():
        path, start, end = head2, int(mid), int(tail)
    return PurePosixPath(path).parts, start, end


def _relative(path: str) -> str:
    text = PurePosixPath(path.replace(os.sep, "/")).as_posix()
    return text[2:] if text.startswith("./") else text


def _is_ignored(parts: tuple[str, ...], ignored: Sequence[tuple[str, ...]]) -> bool:
    return any(parts[: len(i)] == i for i in ignored)


_Found = list[tuple[str, Path, int]]


def _walk(folder: Path, ignored: Sequence[str], allow_symlinks: bool) -> _Found:
    # Cheap per file (one lstat, no PurePosixPath) because sign runs it beside imports.
    ignored_parts = [PurePosixPath(i).parts for i in ignored]
    found: _Found = []
    for directory, dirnames, filenames in os.walk(folder, onerror=_raise, followlinks=False):
        base = Path(directory)
        rel_dir = base.relative_to(folder).as_posix()
        prefix = () if rel_dir == "." else tuple(rel_dir.split("/"))
        keep = []
        for name in sorted(dirnames):
            if _is_ignored((*prefix, name), ignored_parts):
                continue
            if (base / name).is_symlink():
                _check_symlink("/".join((*prefix, name)), allow_symlinks)  # never traversed
                continue
            keep.append(name)
        dirnames[:] = keep
        for name in filenames:
            if not _is_ignored((*prefix, name), ignored_parts):
                rel = "/".join((*prefix, name))
                found.extend(_file_entry(base / name, rel, allow_symlinks))
    found.sort(key=lambda item: PurePosixPath(item[0]).parts)
    return found


def _file_entry(path: Path, rel: str, allow_symlinks: bool) -> _Found:
    try:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            _check_symlink(rel, allow_symlinks)
            if path.is_dir():
                return []
            info = path.stat()
    except OSError as exc:
        raise SigningError(f"cannot read {rel}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise SigningError(f"{rel} is neither a regular file nor a directory")
    return [(rel, path, info.st_size)]


def _check_symlink(rel: str, allow_symlinks: bool) -> None:
    if not allow_symlinks:
        raise SigningError(
            f"{rel} is a symbolic link", hint="pass allow_symlinks to hash the link target"
        )


def _raise(exc: OSError) -> None:
    raise SigningError(f"cannot walk {exc.filename}: {exc.strerror or exc}")
