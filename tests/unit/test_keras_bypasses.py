"""Red-team regressions for the Keras config scanner: each test is one evasion technique that
got a hostile config past pellucid (or would, once the pipeline routes it), named after it."""

from __future__ import annotations

import base64
import io
import json
import struct
import zipfile
from pathlib import Path
from typing import Any

import pytest
from keras_samples import CTX, artifact, keras3_lambda_layer, lambda_code_b64

from canary import Canary, fires_in_subprocess
from pellucid.audit import AuditOptions, run_audit
from pellucid.model import FileKind
from pellucid.scanners.base import ScanResult
from pellucid.scanners.keras import KerasConfigScanner
from pellucid.source import ByteSource


def _sequential(layer: dict[str, Any]) -> dict[str, Any]:
    """A Sequential model that calls ``layer`` while Keras rebuilds it (build_config)."""
    input_layer = {
        "module": "keras.layers",
        "class_name": "InputLayer",
        "config": {"batch_shape": [None, 4], "dtype": "float32", "name": "inp"},
        "registered_name": None,
    }
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "s", "layers": [input_layer, layer]},
        "registered_name": None,
        "build_config": {"input_shape": [None, 4]},
    }


def _keras_zip(config: bytes, prefix: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
        archive.writestr("config.json", config)
        archive.writestr("model.weights.npz", b"")
    return prefix + buffer.getvalue()


def _scan(data: bytes) -> ScanResult:
    art = artifact("model.keras", FileKind.JSON, len(data), ("config.json",))
    return KerasConfigScanner().scan(art, ByteSource(data), CTX)


def _rules(result: ScanResult) -> list[str]:
    return [f.rule_id for f in result.findings]


def _load_unsafe(path: Path) -> str:
    return (
        "import os; os.environ['KERAS_BACKEND']='torch'; import keras\n"
        f"try:\n    keras.models.load_model({str(path)!r}, safe_mode=False)\n"
        "except Exception:\n    pass\n"
    )


def _audit_rules(folder: Path) -> tuple[list[str], str]:
    report = run_audit([folder], AuditOptions())
    return [f.rule_id for f in report.findings], report.summary.verdict


def test_keras_object_below_a_plain_top_level_dict(canary: Canary) -> None:
    """deserialize_keras_object walks plain dicts, so a model one level down is still built."""
    data = json.dumps({"m": _sequential(keras3_lambda_layer(lambda_code_b64(canary.python)))})
    result = _scan(data.encode())
    assert _rules(result) == ["PCL-KRS-001"]
    assert result.findings[0].evidence.snippet.startswith(
        "Lambda 'evil' at $.m.config.layers[1].config.function"
    )


@pytest.mark.slow
def test_keras_object_below_a_plain_top_level_dict_runs_in_keras(tmp_path: Path) -> None:
    marker = Canary(tmp_path / "fired")
    layer = keras3_lambda_layer(lambda_code_b64(marker.python))
    path = tmp_path / "model.keras"
    path.write_bytes(_keras_zip(json.dumps({"m": _sequential(layer)}).encode()))
    assert fires_in_subprocess(_load_unsafe(path), marker.marker, timeout=180)


def test_deeply_nested_padding_fails_closed(canary: Canary) -> None:
    """Nesting just under json's recursion limit parses in Keras, not deeper in pellucid."""
    model = _sequential(keras3_lambda_layer(lambda_code_b64(canary.python)))
    text = json.dumps(model)[:-1] + ', "x": ' + "[" * 5000 + "]" * 5000 + "}"
    result = _scan(text.encode())
    assert result.incomplete == ("config nested too deeply for the JSON parser",)


def test_class_name_key_written_with_unicode_escapes(canary: Canary) -> None:
    text = json.dumps(_sequential(keras3_lambda_layer(lambda_code_b64(canary.python))))
    escaped = text.replace('"class_name"', '"class\\u005fname"')
    assert '"class_name"' not in escaped
    assert _rules(_scan(escaped.encode())) == ["PCL-KRS-001"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "utf-8-sig"])
