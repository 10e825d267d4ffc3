"""A model folder as an OpenSSF model-signing v1.0 manifest, hashed by pellucid.hashing.

The walk, the ordering and the root digest follow ``model-signing`` 1.1.1 exactly, so that a
folder hashed here gives the resources and subject digest the upstream verifier recomputes
(the walk's rules are in pellucid/hashing.py):

* ``files``: one entry per file, algorithm ``sha256`` or ``blake2b`` (64-byte digest);
  ``shards``: one entry ``path:start:end`` per ``shard_size`` bytes, algorithm
  ``<hash>-sharded-<shard_size>``; empty files yield no shard (as upstream);
* ``.git``, ``.gitattributes``, ``.github`` and ``.gitignore`` are always ignored;
* root digest: SHA-256 over the raw digest bytes of the entries, in order.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from pellucid.errors import PellucidError
from pellucid.hashing import (
    ALGORITHMS,
    GIT_PATHS,
    FolderHash,
    HashingError,
    hash_ranges,
    ignored_paths,
    plan,
)

if TYPE_CHECKING:
    from pellucid.hashing import Entry, Hash

__all__ = ["GIT_PATHS"]  # re-exported: where the always-ignored paths were first defined
DEFAULT_SHARD_SIZE = 1_000_000_000


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
        return ALGORITHMS[name]
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
    algorithm = _checked(algorithm, shard_size)
    ignored = ignored_paths(ignore)
    try:
        entries = plan(folder, ignored, allow_symlinks=allow_symlinks, shard_size=shard_size)
        digests = hash_ranges(ALGORITHMS[algorithm], [e[1:] for e in entries], workers, stop)
    except HashingError as exc:
        raise SigningError(str(exc), hint=exc.hint) from None
    return _manifest(folder, algorithm, ignored, shard_size, allow_symlinks, entries, digests)


class ManifestBuild:
    """``build_manifest`` (files mode) under way: the folder walked, its hashing in a thread,
    ``result()`` the manifest; one started earlier by the executable (``started``, a
    ``FolderHash`` of the same folder, algorithm and ignore paths) is taken over."""

    def __init__(
        self,
        folder: Path,
        *,
        algorithm: str = "sha256",
        ignore: Sequence[str] = (),
        started: FolderHash | None = None,
    ) -> None:
        self.folder, self.algorithm = folder, _checked(algorithm, None)
        self.ignored = ignored_paths(ignore)
        inputs = (os.fspath(folder), self.algorithm, self.ignored)
        if started is not None and started.inputs != inputs:
            started.cancel()
            started = None
        self.hashing = started or FolderHash(folder, self.algorithm, self.ignored)

    def result(self) -> Manifest:
        try:
            digests = self.hashing.digests()
        except HashingError as exc:
            raise SigningError(str(exc), hint=exc.hint) from None
        entries = self.hashing.entries
        return _manifest(self.folder, self.algorithm, self.ignored, None, False, entries, digests)

    def cancel(self) -> None:
        self.hashing.cancel()


def _checked(algorithm: str, shard_size: int | None) -> str:
    """The algorithm's name in manifests; UnsupportedAlgorithmError, SigningError."""
    hasher(algorithm)
    if shard_size is not None and shard_size <= 0:
        raise SigningError(f"shard size must be positive, got {shard_size}")
    return "blake2b" if algorithm == "blake2" else algorithm


def _manifest(
    folder: Path,
    algorithm: str,
    ignored: tuple[str, ...],
    shard_size: int | None,
    allow_symlinks: bool,
    planned: Sequence[Entry],
    digests: Sequence[bytes],
) -> Manifest:
    entries = tuple(
        ManifestEntry(name, digest.hex(), end - start)
        for (name, _, start, end), digest in zip(planned, digests, strict=True)
    )
    sharded = shard_size is not None
    resource_algorithm = f"{algorithm}-sharded-{shard_size}" if sharded else algorithm
    return Manifest(
        entries=entries,
        algorithm=algorithm,
        serialization="shards" if sharded else "files",
        root_digest=root_digest(digests),
        manifest_digest=manifest_digest(entries, resource_algorithm),
        ignore_paths=ignored,
        shard_size=shard_size,
        allow_symlinks=allow_symlinks,
        model_name=folder.resolve().name,
    )


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
