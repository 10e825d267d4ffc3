"""``pellucid data fetch`` against a loopback server: verified, all-or-nothing, recorded.

No test reaches the internet: every fetch goes to a ``--mirror`` served from a temporary folder
on 127.0.0.1 (or a ``file://`` URL).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from pellucid._cli.main import cli
from pellucid.probes import fetch as fetching
from pellucid.probes.base import ProbeError
from pellucid.probes.data import dataset_files
from pellucid.probes.sources import SOURCES

WINOBIAS = sorted(SOURCES["winobias"].files)


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def upstream(tmp_path: Path) -> Path:
    """A copy of the winobias files in the --data-dir layout, as a mirror would hold them."""
    root = tmp_path / "mirror"
    for index, name in enumerate(WINOBIAS):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"1 [The developer] argued with [the designer] because [he] ... {index}\n")
    (root / "crows_pairs_anonymized.csv").write_text("too short\n")
    return root


@pytest.fixture
def mirror(upstream: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(upstream)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


def test_fetch_writes_the_files_and_a_manifest_of_their_digests(
    mirror: str, upstream: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    done = fetching.fetch("winobias", data, mirror=mirror)
    assert [f.path for f in done] == WINOBIAS
    for f in done:
        assert sha256(data / f.path) == f.sha256 == sha256(upstream / f.path)
        assert f.url == mirror + f.path
    manifest = fetching.read_manifest(data, "winobias")
    assert manifest is not None
    assert manifest["commit"] == SOURCES["winobias"].commit
    assert manifest["files"][WINOBIAS[0]]["sha256"] == done[0].sha256
    files, info = dataset_files("winobias", data)  # the suites read what was fetched
    assert sorted(p.relative_to(data).as_posix() for p in files) == WINOBIAS
    assert dict(info.files) == {f.path: f.sha256 for f in done}


def test_the_default_data_folder_is_where_fetch_writes(
    mirror: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetching, "default_data_dir", lambda: tmp_path / "home")
    with pytest.raises(ProbeError, match="not found") as missing:
        dataset_files("winobias", None)
    assert "pellucid data fetch winobias" in missing.value.hint
    fetching.fetch("winobias", tmp_path / "home", mirror=mirror)
    assert len(dataset_files("winobias", None)[0]) == 4


def test_a_file_changed_after_the_fetch_is_refused(mirror: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    fetching.fetch("winobias", data, mirror=mirror)
    with (data / WINOBIAS[1]).open("a") as handle:
        handle.write("2 one more line\n")
    with pytest.raises(ProbeError, match="changed since `pellucid data fetch` wrote it"):
        dataset_files("winobias", data)


def test_a_size_other_than_the_commits_is_refused_and_nothing_written(
    mirror: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    with pytest.raises(ProbeError, match=r"10 bytes, not the 437,764 recorded at nyu-mll"):
        fetching.fetch("crows-pairs", data, mirror=mirror)
    assert leftovers(data) == []


def test_one_missing_file_leaves_the_folder_as_it_was(
    mirror: str, upstream: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    fetching.fetch("winobias", data, mirror=mirror)
    before = {p: sha256(data / p) for p in WINOBIAS}
    for path in WINOBIAS:
        (upstream / path).write_text("a newer version\n")
    (upstream / WINOBIAS[-1]).unlink()
    with pytest.raises(ProbeError, match="HTTP 404"):
        fetching.fetch("winobias", data, mirror=mirror)
    assert {p: sha256(data / p) for p in WINOBIAS} == before  # old files and manifest kept
    assert not [n for n in leftovers(data) if n.startswith(".fetch-")]
    assert len(dataset_files("winobias", data)[0]) == 4


def test_a_pinned_digest_that_differs_is_refused(
    mirror: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pinned = replace(SOURCES["winobias"], sha256={WINOBIAS[0]: "0" * 64})
    monkeypatch.setitem(SOURCES, "winobias", pinned)
    with pytest.raises(ProbeError, match="not the pinned 0000"):
        fetching.fetch("winobias", tmp_path / "data", mirror=mirror)
    assert leftovers(tmp_path / "data") == []


def test_an_oversized_file_is_refused(
    mirror: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetching, "MAX_FILE", 16)
    with pytest.raises(ProbeError, match="larger than 0 MiB; refused"):
        fetching.fetch("winobias", tmp_path / "data", mirror=mirror)
    assert leftovers(tmp_path / "data") == []


def test_file_mirrors_work_and_other_schemes_are_refused(upstream: Path, tmp_path: Path) -> None:
    done = fetching.fetch("winobias", tmp_path / "data", mirror=upstream.as_uri())
    assert len(done) == 4
    with pytest.raises(ProbeError, match="only http://, https:// or file://"):
        fetching.fetch("winobias", tmp_path / "data", mirror="ftp://example.org/")
    with pytest.raises(ProbeError, match="no dataset named 'nope'"):
        fetching.fetch("nope", tmp_path / "data")


def test_upstream_urls_name_the_commit() -> None:
    source = SOURCES["crows-pairs"]
    assert source.url("crows_pairs_anonymized.csv") == (
        "https://raw.githubusercontent.com/nyu-mll/crows-pairs/8aaac11c/"
        "data/crows_pairs_anonymized.csv"
    )
    assert not SOURCES["harmbench-refusal"].pinned  # a branch, and the table says so


def test_cli_fetch_and_list(mirror: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    runner = CliRunner()
    done = runner.invoke(cli, ["data", "fetch", "winobias", "--data-dir", str(data),
                               "--mirror", mirror])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "winobias: 4 file(s)" in done.output
    assert sha256(data / WINOBIAS[0]) in done.output
    listed = runner.invoke(cli, ["data", "list", "--json", "--data-dir", str(data)])
    rows = {r["name"]: r for r in json.loads(listed.output)["datasets"]}
    assert rows["winobias"]["fetched_at"] is not None
    assert rows["bbq"]["fetched_at"] is None
    assert rows["crows-pairs"]["upstream"] == "nyu-mll/crows-pairs@8aaac11c"
    failed = subprocess.run(
        [sys.executable, "-m", "pellucid", "data", "fetch", "crows-pairs", "--data-dir", str(data),
         "--mirror", mirror],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert failed.returncode == 2
    assert "437,764" in failed.stderr
    assert "Traceback" not in failed.stderr


def test_every_dataset_has_a_source_in_its_layout() -> None:
    from pellucid.probes.data import DATASETS

    for name, spec in DATASETS.items():
        source = SOURCES[name]
        for local in source.files:
            assert any(Path(local).match(pattern) for pattern in spec.files), (name, local)


def test_pinned_digests_are_well_formed_and_sized() -> None:
    pinned = {(n, f): d for n, s in SOURCES.items() for f, d in s.sha256.items()}
    assert ("xstest", "xstest_prompts.csv") in pinned
    for (name, local), digest in pinned.items():
        source = SOURCES[name]
        assert len(bytes.fromhex(digest)) == 32, (name, local)
        assert local in source.files, (name, local)
        assert local in source.sizes, (name, local)  # a pin comes with the size it was taken at
        assert source.pinned, name
        assert len(source.commit) in (8, 40), name
