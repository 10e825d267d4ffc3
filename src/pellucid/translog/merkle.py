"""RFC 6962 / RFC 9162 Merkle tree hashes, inclusion proofs and consistency proofs.

``leaf = SHA-256(0x00 || data)`` and ``node = SHA-256(0x01 || left || right)``; a tree of ``n``
leaves splits at the largest power of two smaller than ``n``, so trees of any size have one
defined head (MTH). Proof generation follows RFC 6962 §2.1.1 / §2.1.2 (PATH and SUBPROOF);
verification follows RFC 9162 §2.1.3.2 and §2.1.4.2 and raises ``ProofError`` on any failure,
including inputs of the wrong type or length, and nothing else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from pellucid.errors import PellucidError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(PellucidError):
    """A Merkle proof that does not prove what it claims (or is not a proof at all)."""


def leaf_hash(data: bytes) -> bytes:
    """The hash of one log entry."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n`` >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def tree_hash(leaves: Sequence[bytes]) -> bytes:
    """MTH over leaf *hashes* (not raw entries): the root of a tree of ``len(leaves)``."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(tree_hash(leaves[:k]), tree_hash(leaves[k:]))


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(index, leaves): the audit path from leaf ``index`` to the root."""
    if not 0 <= index < len(leaves):
        raise ProofError(f"leaf index {index} is outside a tree of {len(leaves)}")
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*inclusion_proof(leaves[:k], index), tree_hash(leaves[k:])]
    return [*inclusion_proof(leaves[k:], index - k), tree_hash(leaves[:k])]


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    """PROOF(old_size, leaves): shows the first ``old_size`` leaves are a prefix of the tree."""
    if not 0 <= old_size <= len(leaves):
        raise ProofError(f"old size {old_size} is outside a tree of {len(leaves)}")
    if old_size in (0, len(leaves)):
        return []
    return _subproof(old_size, leaves, complete=True)


def _subproof(m: int, leaves: Sequence[bytes], *, complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [tree_hash(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], complete=complete), tree_hash(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], complete=False), tree_hash(leaves[:k])]


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2: raise ``ProofError`` unless ``leaf`` is at ``index`` under ``root``."""
    _check_hashes([leaf, root, *_as_list(proof)])
    if not _is_int(index) or not _is_int(size) or not 0 <= index < size:
        raise ProofError(f"leaf index {index!r} is outside a tree of size {size!r}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the tree is deep")
    if r != root:
        raise ProofError("inclusion proof does not lead to the root hash")


def verify_consistency(
    old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes
) -> None:
    """RFC 9162 §2.1.4.2: raise ``ProofError`` unless the old tree is a prefix of the new one."""
    path = _as_list(proof)
    _check_hashes([old_root, new_root, *path])
    if not _is_int(old_size) or not _is_int(new_size) or not 0 <= old_size <= new_size:
        raise ProofError(f"tree sizes {old_size!r} -> {new_size!r} cannot be consistent")
    if old_size in (0, new_size):
        if path:
            raise ProofError("a consistency proof between these sizes must be empty")
        if old_size == new_size and old_root != new_root:
            raise ProofError("two trees of the same size have different roots: forked history")
        return
    if not path:
        raise ProofError("empty consistency proof")
    if old_size & (old_size - 1) == 0:
        path = [old_root, *path]
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or fr != old_root or sr != new_root:
        raise ProofError("consistency proof fails: the new tree does not extend the old one")


def _as_list(proof: object) -> list[bytes]:
    if isinstance(proof, bytes | str) or not isinstance(proof, Sequence):
        raise ProofError("a proof is a list of hashes")
    return list(proof)


def _check_hashes(values: Sequence[object]) -> None:
    for value in values:
        if not isinstance(value, bytes) or len(value) != HASH_SIZE:
            raise ProofError(f"not a {HASH_SIZE}-byte SHA-256 hash: {value!r:.40}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
