"""KerasConfigScanner: real Keras 3 configs are clean; hand-edited hostile configs are caught."""

from __future__ import annotations

import base64
import json
import marshal
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from keras_samples import (
    CTX,
    artifact,
    build_models,
    keras2_lambda_layer,
    keras3_lambda_layer,
    lambda_code_b64,
    with_layer,
)

from canary import Canary, fires_in_subprocess
from pellucid.budget import Budget
from pellucid.formats.keras_config import analyze_config_text
from pellucid.formats.marshal_strings import summarize_code
from pellucid.model import FileKind
from pellucid.scanners.base import ScanContext, ScanResult
from pellucid.scanners.keras import KerasConfigScanner
from pellucid.source import ByteSource


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_models(tmp_path_factory.mktemp("keras"))


@pytest.fixture(scope="module")
def config_text(samples: dict[str, Path]) -> str:
    return samples["config"].read_text()


def scan(text: str | bytes, ctx: ScanContext = CTX) -> ScanResult:
    data = text.encode() if isinstance(text, str) else text
    art = artifact("model.keras", FileKind.JSON, len(data), ("config.json",))
    return KerasConfigScanner().scan(art, ByteSource(data), ctx)


def rule_ids(result: ScanResult) -> list[str]:
    return [f.rule_id for f in result.findings]


def test_real_keras3_config_is_clean(config_text: str) -> None:
    result = scan(config_text)
    assert result.findings == ()
    assert result.incomplete == ()
    assert result.notes
    assert "Keras config" in result.notes[0]


def test_non_keras_json_is_passed_over() -> None:
    assert scan('{"architectures": ["BertModel"], "hidden_size": 8}') == ScanResult()
    assert scan('{"class_name": 3}') == ScanResult()  # has the key, not the shape


def test_lambda_layer_keras3_marshalled_code(config_text: str, canary: Canary) -> None:
    code = lambda_code_b64(f"__import__('os').system({canary.shell!r})")
    text = with_layer(config_text, keras3_lambda_layer(code, "lambda_1"))
    result = scan(text)
    assert rule_ids(result) == ["PCL-KRS-001"]
    ev = result.findings[0].evidence
    assert ev.snippet.startswith("Lambda 'lambda_1' at $.config.layers[1].config.function")
    assert "referencing __import__, system" in ev.snippet
    assert canary.shell in ev.snippet
    assert ev.line is not None
    assert text.splitlines()[ev.line - 1].strip().startswith('"code"')
    assert text.encode()[ev.offset :].startswith(json.dumps(code)[:20].encode())


def test_lambda_layer_keras2_code_list(config_text: str, canary: Canary) -> None:
    code = lambda_code_b64(canary.python)
    result = scan(with_layer(config_text, keras2_lambda_layer(code, "old_lambda")))
    assert rule_ids(result) == ["PCL-KRS-001"]
    assert "Lambda 'old_lambda'" in result.findings[0].evidence.snippet
    assert "open" in result.findings[0].evidence.snippet


def test_lambda_layer_without_marshal_header_is_still_reported(config_text: str) -> None:
    fake = base64.b64encode(b"print('not bytecode')" * 3).decode()
    result = scan(with_layer(config_text, keras3_lambda_layer(fake)))
    assert rule_ids(result) == ["PCL-KRS-002"]


def test_function_reference_outside_keras_cve_2025_1550(config_text: str) -> None:
    layer = {
        "module": "keras.layers",
        "class_name": "Dense",
        "config": {
            "name": "dense_evil",
            "units": 1,
            "activation": {
                "module": "os",
                "class_name": "function",
                "config": "system",
                "registered_name": None,
            },
        },
    }
    result = scan(with_layer(config_text, layer))
    assert rule_ids(result) == ["PCL-KRS-003"]
    assert result.findings[0].severity.label == "critical"
    snippet = result.findings[0].evidence.snippet
    assert snippet == "$.config.layers[1].config.activation in layer 'dense_evil': os.system"


def test_function_reference_severity_depends_on_module(config_text: str) -> None:
    def ref(module: str, name: str) -> dict[str, object]:
        return {
            "module": "keras.layers",
            "class_name": "Dense",
            "config": {
                "name": name,
                "activation": {"module": module, "class_name": "function", "config": name},
            },
        }

    custom = scan(with_layer(config_text, ref("acme.losses", "smooth")))
    builtin = scan(with_layer(config_text, ref("builtins", "eval")))
    keras_fn = scan(with_layer(config_text, ref("builtins", "relu")))
    assert [(f.rule_id, f.severity.label) for f in custom.findings] == [("PCL-KRS-003", "high")]
    assert [(f.rule_id, f.severity.label) for f in builtin.findings] == [
        ("PCL-KRS-003", "critical")
    ]
    assert keras_fn.findings == ()


def test_class_from_foreign_module(config_text: str) -> None:
    layer = {
        "module": "subprocess",
        "class_name": "Popen",
        "config": {"name": "p"},
        "registered_name": None,
    }
    result = scan(with_layer(config_text, layer))
    assert rule_ids(result) == ["PCL-KRS-004"]
    assert result.findings[0].evidence.snippet.endswith(": subprocess.Popen")


