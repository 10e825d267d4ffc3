"""Regression tests for container, discovery and non-pickle techniques of threats.md §3.3-3.7
that the unit tests do not already pin end to end through ``run_audit``. docs/scorecard.md maps
every row to a test; misses are strict xfails that say what pellucid needs."""

from __future__ import annotations

import gzip
import json
import os
import zipfile
from pathlib import Path

import pytest
from technique_samples import (
    STACK_GLOBAL,
    audit,
    call_pickle,
    incomplete,
    one,
    tar_bytes,
    write_audit,
    zip_bytes,
)

from canary import Canary
from gguf_samples import STRING, build, gguf_string, kv, tensor_info
from pellucid.model import Severity


def test_nested_archives_four_levels(tmp_path: Path, canary: Canary) -> None:
    pickle_bytes = call_pickle("os", "system", canary.shell)
    torch_zip = zip_bytes("archive/data.pkl", pickle_bytes)
    layer = gzip.compress(tar_bytes(("layer/model.pt", torch_zip)), mtime=0)
    data = tar_bytes(("payload.zip", zip_bytes("layers/blob.tar.gz", layer)))
    report = write_audit(tmp_path / "image.tar", data)
    chain = ("payload.zip", "layers/blob.tar.gz", "blob.tar", "layer/model.pt", "archive/data.pkl")
    finding = one(report, "PCL-PKL-002", f"os.system({canary.shell!r})", chain)
    assert finding.evidence.offset == pickle_bytes.index(STACK_GLOBAL)


JOBLIB_COMPRESSORS = ["zlib", "gzip", "bz2", "lzma", "xz", "lz4"]


class _Payload:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (self.command,))


@pytest.mark.parametrize("method", JOBLIB_COMPRESSORS)
def test_compression_wrappers_joblib(tmp_path: Path, canary: Canary, method: str) -> None:
    import joblib

    path = tmp_path / "model.joblib"
    joblib.dump({"hook": _Payload(canary.shell)}, path, compress=(method, 3))
    report = audit(path)
    finding = one(report, "PCL-PKL-002", f"posix.system({canary.shell!r})")
    assert len(finding.evidence.member) == 1  # the decompressed stream
    assert finding.evidence.offset is not None
    assert incomplete(report) == []


@pytest.mark.parametrize("suffix", [".pkl.gz", ".pkl.zst", ".pkl.lz4"])
def test_compression_wrappers_plain_files(tmp_path: Path, canary: Canary, suffix: str) -> None:
    import lz4.frame
    import zstandard

    data = call_pickle("os", "system", canary.shell)
    packed = {
        ".pkl.gz": lambda: gzip.compress(data),
        ".pkl.zst": lambda: zstandard.ZstdCompressor().compress(data),
        ".pkl.lz4": lambda: lz4.frame.compress(data),
    }[suffix]()
    report = write_audit(tmp_path / f"model{suffix}", packed)
    finding = one(report, "PCL-PKL-002", f"os.system({canary.shell!r})")
    assert len(finding.evidence.member) == 1
    assert finding.evidence.offset == data.index(STACK_GLOBAL)


def test_tiny_file_under_size_gates(tmp_path: Path) -> None:
    data = b"cos\nsystem\n(S'id'\ntR."  # 21 bytes, no extension
    report = write_audit(tmp_path / "m", data)
    finding = one(report, "PCL-PKL-002", "os.system('id')")
    assert finding.evidence.offset == 0
    assert finding.blocking


@pytest.mark.parametrize("name", ["notes.txt", "settings.cfg", "README.md"])
def test_protocol_0_pickle_named_as_text(tmp_path: Path, canary: Canary, name: str) -> None:
    data = call_pickle("os", "system", canary.shell, protocol=0)
    assert data.isascii()
    report = write_audit(tmp_path / name, data)
    finding = one(report, "PCL-PKL-002", f"os.system({canary.shell!r})")
    assert finding.evidence.file.endswith(name)
    assert finding.evidence.offset == 0


def test_symlink_leaving_the_model_folder(tmp_path: Path, canary: Canary) -> None:
    outside = tmp_path / "elsewhere" / "payload.pkl"
    outside.parent.mkdir()
    outside.write_bytes(call_pickle("os", "system", canary.shell))
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text('{"model_type": "bert"}')
    link = model / "pytorch_model.bin"
    link.symlink_to(outside)
    report = audit(model)
    escape = one(report, "PCL-DSC-001")
    assert escape.evidence.snippet == f"{link} -> {outside}"
    payload = one(report, "PCL-PKL-002", f"os.system({canary.shell!r})")
    assert payload.evidence.file == str(link)  # the target is scanned under the link's name


