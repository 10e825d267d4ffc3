"""Resource profile: parameter counts, dtypes and memory from headers, equal to what the
frameworks themselves report for the same files."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from pellucid.modelanalysis import SectionResult
from pellucid.modelfiles import ModelFiles
from pellucid.provenance.resources import ResourceAnalyzer, ResourceProfile

GiB = 1024**3


def analyze(folder: Path, machine: int | None = 16 * GiB) -> SectionResult:
    return ResourceAnalyzer(machine_memory=machine).analyze(ModelFiles.scan_folder(folder), {})


def profile(folder: Path, machine: int | None = 16 * GiB) -> ResourceProfile:
    value = analyze(folder, machine).value
    assert isinstance(value, ResourceProfile)
    return value


def test_safetensors_numpy_dtypes_counted_per_dtype(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    arrays = {
        "w": np.zeros((8, 16), np.float32),
        "h": np.zeros((3, 5), np.float16),
        "ids": np.zeros(7, np.int64),
        "mask": np.zeros((2, 2), np.bool_),
        "q": np.zeros(9, np.uint8),
    }
    save_file(arrays, str(tmp_path / "model.safetensors"))
    result = analyze(tmp_path)
    value = result.value
    assert value.parameters == sum(a.size for a in arrays.values()) == 163
    assert dict(value.dtypes) == {"F32": 128, "F16": 15, "I64": 7, "BOOL": 4, "U8": 9}
    assert value.memory["as_stored"] == sum(a.nbytes for a in arrays.values())
    assert value.memory["fp32"] == 163 * 4
    assert value.memory["int4"] == 82
    assert value.bytes_on_disk == (tmp_path / "model.safetensors").stat().st_size
    assert value.source == "safetensors"
    assert value.complete
    json.dumps(result.data)  # JSON-ready


def _shards(folder: Path, tensors: dict[str, torch.Tensor], count: int) -> dict[str, str]:
    from safetensors.torch import save_file

    names = sorted(tensors)
    weight_map = {}
    for index in range(count):
        shard = f"model-{index + 1:05d}-of-{count:05d}.safetensors"
        part = {n: tensors[n] for n in names[index::count]}
        save_file(part, str(folder / shard))
        weight_map.update(dict.fromkeys(part, shard))
    total = sum(t.numel() * t.element_size() for t in tensors.values())
    index_doc = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index_doc))
    return weight_map


def test_sharded_safetensors_summed_and_checked_against_index(tmp_path: Path) -> None:
    tensors = {f"model.layers.{i}.w": torch.zeros(4, 6, dtype=torch.bfloat16) for i in range(3)} | {
        "lm_head.weight": torch.zeros(10, 6)
    }
    _shards(tmp_path, tensors, 2)
    value = profile(tmp_path)
    assert value.parameters == sum(t.numel() for t in tensors.values()) == 132
    assert len(value.weight_files) == 2
    assert value.complete
    assert dict(value.dtypes) == {"BF16": 72, "F32": 60}
    assert not [n for n in value.notes if "index.json" in n]


def test_missing_shard_makes_totals_partial(tmp_path: Path) -> None:
    tensors = {f"t{i}": torch.zeros(5) for i in range(4)}
    weight_map = _shards(tmp_path, tensors, 2)
    (tmp_path / sorted(set(weight_map.values()))[1]).unlink()
    value = profile(tmp_path)
    assert not value.complete
    assert value.parameters == 10
    assert any("1 shard(s) missing (model-00002-of-00002.safetensors)" in n for n in value.notes)


def test_sharded_pytorch_bin_with_index_and_lfs_pointer(tmp_path: Path) -> None:
    weight_map = {}
    for index in (1, 2):
        shard = f"pytorch_model-0000{index}-of-00002.bin"
        torch.save({f"w{index}": torch.zeros(index, 10)}, tmp_path / shard)
        weight_map[f"w{index}"] = shard
    (tmp_path / "pytorch_model.bin.index.json").write_text(json.dumps({"weight_map": weight_map}))
    pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:{}\nsize 1234\n"
    (tmp_path / "model.safetensors").write_text(pointer.format("ab" * 32))
    value = profile(tmp_path)
    assert value.parameters == 30
    assert value.source == "torch"
    assert value.complete
    assert len(value.weight_files) == 2
    assert any("model.safetensors: Git LFS pointer" in note for note in value.notes)


def test_torch_tied_weights_counted_once(tmp_path: Path) -> None:
    module = torch.nn.Sequential(
        torch.nn.Embedding(50, 8), torch.nn.Linear(8, 8), torch.nn.Linear(8, 50, bias=False)
    )
    module[2].weight = module[0].weight  # tied input and output embeddings
    state = module.state_dict()
    torch.save(state, tmp_path / "pytorch_model.bin")
    value = profile(tmp_path)
    assert value.parameters == sum(p.numel() for p in module.parameters()) == 472
    assert value.parameters_total == sum(t.numel() for t in state.values()) == 872
    assert value.tensors == len(state) == 4
    storages = {
        t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in state.values()
    }
    assert value.memory["as_stored"] == sum(storages.values())
    assert value.source == "torch"
    assert dict(value.dtypes) == {"F32": 472}


def test_torch_views_dtypes_and_legacy_format(tmp_path: Path) -> None:
    base = torch.zeros(12, dtype=torch.bfloat16)
    state = {
        "full": base,
        "view": base[4:10],  # a view into the same storage adds nothing
        "f8": torch.zeros(3, 3).to(torch.float8_e4m3fn),  # _rebuild_tensor_v3
        "i64": torch.zeros(5, dtype=torch.int64),
    }
    for name, zipped in (("new.pt", True), ("old.pt", False)):
        folder = tmp_path / name
        folder.mkdir()
        torch.save(state, folder / name, _use_new_zipfile_serialization=zipped)
        value = profile(folder)
        assert value.parameters == 12 + 9 + 5, name
        assert value.parameters_total == 12 + 6 + 9 + 5, name
        assert dict(value.dtypes) == {"BF16": 12, "F8_E4M3": 9, "I64": 5}, name


def test_safetensors_preferred_over_pytorch_bin(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    state = {"w": torch.zeros(4, 4), "b": torch.zeros(4)}
    save_file(state, str(tmp_path / "model.safetensors"))
    torch.save(state, tmp_path / "pytorch_model.bin")
    (tmp_path / "checkpoint-500").mkdir()
    torch.save(state, tmp_path / "checkpoint-500" / "pytorch_model.bin")
    torch.save({"step": torch.zeros(1000)}, tmp_path / "optimizer.pt")
    result = analyze(tmp_path)
    assert result.value.source == "safetensors"
    assert result.value.parameters == 20
    used = {entry["set"]: entry["used"] for entry in result.data["weight_files"]}
    assert used == {"model.safetensors": True, "pytorch_model.bin": False}
    notes = "\n".join(result.value.notes)
    assert "also present and not counted: pytorch_model.bin (torch)" in notes
    assert "checkpoint-500/pytorch_model.bin: intermediate training checkpoint" in notes
    assert "optimizer.pt: training state" in notes


def _gguf(path: Path, metadata: dict[str, Any] | None = None) -> Path:
    from gguf import GGMLQuantizationType as Q
    from gguf import GGUFWriter
    from gguf.quants import quantize

    writer = GGUFWriter(path, "llama")
    for key, value in (metadata or {}).items():
        if isinstance(value, int):
            writer.add_uint32(key, value)
        else:
            writer.add_string(key, value)
    rng = np.random.default_rng(0)
    writer.add_tensor("token_embd.weight", rng.random((16, 32), dtype=np.float32))
    writer.add_tensor("blk.0.attn.weight", quantize(rng.random((4, 64), np.float32), Q.Q8_0),
                      raw_dtype=Q.Q8_0)  # fmt: skip
    writer.add_tensor("blk.1.attn.weight", np.zeros((3, 144), np.uint8), raw_dtype=Q.Q4_K)
    writer.add_tensor("output_norm.weight", np.zeros(32, np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_gguf_quantised_sizes_equal_the_gguf_reader(tmp_path: Path) -> None:
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, GGUFReader

    path = _gguf(tmp_path / "tiny-Q4_K_M.gguf")
    result = analyze(tmp_path)
    reader = GGUFReader(path)
    expected_params: dict[str, int] = {}
    expected_bytes: dict[str, int] = {}
    for tensor in reader.tensors:
        name = tensor.tensor_type.name
        expected_params[name] = expected_params.get(name, 0) + int(tensor.n_elements)
        expected_bytes[name] = expected_bytes.get(name, 0) + int(tensor.n_bytes)
    assert dict(result.value.dtypes) == expected_params
    assert result.data["weight_files"][0]["bytes_per_dtype"] == expected_bytes
    block, size = GGML_QUANT_SIZES[GGMLQuantizationType.Q4_K]
    assert expected_bytes["Q4_K"] == 3 * 256 // block * size == 432
    assert result.value.memory["as_stored"] == sum(expected_bytes.values())
    assert result.value.source == "gguf"


def test_gguf_quantisation_variants_are_alternatives(tmp_path: Path) -> None:
    _gguf(tmp_path / "tiny-Q8_0.gguf")
    _gguf(tmp_path / "tiny-Q4_K_M.gguf")
    result = analyze(tmp_path)
    assert result.value.parameters == 16 * 32 + 256 + 768 + 32
    assert len(result.value.weight_files) == 1
    assert [e["used"] for e in result.data["weight_files"]] == [True, False]


def test_gguf_block_count_disagrees_with_tensors(tmp_path: Path) -> None:
    _gguf(tmp_path / "tiny.gguf", {"llama.block_count": 3, "llama.embedding_length": 32})
    findings = analyze(tmp_path).findings
    assert [f.rule_id for f in findings] == ["PCL-PRV-003"]
    assert findings[0].evidence.snippet == "llama.block_count = 3"
    assert "hold 2 blocks (blk.N)" in findings[0].detail


def test_config_layers_and_embedding_disagree_with_headers(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    tensors = {f"model.layers.{i}.mlp.weight": torch.zeros(2, 2) for i in range(2)}
    tensors["model.embed_tokens.weight"] = torch.zeros(100, 16)
    save_file(tensors, str(tmp_path / "model.safetensors"))
    config = {"num_hidden_layers": 4, "hidden_size": 16, "vocab_size": 128}
    (tmp_path / "config.json").write_text(json.dumps(config, indent=1))
    findings = analyze(tmp_path).findings
    assert [f.rule_id for f in findings] == ["PCL-PRV-003", "PCL-PRV-003"]
    layers, embedding = findings
    assert (layers.evidence.line, layers.evidence.snippet) == (2, '"num_hidden_layers": 4')
    assert "hold 2 layers (model.layers.N)" in layers.detail
    assert "model.embed_tokens.weight" in embedding.detail
    assert "[100, 16]" in embedding.detail
    config["num_hidden_layers"], config["vocab_size"] = 2, 100
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert not analyze(tmp_path).findings


def test_onnx_initializers_counted(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weights = [
        numpy_helper.from_array(np.zeros((3, 4), np.float32), "w"),
        numpy_helper.from_array(np.zeros(6, np.float16), "b"),
    ]
    node = helper.make_node("Identity", ["x"], ["y"])
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        initializer=weights,
    )
    onnx.save(helper.make_model(graph), str(tmp_path / "model.onnx"))
    value = profile(tmp_path)
    assert value.parameters == 18
    assert dict(value.dtypes) == {"F16": 6, "F32": 12}
    assert value.memory["as_stored"] == 12 * 4 + 6 * 2


def test_diffusers_pipeline_sums_its_components(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    (tmp_path / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')
    for component, size in (("unet", 10), ("vae", 4)):
        (tmp_path / component).mkdir()
        save_file({"w": torch.zeros(size)}, str(tmp_path / component / "model.safetensors"))
        torch.save({"w": torch.zeros(size)}, tmp_path / component / "model.bin")
    value = profile(tmp_path)
    assert value.parameters == 14
    assert value.source == "safetensors"


def test_fits_compares_with_machine_memory(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    save_file({"w": np.zeros(256, np.float32)}, str(tmp_path / "model.safetensors"))
    assert profile(tmp_path, machine=2048).fits is True
    small = profile(tmp_path, machine=512)
    assert small.fits is False
    assert small.machine_memory == 512
    line = "the weights need 1.00 KiB as stored (KV cache and activations extra); "
    assert line + "this machine has 512 B of memory" in small.notes
    assert profile(tmp_path, machine=None).fits is None
    assert ResourceAnalyzer().machine_memory is None or ResourceAnalyzer().machine_memory > 0


def test_no_weights_gives_unknown_parameters(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    value = profile(tmp_path)
    assert value.parameters is None
    assert value.source == ""
    assert value.fits is None


@pytest.mark.parametrize("cut", [3, 8, 20])
def test_truncated_safetensors_header_is_a_note(tmp_path: Path, cut: int) -> None:
    from safetensors.numpy import save_file

    save_file({"w": np.zeros(64, np.float32)}, str(tmp_path / "model.safetensors"))
    data = (tmp_path / "model.safetensors").read_bytes()
    (tmp_path / "model.safetensors").write_bytes(data[:cut])
    value = profile(tmp_path)
    assert value.parameters is None
    assert not value.complete
    assert value.notes
    assert "model.safetensors" in "\n".join(value.notes)


def test_broken_preferred_format_loses_to_a_readable_one(tmp_path: Path) -> None:
    header = b'{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}'  # no closing brace
    data = struct.pack("<Q", len(header)) + header + b"\0" * 16
    (tmp_path / "model.safetensors").write_bytes(data)
    torch.save({"w": torch.zeros(6)}, tmp_path / "pytorch_model.bin")
    (tmp_path / "extra.bin").write_bytes(b"PK\x05\x06" + b"\0" * 18)  # an empty zip
    value = profile(tmp_path)
    assert value.source == "torch"
    assert value.parameters == 6
    assert "extra.bin: named like weights, but no weight format found" in "\n".join(value.notes)
