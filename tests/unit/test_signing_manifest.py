"""The hashing engine: OpenSSF model-signing v1.0 file walk, order and digests."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from signing_samples import make_model

from pellucid.signing import UnsupportedAlgorithmError, build_manifest
from pellucid.signing.manifest import SigningError


def test_purepath_component_order_not_string_order(tmp_path: Path) -> None:
    manifest = build_manifest(make_model(tmp_path))
    names = [e.name for e in manifest.entries]
    # sub/x sorts before sub-y and sub.txt (component order), .git* are ignored
    assert names == [
        "A",
        "a/b",
        "b c",
        "config.json",
        "empty.bin",
        "sub/x",
        "sub-y",
        "sub.txt",
        "é.txt",
    ]


def test_root_digest_is_sha256_over_raw_digests(tmp_path: Path) -> None:
    folder = make_model(tmp_path)
    manifest = build_manifest(folder)
    for entry in manifest.entries:
        content = (folder / entry.name).read_bytes()
        assert entry.digest_hex == hashlib.sha256(content).hexdigest()
        assert entry.size == len(content)
    joined = b"".join(bytes.fromhex(e.digest_hex) for e in manifest.entries)
    assert manifest.root_digest == hashlib.sha256(joined).digest()
    assert manifest.serialization == "files"
    assert manifest.algorithm == "sha256"


def test_manifest_digest_byte_layout(tmp_path: Path) -> None:
    manifest = build_manifest(make_model(tmp_path))
    triples = [[e.name, "sha256", e.digest_hex] for e in manifest.entries]
    text = json.dumps(triples, ensure_ascii=False, separators=(",", ":"))
    assert manifest.manifest_digest == hashlib.sha256(text.encode("utf-8")).digest()


def test_rename_keeps_root_digest_but_not_manifest_digest(tmp_path: Path) -> None:
    folder = make_model(tmp_path)
    before = build_manifest(folder)
    (folder / "config.json").rename(folder / "config2.json")  # same place in the order
    after = build_manifest(folder)
    assert after.root_digest == before.root_digest
    assert after.manifest_digest != before.manifest_digest


def test_deterministic(tmp_path: Path) -> None:
    folder = make_model(tmp_path)
    assert build_manifest(folder) == build_manifest(folder, workers=1)


def test_ignored_paths_and_git(tmp_path: Path) -> None:
    folder = make_model(tmp_path)
    (folder / ".github").mkdir()
    (folder / ".github" / "ci.yml").write_text("x")
    manifest = build_manifest(folder, ignore=["sub", "model.sig"])
    names = {e.name for e in manifest.entries}
    assert not {n for n in names if n.startswith((".git", "sub/"))}
    assert "sub-y" in names
    assert "sub.txt" in names
    assert manifest.ignore_paths == (
        ".git",
        ".gitattributes",
        ".github",
        ".gitignore",
        "model.sig",
        "sub",
    )


def test_shards_split_large_files_and_drop_empty_ones(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "big").write_bytes(bytes(range(256)) * 10)
    (folder / "empty").write_bytes(b"")
    manifest = build_manifest(folder, shard_size=1000)
    assert [e.name for e in manifest.entries] == ["big:0:1000", "big:1000:2000", "big:2000:2560"]
    data = (folder / "big").read_bytes()
    assert manifest.entries[2].digest_hex == hashlib.sha256(data[2000:]).hexdigest()
    assert manifest.resource_algorithm == "sha256-sharded-1000"


def test_blake2b_is_64_byte(tmp_path: Path) -> None:
    manifest = build_manifest(make_model(tmp_path), algorithm="blake2b")
    assert all(len(e.digest_hex) == 128 for e in manifest.entries)


def test_unsupported_algorithm(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedAlgorithmError, match="md5"):
        build_manifest(make_model(tmp_path), algorithm="md5")


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_symlinks_refused_unless_allowed(tmp_path: Path) -> None:
    folder = make_model(tmp_path)
    (folder / "link-to-file").symlink_to(folder / "A")
    (folder / "link-to-dir").symlink_to(folder / "sub", target_is_directory=True)
    with pytest.raises(SigningError, match="symbolic link"):
        build_manifest(folder)
    manifest = build_manifest(folder, allow_symlinks=True)
    entries = manifest.by_name()
    assert entries["link-to-file"] == entries["A"]  # hashed as its target
    assert not [n for n in entries if n.startswith("link-to-dir")]  # never traversed


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(SigningError, match="not a directory"):
        build_manifest(tmp_path / "missing")
