"""The tree walk: every file once, links resolved, links leaving the tree reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from pellucid.discover import discover, hf_cache_dir
from pellucid.errors import InputError


def test_walk_is_sorted_and_complete(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    for name in ("z.bin", "a.txt", "b/c.json"):
        (tmp_path / name).write_text("x")
    found = [f.display for f in discover([tmp_path])]
    assert found == [f"{tmp_path}/a.txt", f"{tmp_path}/z.bin", f"{tmp_path}/b/c.json"]


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        discover([tmp_path / "nope"])


def test_symlink_outside_tree_is_flagged(tmp_path: Path) -> None:
    outside = tmp_path / "outside.bin"
    outside.write_text("secret")
    model = tmp_path / "model"
    model.mkdir()
    (model / "weights.bin").symlink_to(outside)
    (entry,) = discover([model])
    assert entry.leaves_tree
    assert entry.link_target == str(outside)
    assert entry.real == outside.resolve()


def test_same_file_twice_is_scanned_once(tmp_path: Path) -> None:
    (tmp_path / "a.bin").write_text("x")
    (tmp_path / "b.bin").symlink_to(tmp_path / "a.bin")
    entries = discover([tmp_path])
    assert [e.duplicate_of for e in entries] == [None, f"{tmp_path}/a.bin"]
    assert not any(e.leaves_tree for e in entries)


def _fake_hf_cache(root: Path) -> Path:
    repo = root / "models--org--tiny"
    (repo / "blobs").mkdir(parents=True)
    (repo / "blobs" / "abc123").write_text("{}")
    snap = repo / "snapshots" / "rev1"
    snap.mkdir(parents=True)
    (snap / "config.json").symlink_to("../../blobs/abc123")
    snap2 = repo / "snapshots" / "rev2"
    snap2.mkdir(parents=True)
    (snap2 / "config.json").symlink_to("../../blobs/abc123")
    return repo


def test_hf_cache_blobs_once_and_links_inside_repo_are_fine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_hf_cache(tmp_path)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    entries = discover([], hf_cache=True)
    scanned = [e for e in entries if e.duplicate_of is None and e.skip_reason is None]
    assert len(scanned) == 1  # the blob, reached once, under the name loaders use
    assert scanned[0].display.endswith("snapshots/rev1/config.json")
    assert not any(e.leaves_tree for e in entries)


def test_hf_snapshot_link_out_of_repo_is_flagged(tmp_path: Path) -> None:
    repo = _fake_hf_cache(tmp_path)
    (tmp_path / "elsewhere").write_text("x")
    (repo / "snapshots" / "rev1" / "evil.bin").symlink_to(tmp_path / "elsewhere")
    flagged = [e for e in discover([repo / "snapshots" / "rev1"]) if e.leaves_tree]
    assert [Path(e.display).name for e in flagged] == ["evil.bin"]


def test_hf_cache_dir_follows_environment() -> None:
    assert hf_cache_dir({"HF_HUB_CACHE": "/x/hub"}) == Path("/x/hub")
    assert hf_cache_dir({"HF_HOME": "/y"}) == Path("/y/hub")
    assert hf_cache_dir({"XDG_CACHE_HOME": "/z"}) == Path("/z/huggingface/hub")


def test_git_directory_is_listed_not_walked(tmp_path: Path) -> None:
    (tmp_path / ".git" / "objects").mkdir(parents=True)
    (tmp_path / ".git" / "objects" / "x").write_text("x")
    (entry,) = discover([tmp_path])
    assert entry.skip_reason is not None
    assert entry.display.endswith(".git")
