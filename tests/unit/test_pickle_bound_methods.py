"""Bound methods in checkpoints: getattr(instance, "name") is data unless the method runs."""

from __future__ import annotations

import io
import pickle
import warnings
import zipfile

import pytest

from canary import Canary, global_op
from pellucid.model import Artifact, FileKind
from pellucid.scanners.base import ScanContext
from pellucid.scanners.pickle import PickleScanner
from pellucid.source import ByteSource


def scan(data: bytes) -> list[str]:
    artifact = Artifact("m.pkl", FileKind.PICKLE, len(data))
    result = PickleScanner().scan(artifact, ByteSource(data), ScanContext())
    return sorted({f.rule_id for f in result.findings})


def s(text: str) -> bytes:
    raw = text.encode()
    return b"\x8c" + bytes([len(raw)]) + raw


LINEAR = global_op("torch.nn.modules.linear", "Linear") + b")\x81"  # Linear.__new__()


def test_lazy_module_hook_is_not_a_finding() -> None:
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = torch.nn.Sequential(torch.nn.LazyLinear(2))
    buffer = io.BytesIO()
    torch.save(model, buffer)
    with zipfile.ZipFile(buffer) as archive:
        name = next(n for n in archive.namelist() if n.endswith("data.pkl"))
        data = archive.read(name)
    assert b"_infer_parameters" in data  # the hook really is pickled as a bound method
    assert scan(data) == []


def test_stored_method_of_allowlisted_instance_is_data() -> None:
    fetch = global_op("builtins", "getattr") + b"(" + LINEAR + s("forward") + b"tR"
    data = b"\x80\x04]" + b"(" + fetch + b"e."  # [getattr(Linear(), "forward")]
    assert scan(data) == []


def test_called_method_is_a_finding(canary: Canary) -> None:
    fetch = global_op("builtins", "getattr") + b"(" + LINEAR + s("forward") + b"tR"
    data = b"\x80\x04" + fetch + b"(" + s(canary.shell) + b"tR."  # getattr(...)(...)
    assert "PCL-PKL-002" in scan(data)


def test_dunder_attribute_is_a_finding() -> None:
    fetch = global_op("builtins", "getattr") + b"(" + LINEAR + s("__class__") + b"tR"
    assert "PCL-PKL-002" in scan(b"\x80\x04]" + b"(" + fetch + b"e.")


def test_method_handed_to_a_call_is_a_finding() -> None:
    fetch = global_op("builtins", "getattr") + b"(" + LINEAR + s("forward") + b"tR"
    call = global_op("collections", "OrderedDict") + b"(" + fetch + b"tR"
    assert "PCL-PKL-002" in scan(b"\x80\x04" + call + b".")


def test_getattr_on_a_module_is_a_finding() -> None:
    fetch = global_op("builtins", "getattr") + b"(" + global_op("os", "path") + s("join") + b"tR"
    assert "PCL-PKL-002" in scan(b"\x80\x04]" + b"(" + fetch + b"e.")


def test_real_pickle_of_bound_method_round_trips_as_data() -> None:
    # what CPython itself writes for a bound method of a plain object
    data = pickle.dumps([1, 2].append, protocol=4)
    assert b"getattr" in data


@pytest.mark.parametrize(
    "qualname",
    [
        "_rebuild_tensor_v2.__globals__",
        "_rebuild_tensor_v2.__init__.__globals__",
        "Tensor.__class__.__mro__",
    ],
)
def test_dunder_walk_below_an_allowed_name_is_a_traversal(qualname: str) -> None:
    data = b"\x80\x04" + global_op("torch._utils", qualname) + b"."
    assert scan(data) == ["PCL-PKL-003"]
