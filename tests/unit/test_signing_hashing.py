"""The parallel range hasher under build_manifest: digests, order, fallbacks, cancellation."""

from __future__ import annotations

import hashlib
import mmap
import os
import threading
from pathlib import Path

import pytest

from pellucid import hashing
from pellucid.hashing import HashingError, hash_range, hash_ranges, usable_cores

_GRAIN = mmap.ALLOCATIONGRANULARITY


@pytest.fixture
def data_file(tmp_path: Path) -> tuple[Path, bytes]:
    data = os.urandom(5 * _GRAIN + 123)
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    return path, data


@pytest.fixture(params=["mmap", "read"])
def reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Small windows and buffers so every range crosses several of them, on both paths."""
    monkeypatch.setattr(hashing, "MAP_WINDOW", 2 * _GRAIN)
    monkeypatch.setattr(hashing, "READ_CHUNK", 1000)
    if request.param == "read":
        monkeypatch.setattr(hashing, "_POPULATE", None)
    elif hashing._POPULATE is None:
        pytest.skip("no MAP_POPULATE on this platform")
    return str(request.param)


@pytest.mark.parametrize(
    ("start", "end"),
    [(0, 0), (0, 1), (0, 5 * _GRAIN + 123), (7, 2 * _GRAIN + 9), (_GRAIN, 3 * _GRAIN)],
)
def test_unaligned_ranges_match_hashlib(
    reader: str, data_file: tuple[Path, bytes], start: int, end: int
) -> None:
    path, data = data_file
    assert hash_range(hashlib.sha256, path, start, end) == hashlib.sha256(data[start:end]).digest()


def test_results_keep_job_order_although_largest_run_first(
    reader: str, data_file: tuple[Path, bytes]
) -> None:
    path, data = data_file
    jobs = [(path, 0, 10), (path, 0, len(data)), (path, 3, 3), (path, 100, 5000)]
    expected = [hashlib.blake2b(data[s:e]).digest() for _, s, e in jobs]
    assert hash_ranges(hashlib.blake2b, jobs, workers=3) == expected
    assert hash_ranges(hashlib.blake2b, jobs, workers=1) == expected


def test_file_shorter_than_range_is_an_error(reader: str, data_file: tuple[Path, bytes]) -> None:
    path, data = data_file
    with pytest.raises(HashingError, match="shrank while it was being hashed"):
        hash_range(hashlib.sha256, path, 0, len(data) + 1)


def test_stop_cancels_remaining_work(reader: str, data_file: tuple[Path, bytes]) -> None:
    path, data = data_file
    stop = threading.Event()
    stop.set()
    with pytest.raises(HashingError, match="cancelled"):
        hash_ranges(hashlib.sha256, [(path, 0, len(data))] * 3, workers=2, stop=stop)


def test_unmappable_file_falls_back_to_reads(
    monkeypatch: pytest.MonkeyPatch, data_file: tuple[Path, bytes]
) -> None:
    def refuse(*args: object, **kwargs: object) -> mmap.mmap:
        raise OSError(19, "No such device")

    monkeypatch.setattr(mmap, "mmap", refuse)
    path, data = data_file
    assert hash_range(hashlib.sha256, path, 5, len(data)) == hashlib.sha256(data[5:]).digest()


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(HashingError, match=r"cannot read .*gone\.bin"):
        hash_range(hashlib.sha256, tmp_path / "gone.bin", 0, 1)


def test_usable_cores_is_the_affinity_set() -> None:
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    assert usable_cores() >= 1
    if expected is not None:
        assert usable_cores() == expected
