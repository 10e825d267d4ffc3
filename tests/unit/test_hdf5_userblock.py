"""Red-team regression: HDF5 finds its superblock at 0, 512, 1024, 2048, 4096 ... so a user
block of 4096 bytes or more hides an HDF5 model from identify (xfail until identify is fixed)."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import pytest

from pellucid.audit import AuditOptions, run_audit

CONFIG = {
    "class_name": "Sequential",
    "config": {
        "name": "s",
        "layers": [
            {
                "class_name": "Lambda",
                "config": {"name": "l", "function": ["4wEAAAAAAAAA", None, None]},
            }
        ],
    },
}


def _h5(path: Path, userblock: int) -> Path:
    with h5py.File(path, "w", userblock_size=userblock) as handle:
        handle.attrs["model_config"] = json.dumps(CONFIG)
        handle.attrs["keras_version"] = "3.15.1"
    with h5py.File(path, "r") as handle:  # the real reader finds the superblock
        assert handle.userblock_size == userblock
        assert json.loads(handle.attrs["model_config"]) == CONFIG
    return path


def test_h5_user_block_of_2048_is_found(tmp_path: Path) -> None:
    _h5(tmp_path / "model.h5", 2048)
    report = run_audit([tmp_path], AuditOptions())
    assert {"PCL-KRS-002", "PCL-H5-005"} <= {f.rule_id for f in report.findings}


@pytest.mark.parametrize("userblock", [4096, 65536])
def test_h5_user_block_of_4096_or_more_hides_the_model(tmp_path: Path, userblock: int) -> None:
    _h5(tmp_path / "model.h5", userblock)
    report = run_audit([tmp_path], AuditOptions())
    assert "PCL-KRS-002" in {f.rule_id for f in report.findings}
