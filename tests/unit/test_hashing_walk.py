"""The engine's walk and background hashing (pellucid/hashing.py): string paths that behave as
the pathlib code they replaced, the OpenSSF order, deferred errors, and the hand-over of an
early build to ``sign``."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from signing_samples import make_keys, make_model

from pellucid import hashing
from pellucid._cli import entry
from pellucid.signing import build_manifest
from pellucid.signing import manifest as manifest_module
from pellucid.signing.manifest import ManifestBuild, SigningError

PIECES = st.sampled_from(["", ".", "..", "a", "b.c", "sub", " ", "é"])


def _pathlib_relative(path: str) -> str:
    """The normalization the walk used before it lost pathlib (manifest._relative)."""
    text = PurePosixPath(path.replace(os.sep, "/")).as_posix()
    return text[2:] if text.startswith("./") else text


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=6), st.sampled_from(["", "/", "//", "///"]))
def test_relative_is_purepath(pieces: list[str], root: str) -> None:
    path = root + "/".join(pieces)
    assert hashing.relative(path) == _pathlib_relative(path)
    assert hashing._parts(hashing.relative(path)) == PurePosixPath(hashing.relative(path)).parts


def test_ignore_paths_normalized() -> None:
    assert hashing.ignored_paths(["./model.sig", "sub//x/", "model.sig"]) == (
        ".git", ".gitattributes", ".github", ".gitignore", "model.sig", "sub/x",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("m/model.sig", ("model.sig",)),
        ("m/sub/../out.sig", ("out.sig",)),
        ("m/deep/x.sig", ("deep/x.sig",)),
        ("elsewhere.sig", ()),
        ("m-sibling/x.sig", ()),  # a prefix of the folder's name is not inside it
        ("link/y.sig", ("y.sig",)),  # through a symlink to the folder
        ("m", (".",)),
    ],
)
def test_signature_ignore_paths(tmp_path: Path, target: str, expected: tuple[str, ...]) -> None:
    (tmp_path / "m" / "sub").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "m")
    folder, path = tmp_path / "m", tmp_path / target
    assert hashing.signature_ignore_paths(folder, path) == expected
    try:  # the pathlib rule it replaced
        reference: tuple[str, ...] = (path.resolve().relative_to(folder.resolve()).as_posix(),)
    except ValueError:
        reference = ()
    assert reference == expected


def test_plan_order_is_purepath_order(tmp_path: Path) -> None:
    names = ["sub/x", "sub-y", "sub.z", "a", "B", "sub/a/b", "é", "z/0", "sub0"]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(name.encode())
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("x")
    entries = hashing.plan(str(tmp_path), hashing.ignored_paths([]))
    assert [e[0] for e in entries] == sorted(names, key=lambda n: PurePosixPath(n).parts)
    sharded = hashing.plan(tmp_path, hashing.ignored_paths(["sub"]), shard_size=2)
    assert [e[0] for e in sharded][:3] == ["B:0:1", "a:0:1", "sub-y:0:2"]
    assert sharded[2][2:] == (0, 2)


def test_errors_wait_for_digests(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    (tmp_path / "link").symlink_to(tmp_path / "f")
    for folder, algorithm, message in [
        (tmp_path / "nowhere", "sha256", "is not a directory"),
        (tmp_path, "sha256", "link is a symbolic link"),
        (tmp_path, "md5", "unsupported hash algorithm"),
    ]:
        started = hashing.FolderHash(folder, algorithm, ())
        with pytest.raises(hashing.HashingError, match=message):
            started.digests()
        started.cancel()  # harmless when nothing runs


def test_folder_hash_digests(tmp_path: Path) -> None:
    folder = make_model(tmp_path)
    started = hashing.FolderHash(folder, "blake2b", hashing.ignored_paths([]))
    digests = started.digests()
    by_name = {e[0]: d for e, d in zip(started.entries, digests, strict=True)}
    assert by_name == {
        name: bytes.fromhex(value)
        for name, value in build_manifest(folder, algorithm="blake2b").by_name().items()
    }
    assert by_name["A"] == hashlib.blake2b((folder / "A").read_bytes()).digest()


class _Counting(hashing.FolderHash):
    made: ClassVar[list[tuple[str, str, tuple[str, ...]]]] = []

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        _Counting.made.append(self.inputs)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, tuple[str, ...]]]:
    _Counting.made = []
    monkeypatch.setattr(hashing, "FolderHash", _Counting)
    monkeypatch.setattr(manifest_module, "FolderHash", _Counting)
    return _Counting.made


def test_manifest_build_takes_a_matching_start(
    tmp_path: Path, counting: list[tuple[str, str, tuple[str, ...]]]
) -> None:
    folder = make_model(tmp_path)
    expected = build_manifest(folder, ignore=["model.sig"])
    early = hashing.sign_hashing(str(folder), "sha256", None)
    assert ManifestBuild(folder, ignore=["model.sig"], started=early).result() == expected
    assert len(counting) == 1
    other = hashing.sign_hashing(str(folder), "blake2b", None)  # another algorithm: not taken
    assert ManifestBuild(folder, ignore=["model.sig"], started=other).result() == expected
    assert [inputs[1] for inputs in counting] == ["sha256", "blake2b", "sha256"]
    assert other._stop.is_set()  # told to stop (it may have finished first on a small folder)


def test_manifest_build_error_is_signing_error(tmp_path: Path) -> None:
    with pytest.raises(SigningError, match="is not a directory"):
        ManifestBuild(tmp_path / "nowhere").result()


@pytest.mark.parametrize("spelling", ["{f}", "{f}/", "{f}//", "./{rel}"])
def test_fast_path_hashes_once(
    tmp_path: Path,
    spelling: str,
    counting: list[tuple[str, str, tuple[str, ...]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = make_model(tmp_path)
    private, _ = make_keys(tmp_path)
    monkeypatch.chdir(tmp_path)
    path = spelling.format(f=folder, rel=folder.relative_to(tmp_path))
    with pytest.raises(SystemExit) as exited:
        entry.main(["sign", path, "--key", str(private)])
    assert exited.value.code == 0
    assert len(counting) == 1  # the early build was the one signed
    assert (folder / "model.sig").is_file()


def test_engine_starts_before_heavy_imports(tmp_path: Path) -> None:
    """Hashing is under way before typing, pathlib, dataclasses or any signing code loads."""
    folder = make_model(tmp_path)
    code = (
        "import sys\n"
        "from pellucid.hashing import sign_hashing\n"
        f"started = sign_hashing({str(folder)!r}, 'sha256', None)\n"
        "heavy = {'typing', 'pathlib', 'dataclasses', 'json', 'click', 'pellucid.signing'}\n"
        "print(sorted(heavy & set(sys.modules)), len(started.digests()))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split("]")[0] == "["
    assert int(done.stdout.split()[-1]) == len(build_manifest(folder).entries)
