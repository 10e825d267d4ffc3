"""Hdf5Scanner: real Keras .h5 / model.weights.h5 are clean; links, external storage, virtual
datasets, user blocks and Lambdas in model_config are reported; hostile bytes never raise."""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from keras_samples import CTX, artifact, build_models, keras2_lambda_layer, lambda_code_b64

from canary import Canary
from pellucid.budget import Budget
from pellucid.identify import HDF5_MAGIC
from pellucid.model import FileKind
from pellucid.scanners.base import ScanContext, ScanResult
from pellucid.scanners.keras import H5PY_MISSING, Hdf5Scanner
from pellucid.source import ByteSource, open_source


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_models(tmp_path_factory.mktemp("h5"))


def scan_file(path: Path, ctx: ScanContext | None = None) -> ScanResult:
    """As the pipeline does for a file on disk: disk_path set, member chain empty."""
    with open_source(path) as source:
        art = artifact(path.name, FileKind.HDF5, source.size)
        base = ctx or CTX
        return Hdf5Scanner().scan(
            art, source, ScanContext(base.policy, base.budget, path.parent, path)
        )


def scan_member(data: bytes, ctx: ScanContext = CTX) -> ScanResult:
    """As for model.weights.h5 inside a .keras zip: bytes only, no disk path."""
    art = artifact("model.keras", FileKind.HDF5, len(data), ("model.weights.h5",))
    return Hdf5Scanner().scan(art, ByteSource(data), ctx)


def rule_ids(result: ScanResult) -> list[str]:
    return sorted(f.rule_id for f in result.findings)


def test_real_keras_h5_is_clean(samples: dict[str, Path]) -> None:
    result = scan_file(samples["h5"])
    assert result.findings == ()
    assert result.incomplete == ()
    assert "keras_version 3." in result.notes[0]


def test_real_weights_member_is_clean(samples: dict[str, Path]) -> None:
    result = scan_member(samples["weights"].read_bytes())
    assert result.findings == ()
    assert result.incomplete == ()


def test_h5_lambda_in_model_config_cve_2025_9905(
    samples: dict[str, Path], tmp_path: Path, canary: Canary
) -> None:
    path = tmp_path / "lambda.h5"
    shutil.copy(samples["h5"], path)
    with h5py.File(path, "r+") as handle:
        config = json.loads(handle.attrs["model_config"])
        code = lambda_code_b64(f"__import__('os').system({canary.shell!r})")
        config["config"]["layers"].insert(1, keras2_lambda_layer(code, "lambda_1"))
        handle.attrs["model_config"] = json.dumps(config)
    result = scan_file(path)
    assert rule_ids(result) == ["PCL-KRS-001"]
    finding = result.findings[0]
    assert finding.evidence.snippet.startswith(
        "Lambda 'lambda_1' at model_config $.config.layers[1].config.function"
    )
    assert canary.shell in finding.evidence.snippet
    assert "CVE-2025-9905" in finding.detail
    assert "https://nvd.nist.gov/vuln/detail/CVE-2025-9905" in finding.references


def test_h5_external_link(tmp_path: Path) -> None:
    path = tmp_path / "link.h5"
    with h5py.File(path, "w") as handle:
        handle["weights"] = np.zeros(3)
        handle["stolen"] = h5py.ExternalLink("/etc/secrets.h5", "/data")
    result = scan_file(path)
    assert rule_ids(result) == ["PCL-H5-001"]
    assert result.findings[0].evidence.snippet == "stolen -> /etc/secrets.h5:/data"


def test_h5_external_dataset_storage_cve_2026_1669(tmp_path: Path) -> None:
    path = tmp_path / "external.h5"
    with h5py.File(path, "w") as handle:
        handle.create_dataset("kernel", shape=(64,), dtype="u1", external=[("/etc/passwd", 0, 64)])
    result = scan_member(path.read_bytes())
    assert rule_ids(result) == ["PCL-H5-002"]
    assert result.findings[0].evidence.snippet == "dataset kernel reads /etc/passwd"


def test_h5_virtual_dataset_source_file(tmp_path: Path) -> None:
    path = tmp_path / "virtual.h5"
    with h5py.File(path, "w") as handle:
        layout = h5py.VirtualLayout(shape=(4,), dtype="i8")
        layout[:] = h5py.VirtualSource("/home/user/.aws/credentials.h5", "data", shape=(4,))
        handle.create_virtual_dataset("bias", layout)
    result = scan_file(path)
    assert rule_ids(result) == ["PCL-H5-003"]
    assert "/home/user/.aws/credentials.h5:data" in result.findings[0].evidence.snippet


def test_h5_soft_link_and_user_block_polyglot(tmp_path: Path) -> None:
    path = tmp_path / "userblock.h5"
    with h5py.File(path, "w", userblock_size=512) as handle:
        handle["a"] = np.zeros(2)
        handle["alias"] = h5py.SoftLink("/a")
    with path.open("r+b") as raw:
        raw.write(b"PK\x03\x04 hidden zip")
    result = scan_file(path)
    assert rule_ids(result) == ["PCL-H5-004", "PCL-H5-005"]
    assert [m.name for m in result.members] == ["user block"]
    assert result.members[0].source.head(4) == b"PK\x03\x04"


def test_h5_object_budget_is_incomplete(samples: dict[str, Path]) -> None:
    result = scan_file(samples["h5"], ScanContext(budget=Budget(max_members=3)))
    assert any("budget" in reason for reason in result.incomplete)


def test_missing_h5py_is_incomplete(
    samples: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "h5py", None)
    result = scan_member(samples["weights"].read_bytes())
    assert result.incomplete == (H5PY_MISSING,)
    assert result.findings == ()


@settings(max_examples=60, deadline=3000)
@given(data=st.binary(max_size=2048), cut=st.integers(0, 4000))
def test_hostile_hdf5_bytes_never_raise(samples: dict[str, Path], data: bytes, cut: int) -> None:
    started = time.perf_counter()
    scan_member(HDF5_MAGIC + data)
    real = samples["weights"].read_bytes()
    result = scan_member(real[:cut] + data + real[cut + len(data) :])
    assert isinstance(result, ScanResult)
    assert time.perf_counter() - started < 3