def test_config_in_utf16_utf32_or_with_bom(canary: Canary, encoding: str) -> None:
    """json.loads(bytes), which Keras calls, accepts all three; the scanner must too."""
    text = json.dumps(_sequential(keras3_lambda_layer(lambda_code_b64(canary.python))))
    result = _scan(text.encode(encoding))
    assert _rules(result) == ["PCL-KRS-001"]
    assert "open" in result.findings[0].evidence.snippet


def _raw_marshal_code(python: str) -> str:
    """The form func_load falls back to: marshal bytes as a str (non-ASCII, not base64)."""
    raw = base64.b64decode(lambda_code_b64(python))
    return raw.decode("latin-1")


def test_lambda_code_as_raw_unicode_escape_not_base64(canary: Canary) -> None:
    layer = keras3_lambda_layer(_raw_marshal_code(canary.python))
    result = _scan(json.dumps(_sequential(layer)).encode())
    assert _rules(result) == ["PCL-KRS-001"]
    assert str(canary.marker) in result.findings[0].evidence.snippet


@pytest.mark.slow
def test_lambda_code_as_raw_unicode_escape_runs_in_keras(tmp_path: Path) -> None:
    marker = Canary(tmp_path / "fired")
    layer = keras3_lambda_layer(_raw_marshal_code(marker.python))
    path = tmp_path / "model.keras"
    path.write_bytes(_keras_zip(json.dumps(_sequential(layer)).encode()))
    assert fires_in_subprocess(_load_unsafe(path), marker.marker, timeout=180)


def test_lambda_with_benign_code_and_hostile_value(canary: Canary) -> None:
    """Lambda.from_config unmarshals "code", deserialize_keras_object "value"."""
    layer = keras3_lambda_layer(lambda_code_b64("0"))
    layer["config"]["function"]["config"]["value"] = lambda_code_b64(canary.python)
    result = _scan(json.dumps(_sequential(layer)).encode())
    assert _rules(result) == ["PCL-KRS-001", "PCL-KRS-001"]
    assert str(canary.marker) in result.findings[1].evidence.snippet


@pytest.mark.parametrize(
    "name",
    ["image_dataset_from_directory", "text_dataset_from_directory", "serialize_keras_object"],
)
def test_non_modeling_apis_from_keras_denylist(name: str) -> None:
    function = {"module": "keras.utils", "class_name": "function", "config": name}
    layer = {"module": "keras.layers", "class_name": "Lambda", "config": {"function": function}}
    result = _scan(json.dumps(_sequential(layer)).encode())
    assert _rules(result) == ["PCL-KRS-008"]
    assert result.findings[0].evidence.snippet.endswith(name)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"])
def test_keras_zip_config_in_utf16_or_with_bom_pipeline(
    tmp_path: Path, canary: Canary, encoding: str
) -> None:
    text = json.dumps(_sequential(keras3_lambda_layer(lambda_code_b64(canary.python))))
    (tmp_path / "model.keras").write_bytes(_keras_zip(text.encode(encoding)))
    rules, verdict = _audit_rules(tmp_path)
    assert "PCL-KRS-001" in rules
    assert verdict == "blocked"


@pytest.mark.parametrize(
    "prefix",
    [b"\x80\x04N.", b"GGUF" + struct.pack("<IQQ", 3, 0, 0)],
    ids=["pickle", "gguf"],
)
def test_keras_zip_behind_a_pickle_or_gguf_prefix(
    tmp_path: Path, canary: Canary, prefix: bytes
) -> None:
    """zipfile (and so keras.models.load_model) reads the zip from its end; identify stops at
    the first bytes and never scans the config."""
    text = json.dumps(_sequential(keras3_lambda_layer(lambda_code_b64(canary.python))))
    path = tmp_path / "model.keras"
    path.write_bytes(_keras_zip(text.encode(), prefix))
    assert zipfile.is_zipfile(path)
    with zipfile.ZipFile(path) as archive:
        assert json.loads(archive.read("config.json"))["class_name"] == "Sequential"
    rules, verdict = _audit_rules(tmp_path)
    assert "PCL-KRS-001" in rules
    assert verdict == "blocked"