def _keras_archive(path: Path, layer: dict[str, object]) -> None:
    config = {
        "module": "keras",
        "class_name": "Sequential",
        "registered_name": None,
        "config": {"name": "seq", "layers": [layer]},
    }
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.10.0"}))
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("model.weights.h5", b"")


def _function(module: str, name: str) -> dict[str, object]:
    return {"module": module, "class_name": "function", "config": name, "registered_name": None}


def _dense(activation: dict[str, object]) -> dict[str, object]:
    config = {"name": "d", "units": 1, "activation": activation}
    return {"module": "keras.layers", "class_name": "Dense", "config": config}


KERAS_LOAD_PATHS = {
    "module_function_reference": (_dense(_function("os", "system")), "PCL-KRS-003"),
    "get_file_download": (_dense(_function("keras.utils", "get_file")), "PCL-KRS-006"),
    "safe_mode_switched_off": (
        _dense(_function("keras.config", "enable_unsafe_deserialization")),
        "PCL-KRS-007",
    ),
    "torch_module_wrapper": (
        {
            "module": "keras.src.utils.torch_utils",
            "class_name": "TorchModuleWrapper",
            "config": {"name": "tw", "module": "UEsDBA=="},
            "registered_name": "TorchModuleWrapper",
        },
        "PCL-KRS-009",
    ),
    "tfsm_layer_external_saved_model": (
        {
            "module": "keras.layers",
            "class_name": "TFSMLayer",
            "config": {"name": "ext", "filepath": "/tmp/attacker_savedmodel"},
        },
        "PCL-KRS-010",
    ),
}


@pytest.mark.parametrize("case", KERAS_LOAD_PATHS.values(), ids=KERAS_LOAD_PATHS.keys())
def test_keras_safe_mode_load_path_cves(
    tmp_path: Path, case: tuple[dict[str, object], str]
) -> None:
    layer, rule_id = case
    path = tmp_path / "model.keras"
    _keras_archive(path, layer)
    report = audit(path)
    finding = one(report, rule_id, member=("config.json",))
    assert finding.severity >= Severity.HIGH
    assert finding.evidence.snippet


GGUF_OVERFLOWS = {
    "string_length_beyond_file": (
        build([kv("general.name", STRING, gguf_string("x", length=1 << 62))], []),
        "PCL-GGF-003",
    ),
    "tensor_count_beyond_file": (build([], [], tensor_count=1 << 60), "PCL-GGF-003"),
    "element_count_overflows_int64": (
        build([], [tensor_info("w", (1 << 32, 1 << 32), 0, 0)], data=b"\x00" * 32),
        "PCL-GGF-008",
    ),
}


@pytest.mark.parametrize("case", GGUF_OVERFLOWS.values(), ids=GGUF_OVERFLOWS.keys())
def test_gguf_parser_overflow_headers(tmp_path: Path, case: tuple[bytes, str]) -> None:
    data, rule_id = case
    report = write_audit(tmp_path / "model.gguf", data)
    finding = one(report, rule_id)
    assert finding.severity >= Severity.HIGH
    assert finding.evidence.offset is not None
    assert finding.evidence.offset < len(data)


NEMO_CONFIG = """\
name: ConformerCTC
preprocessor:
  _target_: os.system
  _args_: ["{command}"]
encoder:
  _target_: nemo.collections.asr.modules.ConformerEncoder
  n_layers: 2
"""


def test_nemo_hydra_target_in_model_config(tmp_path: Path, canary: Canary) -> None:
    weights = zip_bytes("model_weights/data.pkl", b"\x80\x02}q\x00.")
    config = NEMO_CONFIG.format(command=canary.shell).encode()
    data = tar_bytes(("./model_weights.ckpt", weights), ("./model_config.yaml", config))
    report = write_audit(tmp_path / "asr.nemo", data)
    hits = [
        f
        for f in report.findings
        if f.evidence.member == ("./model_config.yaml",) and "os.system" in f.evidence.snippet
    ]
    assert len(hits) == 1
    assert hits[0].blocking
    assert hits[0].evidence.line == 3


def test_encrypted_7z_is_reported_and_incomplete(tmp_path: Path, canary: Canary) -> None:
    import py7zr

    path = tmp_path / "model.7z"
    with py7zr.SevenZipFile(path, "w", password="secret") as archive:
        archive.writestr(call_pickle("os", "system", canary.shell), "archive/data.pkl")
    report = audit(path)
    assert one(report, "PCL-ARC-005").evidence.file == str(path)
    assert [c.artifact.member for c in incomplete(report)] == [()]
