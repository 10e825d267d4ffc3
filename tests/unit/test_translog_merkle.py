"""RFC 6962 / 9162 Merkle trees against a naive reference written from the RFC text."""

from __future__ import annotations

import contextlib
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pellucid.translog import merkle


def _ref_mth(entries: list[bytes]) -> bytes:
    """RFC 6962 §2.1 MTH, over raw entries, exactly as written."""
    n = len(entries)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + _ref_mth(entries[:k]) + _ref_mth(entries[k:])).digest()


def _entries(n: int, salt: bytes = b"") -> list[bytes]:
    return [salt + b"entry-%d" % i for i in range(n)]


def _leaves(entries: list[bytes]) -> list[bytes]:
    return [merkle.leaf_hash(e) for e in entries]


@pytest.mark.parametrize("size", range(21))
def test_tree_hash_matches_reference(size: int) -> None:
    entries = _entries(size)
    assert merkle.tree_hash(_leaves(entries)) == _ref_mth(entries)


def test_known_vectors() -> None:
    assert merkle.tree_hash([]).hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    # RFC 6962 test vector (certificate-transparency-go): the empty leaf
    assert merkle.leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )


def test_leaf_and_node_domains_differ() -> None:
    # second preimage resistance: a node never hashes like a leaf of the same bytes
    left, right = merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b")
    assert merkle.node_hash(left, right) != merkle.leaf_hash(left + right)


@pytest.mark.parametrize("size", range(1, 34))
def test_inclusion_proof_for_every_leaf(size: int) -> None:
    leaves = _leaves(_entries(size))
    root = merkle.tree_hash(leaves)
    for index in range(size):
        proof = merkle.inclusion_proof(leaves, index)
        merkle.verify_inclusion(leaves[index], index, size, proof, root)
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(merkle.leaf_hash(b"other"), index, size, proof, root)
        if size > 1:
            with pytest.raises(merkle.ProofError):
                merkle.verify_inclusion(leaves[index], (index + 1) % size, size, proof, root)
            with pytest.raises(merkle.ProofError):
                merkle.verify_inclusion(leaves[index], index, size, proof[:-1], root)


def test_consistency_between_all_sizes_up_to_20() -> None:
    leaves = _leaves(_entries(20))
    for new in range(21):
        new_root = merkle.tree_hash(leaves[:new])
        for old in range(new + 1):
            proof = merkle.consistency_proof(leaves[:new], old)
            old_root = merkle.tree_hash(leaves[:old])
            merkle.verify_consistency(old, new, proof, old_root, new_root)
            if 0 < old < new:
                with pytest.raises(merkle.ProofError):
                    merkle.verify_consistency(old, new, proof, new_root, new_root)
                with pytest.raises(merkle.ProofError):
                    merkle.verify_consistency(old, new, proof[:-1], old_root, new_root)


@pytest.mark.parametrize(
    ("shared", "old", "new"), [(3, 5, 9), (4, 5, 7), (0, 1, 2), (7, 8, 20), (8, 9, 16)]
)
def test_forked_history_fails_consistency(shared: int, old: int, new: int) -> None:
    # two logs agree on `shared` entries, then each appends its own
    prefix = _entries(shared)
    honest = _leaves(prefix + _entries(old - shared, b"A"))
    forked = _leaves(prefix + _entries(new - shared, b"B"))
    old_root = merkle.tree_hash(honest)
    proof = merkle.consistency_proof(forked, old)
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(old, new, proof, old_root, merkle.tree_hash(forked))


def test_same_size_different_roots_is_a_fork() -> None:
    a, b = merkle.tree_hash(_leaves(_entries(3))), merkle.tree_hash(_leaves(_entries(3, b"x")))
    with pytest.raises(merkle.ProofError, match="forked"):
        merkle.verify_consistency(3, 3, [], a, b)


def test_proof_generation_rejects_bad_arguments() -> None:
    with pytest.raises(merkle.ProofError):
        merkle.inclusion_proof([], 0)
    with pytest.raises(merkle.ProofError):
        merkle.consistency_proof(_leaves(_entries(2)), 3)


_HASHES = st.binary(min_size=32, max_size=32)
_ANY = st.one_of(
    _HASHES,
    st.binary(max_size=40),
    st.integers(min_value=-5, max_value=2**70),
    st.none(),
    st.text(max_size=5),
    st.booleans(),
)
_PROOF = st.one_of(st.lists(_HASHES, max_size=12), st.lists(_ANY, max_size=6), _ANY)
_SIZE = st.one_of(st.integers(min_value=-3, max_value=70), _ANY)


@settings(max_examples=200, deadline=1000)
@given(leaf=_ANY, index=_SIZE, size=_SIZE, proof=_PROOF, root=_ANY)
def test_garbage_inclusion_only_raises_proof_error(
    leaf: object, index: object, size: object, proof: object, root: object
) -> None:
    with contextlib.suppress(merkle.ProofError):
        merkle.verify_inclusion(leaf, index, size, proof, root)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=1000)
@given(old=_SIZE, new=_SIZE, proof=_PROOF, old_root=_ANY, new_root=_ANY)
def test_garbage_consistency_only_raises_proof_error(
    old: object, new: object, proof: object, old_root: object, new_root: object
) -> None:
    with contextlib.suppress(merkle.ProofError):
        merkle.verify_consistency(old, new, proof, old_root, new_root)  # type: ignore[arg-type]


@settings(max_examples=100, deadline=1000)
@given(size=st.integers(min_value=1, max_value=40), data=st.data())
def test_random_hashes_never_verify(size: int, data: st.DataObject) -> None:
    leaves = _leaves(_entries(size))
    root = merkle.tree_hash(leaves)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    proof = data.draw(st.lists(_HASHES, max_size=8))
    if proof == merkle.inclusion_proof(leaves, index):
        return
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(leaves[index], index, size, proof, root)