def test_custom_registered_object_is_low(config_text: str) -> None:
    layer = {
        "module": "keras.layers",
        "class_name": "MyLayer",
        "config": {"name": "mine"},
        "registered_name": "acme>MyLayer",
    }
    result = scan(with_layer(config_text, layer))
    assert rule_ids(result) == ["PCL-KRS-005"]
    assert result.findings[0].severity.label == "low"


def test_get_file_gadget_cve_2025_8747(config_text: str) -> None:
    ref = {
        "module": "keras.utils",
        "class_name": "function",
        "config": "get_file",
        "registered_name": None,
    }
    layer = {
        "module": "keras.layers",
        "class_name": "Dense",
        "config": {"name": "dl", "units": 1, "activation": ref},
    }
    result = scan(with_layer(config_text, layer))
    assert rule_ids(result) == ["PCL-KRS-006"]
    assert result.findings[0].evidence.snippet.endswith(": get_file")


def test_enable_unsafe_deserialization_cve_2025_9906(config_text: str) -> None:
    ref = {
        "module": "keras.config",
        "class_name": "function",
        "config": "enable_unsafe_deserialization",
        "registered_name": None,
    }
    layer = {
        "module": "keras.layers",
        "class_name": "Dense",
        "config": {"name": "u", "units": 1, "activation": ref},
    }
    result = scan(with_layer(config_text, layer))
    assert rule_ids(result) == ["PCL-KRS-007"]
    assert result.findings[0].severity.label == "critical"


def test_torch_module_wrapper_cve_2025_49655(config_text: str) -> None:
    payload = b"PK\x03\x04 pretend torch.save archive"
    layer = {
        "module": "keras.src.utils.torch_utils",
        "class_name": "TorchModuleWrapper",
        "config": {"name": "tw", "module": base64.b64encode(payload).decode()},
        "registered_name": "TorchModuleWrapper",
    }
    result = scan(with_layer(config_text, layer))
    assert rule_ids(result) == ["PCL-KRS-009"]
    assert len(result.members) == 1
    assert result.members[0].source.read() == payload  # handed on to the zip/pickle scanners
    assert result.members[0].unpacked


def test_tfsm_layer_cve_2026_1462(config_text: str) -> None:
    layer = {
        "module": "keras.layers",
        "class_name": "TFSMLayer",
        "config": {"name": "ext", "filepath": "/tmp/attacker_savedmodel"},
    }
    result = scan(with_layer(config_text, layer))
    assert rule_ids(result) == ["PCL-KRS-010"]
    assert "/tmp/attacker_savedmodel" in result.findings[0].evidence.snippet


def test_oversized_keras_json_is_incomplete(config_text: str) -> None:
    result = scan(config_text, ScanContext(budget=Budget(max_text_bytes=100)))
    assert result.findings == ()
    assert "budget" in result.incomplete[0]


def test_marshal_walker_lists_names_without_unmarshalling(canary: Canary) -> None:
    raw = base64.b64decode(lambda_code_b64(f"__import__('subprocess').call({canary.shell!r})"))
    summary = summarize_code(raw)
    assert summary.complete
    assert summary.names[:2] == ["__import__", "call"]
    assert "subprocess" in summary.strings
    assert canary.shell in summary.strings
    truncated = summarize_code(raw[: len(raw) // 2])
    assert not truncated.complete


@pytest.mark.slow
def test_lambda_sample_really_runs_in_keras(config_text: str, tmp_path: Path) -> None:
    """The hostile sample is real: Keras with safe_mode=False runs the Lambda while loading."""
    marker = Canary(tmp_path / "fired")
    code = lambda_code_b64(marker.python)
    document = json.loads(config_text)
    out = document["config"]["layers"][2]  # "out" consumes "hidden"; route it through "evil"
    layer = keras3_lambda_layer(code)
    layer["inbound_nodes"] = json.loads(json.dumps(out["inbound_nodes"]))
    out["inbound_nodes"][0]["args"][0]["config"]["keras_history"][0] = "evil"
    document["config"]["layers"].insert(2, layer)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(document))
    loader = (
        "import os; os.environ['KERAS_BACKEND']='torch'; import keras, json;"
        f"keras.models.model_from_json(open({str(path)!r}).read())"
    )
    unsafe = loader.replace("json;", "json; keras.config.enable_unsafe_deserialization();")
    assert fires_in_subprocess(unsafe, marker.marker, timeout=120)


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=20)
    | st.sampled_from(["function", "__lambda__", "Lambda", "os", "get_file", "keras.layers"]),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(
                [
                    "class_name",
                    "config",
                    "module",
                    "registered_name",
                    "name",
                    "code",
                    "function",
                    "function_type",
                    "value",
                ]
            )
            | st.text(max_size=8),
            children,
            max_size=6,
        )
    ),
    max_leaves=40,
)


@settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(document=_json)
def test_random_json_never_raises(document: object) -> None:
    started = time.perf_counter()
    analyze_config_text(json.dumps(document), force=True)
    scan(json.dumps({"class_name": "Functional", "config": document}))
    assert time.perf_counter() - started < 2


@settings(max_examples=150, deadline=2000)
@given(data=st.binary(max_size=400), cut=st.integers(0, 200))
def test_random_marshal_bytes_never_raise(data: bytes, cut: int) -> None:
    summarize_code(b"\xe3" + data)
    real = marshal.dumps(compile("lambda: print('x')", "<s>", "eval"))
    summarize_code(real[:cut] + data)
    scan(b'{"class_name": "Lambda", "config": ' + data + b"}")
