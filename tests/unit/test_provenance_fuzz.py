"""Hostile headers for the resource and lineage readers: notes, never exceptions, bounded."""

from __future__ import annotations

import collections
import io
import json
import pickle
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pellucid.budget import DEFAULT_BUDGET
from pellucid.formats.modelcard import parse_card
from pellucid.provenance.checkpoints import onnx_inventory, torch_inventory
from pellucid.provenance.lineage_sources import _merge_models, card_links, hub_name
from pellucid.provenance.tensors import gguf_inventory, safetensors_inventory
from pellucid.source import ByteSource

SETTINGS = settings(max_examples=120, deadline=2000, suppress_health_check=[HealthCheck.too_slow])


def _torch_bytes(state: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def _zip_with(data_pkl: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", data_pkl)
        archive.writestr("archive/data/0", b"\0" * 64)
    return buffer.getvalue()


VALID_PKL = zipfile.ZipFile(io.BytesIO(_torch_bytes({"w": torch.zeros(4, 4)}))).read(
    "archive/data.pkl"
)


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, len(VALID_PKL) - 1), st.integers(0, 255)), max_size=8))
def test_mutated_data_pkl_never_raises(edits: list[tuple[int, int]]) -> None:
    data = bytearray(VALID_PKL)
    for at, value in edits:
        data[at] = value
    inventory = torch_inventory(ByteSource(_zip_with(bytes(data))), "x.pt", DEFAULT_BUDGET)
    assert inventory is not None
    assert all(t.elements >= 0 for t in inventory.tensors)


@SETTINGS
@given(st.binary(max_size=512))
def test_random_data_pkl_and_legacy_streams_never_raise(data: bytes) -> None:
    torch_inventory(ByteSource(_zip_with(data)), "x.pt", DEFAULT_BUDGET)
    torch_inventory(ByteSource(data), "x.pt", DEFAULT_BUDGET, legacy=True)
    torch_inventory(ByteSource(data), "x.pt", DEFAULT_BUDGET)  # not a zip: no inventory


class _Storage:
    pass


class _Tensor:
    def __init__(self, shape: Any, stride: Any) -> None:
        self.shape, self.stride = shape, stride

    def __reduce__(self) -> Any:
        hooks = collections.OrderedDict()  # type: ignore[var-annotated]
        args = (_Storage(), 0, self.shape, self.stride, False, hooks)
        return (torch._utils._rebuild_tensor_v2, args)


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj: Any) -> Any:
        if isinstance(obj, _Storage):
            return ("storage", torch.FloatStorage, "0", "cpu", 10)
        return None


def _crafted(state: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=2).dump(state)
    return _zip_with(buffer.getvalue())


def test_absurd_torch_shapes_are_notes_not_counts() -> None:
    state = {
        "huge": _Tensor((2**40, 2**40, 2**40), (1, 1, 1)),
        "negative": _Tensor((-3, 4), (4, 1)),
        "text": _Tensor(("a", 4), (4, 1)),
        "fine": _Tensor((2, 5), (5, 1)),
    }
    inventory = torch_inventory(ByteSource(_crafted(state)), "x.pt", DEFAULT_BUDGET)
    assert inventory is not None
    assert [t.shape for t in inventory.tensors] == [(2, 5)]
    assert len(inventory.notes) == 3
    assert not inventory.complete
    assert "absurd shape" in inventory.notes[0]


SAFETENSORS = b"".join(
    (
        struct.pack("<Q", 64),
        json.dumps({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}})
        .encode()
        .ljust(64),
        b"\0" * 16,
    )
)


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, len(SAFETENSORS) - 1), st.integers(0, 255)), max_size=6))
def test_mutated_safetensors_header_never_raises(edits: list[tuple[int, int]]) -> None:
    data = bytearray(SAFETENSORS)
    for at, value in edits:
        data[at] = value
    inventory = safetensors_inventory(ByteSource(bytes(data)), "m.safetensors", DEFAULT_BUDGET)
    assert all(t.elements >= 0 for t in inventory.tensors)


def test_absurd_safetensors_shape_is_a_note() -> None:
    header = {"w": {"dtype": "F32", "shape": [2**62, 2**62], "data_offsets": [0, 0]}}
    raw = json.dumps(header).encode()
    data = struct.pack("<Q", len(raw)) + raw
    inventory = safetensors_inventory(ByteSource(data), "m.safetensors", DEFAULT_BUDGET)
    assert inventory.tensors == []
    assert not inventory.complete
    assert any("absurd shape" in note for note in inventory.notes)


def _gguf_bytes(tmp: Path) -> bytes:
    from gguf import GGMLQuantizationType, GGUFWriter

    writer = GGUFWriter(tmp, "llama")
    writer.add_string("general.base_model.0.name", "base")
    writer.add_tensor("blk.0.w", np.zeros((2, 34), np.uint8), raw_dtype=GGMLQuantizationType.Q8_0)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return tmp.read_bytes()


def test_mutated_gguf_never_raises(tmp_path: Path) -> None:
    valid = _gguf_bytes(tmp_path / "m.gguf")
    inventory = gguf_inventory(ByteSource(valid), "m.gguf", DEFAULT_BUDGET)
    assert [t.dtype for t in inventory.tensors] == ["Q8_0"]
    assert inventory.complete

    @SETTINGS
    @given(st.lists(st.tuples(st.integers(4, 300), st.integers(0, 255)), max_size=6))
    def mutate(edits: list[tuple[int, int]]) -> None:
        data = bytearray(valid)
        for at, value in edits:
            data[min(at, len(data) - 1)] = value
        result = gguf_inventory(ByteSource(bytes(data)), "m.gguf", DEFAULT_BUDGET)
        assert all(t.elements >= 0 for t in result.tensors)

    mutate()


@SETTINGS
@given(st.binary(max_size=300))
def test_random_onnx_bytes_never_raise(data: bytes) -> None:
    inventory = onnx_inventory(ByteSource(data), "m.onnx")
    assert all(t.elements >= 0 for t in inventory.tensors)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@SETTINGS
@given(JSONISH, JSONISH, JSONISH)
def test_lineage_readers_accept_any_yaml_values(base: Any, relation: Any, merge: Any) -> None:
    import yaml

    front = yaml.safe_dump({"base_model": base, "base_model_relation": relation})
    links, stated, _notes = card_links(parse_card(f"---\n{front}---\n"))
    assert stated in (None, "adapter", "merge", "quantized", "finetune")
    assert all(isinstance(link.name, str) and link.name for link in links)
    document = merge if isinstance(merge, dict) else {"models": merge, "slices": merge}
    for _key, value in _merge_models(document):
        hub_name(value)
