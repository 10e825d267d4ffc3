"""joblib inline arrays, legacy torch framing, nested pickles, and benign framework files."""

from __future__ import annotations

import argparse
import base64
import collections
import io
import pickle
import zipfile
import zlib
from pathlib import Path

import joblib
import numpy as np
import pytest
import torch
from pickle_samples import call, call_pickle, loader_code, only, rule_ids, scan
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from canary import Canary, fires_in_subprocess
from pellucid.budget import Budget
from pellucid.model import Artifact, FileKind
from pellucid.scanners.pickle import NESTED_PREFIX


def _joblib_bytes(obj: object) -> bytes:
    buf = io.BytesIO()
    joblib.dump(obj, buf)
    return buf.getvalue()


def _torch_data_pkl(obj: object) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as archive:
        name = next(n for n in archive.namelist() if n.endswith("/data.pkl"))
        return archive.read(name)


def _legacy_torch(obj: object) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=False)
    return buf.getvalue()


def test_joblib_inline_buffer_payload_after_an_array(tmp_path: Path) -> None:
    marker = tmp_path / "fired"
    array = np.arange(64, dtype=np.float64)
    data = _joblib_bytes({"w": array, "b": 1})
    end = data.index(array.tobytes()) + array.nbytes
    payload = b"cposix\nsystem\n(V" + f"touch {marker}".encode() + b"\ntR0"
    hostile = data[:end] + payload + data[end:]
    result = scan(hostile)
    finding = only(result, "PCL-PKL-002")
    assert finding.evidence.offset == end
    assert "touch" in finding.evidence.snippet
    assert "PCL-PKL-007" not in rule_ids(result)  # the framing was followed, not salvaged
    sample = tmp_path / "model.joblib"
    sample.write_bytes(hostile)
    assert fires_in_subprocess(loader_code(sample, "joblib"), marker)


def test_joblib_object_array_nested_pickle_is_followed(canary: Canary) -> None:
    data = _joblib_bytes({"o": np.array([1, "x"], dtype=object), "f": np.ones(3)})
    result = scan(data)
    assert not {"PCL-PKL-007", "PCL-PKL-008"} & rule_ids(result)
    assert any("2 joblib array(s)" in note for note in result.notes)


def test_legacy_torch_is_walked_by_its_storage_framing() -> None:
    data = _legacy_torch({"w": torch.arange(5.0), "h": torch.ones(3, dtype=torch.float16)})
    result = scan(data, FileKind.TORCH_LEGACY)
    assert result.findings == ()
    assert result.incomplete == ()
    assert result.notes[0].startswith("5 pickle stream(s)")


def test_legacy_torch_payload_after_the_last_storage(canary: Canary) -> None:
    data = _legacy_torch({"w": torch.arange(5.0)})
    result = scan(data + call_pickle("os", "system", canary.shell), FileKind.TORCH_LEGACY)
    assert only(result, "PCL-PKL-002").evidence.offset > len(data)
    assert only(result, "PCL-PKL-008").evidence.offset == len(data)


@pytest.mark.parametrize(
    "wrap",
    [
        lambda b: b,
        lambda b: base64.b64encode(b).decode(),
        lambda b: zlib.compress(b),
        lambda b: base64.b64encode(zlib.compress(b)),
        lambda b: b.hex(),
    ],
    ids=["bytes", "base64", "zlib", "base64_zlib", "hex"],
)
def test_nested_pickle_in_literal(wrap: object, canary: Canary) -> None:
    inner = call_pickle("os", "system", canary.shell)
    data = pickle.dumps({"blob": wrap(inner)}, protocol=4)  # type: ignore[operator]
    result = scan(data)
    finding = only(result, "PCL-PKL-009")
    (member,) = result.members
    assert member.kind is FileKind.PICKLE
    assert member.name == f"{NESTED_PREFIX}{finding.evidence.offset}"
    assert member.source.read() == inner


def test_nested_pickle_depth_budget_makes_it_incomplete(canary: Canary) -> None:
    data = pickle.dumps(call_pickle("os", "system", canary.shell), protocol=4)
    deep = Artifact("x.pkl", FileKind.PICKLE, len(data), member=(f"{NESTED_PREFIX}1",) * 4)
    from pellucid.scanners.base import ScanContext
    from pellucid.scanners.pickle import PickleScanner
    from pellucid.source import ByteSource

    result = PickleScanner().scan(deep, ByteSource(data), ScanContext(budget=Budget()))
    assert result.members == ()
    assert "nested deeper" in result.incomplete[0]


class _Tiny(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(3, 2)
        self.act = torch.nn.ReLU()


BENIGN = {
    "torch_state_dict": lambda: _torch_data_pkl(torch.nn.Linear(4, 2).state_dict()),
    "torch_full_module": lambda: _torch_data_pkl(torch.nn.Sequential(torch.nn.Linear(3, 2))),
    "numpy_arrays": lambda: pickle.dumps([np.arange(4), np.zeros((2, 2), np.float32)]),
    "numpy_arrays_protocol2": lambda: pickle.dumps({"a": np.arange(4)}, protocol=2),
    "sklearn_pickle": lambda: pickle.dumps(_pipeline()),
    "sklearn_joblib": lambda: _joblib_bytes(_pipeline()),
    "argparse_namespace": lambda: pickle.dumps(argparse.Namespace(lr=0.1, name="x")),
    "ordered_dict": lambda: pickle.dumps(collections.OrderedDict(a=1, b=[1, 2])),
}


def _pipeline() -> Pipeline:
    x = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    return Pipeline([("scale", StandardScaler()), ("lr", LogisticRegression())]).fit(
        x, [0, 1, 1, 0]
    )


@pytest.mark.parametrize("make", BENIGN.values(), ids=BENIGN.keys())
def test_benign_framework_pickles_have_no_findings(make: object) -> None:
    result = scan(make())  # type: ignore[operator]
    assert [(f.rule_id, f.evidence.snippet) for f in result.findings] == []
    assert result.incomplete == ()


def test_payload_in_torch_data_pkl_is_found(canary: Canary) -> None:
    data = _torch_data_pkl({"w": torch.ones(2)})
    hostile = data[:2] + call("os", "system", canary.shell) + b"0" + data[2:]
    assert only(scan(hostile), "PCL-PKL-002").evidence.offset == hostile.index(b"\x93")


class _NoTell(io.BytesIO):
    def tell(self) -> int:
        raise io.UnsupportedOperation("not seekable")


def test_joblib_array_bytes_that_pickle_load_would_run_are_scanned(canary: Canary) -> None:
    opcodes = b"cposix\nsystem\n(V" + canary.shell.encode() + b"\ntR0"
    buf = _NoTell()
    joblib.dump({"w": np.frombuffer(opcodes, dtype=np.uint8)}, buf)  # no alignment padding
    data = buf.getvalue()
    assert data.index(opcodes) == data.index(b"Nub") + 3  # the opcodes follow the wrapper's BUILD
    finding = only(scan(data), "PCL-PKL-002")
    assert finding.evidence.snippet == f"posix.system({canary.shell!r})"
