"""HfConfigScanner: custom code references, trust flags, duplicate keys and chat templates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from canary import Canary
from chat_template_samples import BENIGN, hostile
from pellucid.budget import Budget
from pellucid.model import Artifact, FileKind, Finding, Severity
from pellucid.scanners.base import ScanContext, ScanResult
from pellucid.scanners.huggingface import HfConfigScanner
from pellucid.source import ByteSource


def scan_bytes(
    data: bytes,
    path: str = "model/config.json",
    member: tuple[str, ...] = (),
    budget: Budget | None = None,
) -> ScanResult:
    artifact = Artifact(path, FileKind.JSON, len(data), member)
    return HfConfigScanner().scan(
        artifact, ByteSource(data), ScanContext(budget=budget or Budget())
    )


def scan_file(path: Path, doc: object) -> ScanResult:
    path.write_text(json.dumps(doc, indent=2))
    return scan_bytes(path.read_bytes(), path.as_posix())


def ids(findings: tuple[Finding, ...] | list[Finding]) -> list[tuple[str, Severity]]:
    return [(f.rule_id, f.severity) for f in findings]


def test_auto_map_local_module_needs_trust_remote_code(tmp_path: Path) -> None:
    (tmp_path / "modeling_tiny.py").write_text("import torch\n")
    result = scan_file(
        tmp_path / "config.json",
        {
            "model_type": "tiny",
            "auto_map": {
                "AutoModel": "modeling_tiny.TinyModel",
                "AutoConfig": "configuration_tiny.TinyConfig",
            },
        },
    )
    assert ids(result.findings) == [("PCL-HFR-001", Severity.MEDIUM)] * 2
    model, config = result.findings
    assert model.evidence.snippet == '"auto_map.AutoModel": "modeling_tiny.TinyModel"'
    assert model.evidence.line == 4
    assert "modeling_tiny.py (present)" in model.detail
    assert "configuration_tiny.py (missing)" in config.detail


def test_auto_map_repo_prefix_points_at_another_repository(tmp_path: Path) -> None:
    result = scan_file(
        tmp_path / "config.json",
        {"auto_map": {"AutoModelForCausalLM": "attacker/helpers--modeling_x.XForCausalLM"}},
    )
    assert ids(result.findings) == [("PCL-HFR-002", Severity.HIGH)]
    assert "attacker/helpers" in result.findings[0].detail
    assert "modeling_x.py" in result.findings[0].detail


def test_repo_prefix_naming_the_cached_repository_itself_is_local(tmp_path: Path) -> None:
    snapshot = tmp_path / "models--org--tiny" / "snapshots" / "abc"
    snapshot.mkdir(parents=True)
    result = scan_file(
        snapshot / "config.json", {"auto_map": {"AutoModel": "org/tiny--modeling_tiny.TinyModel"}}
    )
    assert ids(result.findings) == [("PCL-HFR-001", Severity.MEDIUM)]


@pytest.mark.parametrize(
    ("reference", "reason"),
    [
        ("/tmp/payload.Evil", "absolute path"),
        ("sub/../../outside.Evil", "'..' component"),
        ("/opt/other-model--modeling.Evil", "absolute path"),
    ],
)
def test_auto_map_reference_leaving_the_repository(
    tmp_path: Path, reference: str, reason: str
) -> None:
    result = scan_file(tmp_path / "config.json", {"auto_map": {"AutoModel": reference}})
    (finding,) = result.findings
    assert finding.severity is Severity.HIGH
    assert finding.rule_id in ("PCL-HFR-002", "PCL-HFR-003")
    assert reason in finding.detail


def test_tokenizer_auto_map_pair_with_null_and_selecting_class(tmp_path: Path) -> None:
    result = scan_file(
        tmp_path / "tokenizer_config.json",
        {
            "tokenizer_class": "TinyTokenizerFast",
            "auto_map": {"AutoTokenizer": [None, "tokenization_tiny_fast.TinyTokenizerFast"]},
        },
    )
    (finding,) = result.findings
    assert finding.evidence.snippet.startswith('"auto_map.AutoTokenizer[1]"')
    assert "selected by tokenizer_class" in finding.detail


def test_custom_pipelines_and_diffusers_custom_components(tmp_path: Path) -> None:
    result = scan_file(
        tmp_path / "config.json",
        {
            "model_type": "tiny",
            "custom_pipelines": {
                "tiny-task": {"impl": "pipeline_tiny.TinyPipeline", "pt": ["AutoModel"]}
            },
        },
    )
    assert "pipeline_tiny.py" in result.findings[0].detail
    index = scan_file(
        tmp_path / "model_index.json",
        {
            "_class_name": ["pipeline_custom", "CustomPipeline"],
            "_diffusers_version": "0.30.0",
            "unet": ["my_unet", "MyUNet"],
            "vae": ["diffusers", "AutoencoderKL"],
        },
    )
    details = [f.detail for f in index.findings]
    assert len(details) == 2
    assert "pipeline_custom.py" in details[0]
    assert "unet/my_unet.py" in details[1]


def test_config_switching_trust_remote_code_on(tmp_path: Path) -> None:
    result = scan_file(
        tmp_path / "config_sentence_transformers.json",
        {"model_kwargs": {"trust_remote_code": True}},
    )
    assert ids(result.findings) == [("PCL-HFR-004", Severity.MEDIUM)]
    assert result.findings[0].evidence.snippet == '"model_kwargs.trust_remote_code": true'


def test_duplicate_auto_map_key_hides_the_entry_python_uses() -> None:
    data = (
        b'{"model_type": "tiny",\n "auto_map": {"AutoModel": "modeling_a.A"},\n'
        b' "auto_map": {"AutoModel": "modeling_b.B"},\n "hidden_size": 1, "hidden_size": 2}'
    )
    result = scan_bytes(data)
    duplicates = [f for f in result.findings if f.rule_id == "PCL-HFR-005"]
    assert [(f.severity, f.evidence.line, f.evidence.snippet) for f in duplicates] == [
        (Severity.MEDIUM, 3, '"auto_map"'),
        (Severity.LOW, 4, '"hidden_size"'),
    ]
    assert data[duplicates[0].evidence.offset or 0 :].startswith(b'"auto_map"')
    code = [f for f in result.findings if f.rule_id == "PCL-HFR-001"]
    assert "modeling_b.py" in code[0].detail  # the value Python's loaders actually use


def test_unicode_escaped_key_defeats_no_prefilter() -> None:
    data = b'{"auto\\u005fmap": {"AutoModel": "x--modeling_x.X"}}'
    result = scan_bytes(data, "model/weights_meta.json")
    assert ids(result.findings) == [("PCL-HFR-002", Severity.HIGH)]


def test_non_hugging_face_json_is_skipped_without_parsing() -> None:
    data = json.dumps({"vocab": {f"tok{i}": i for i in range(5000)}}).encode()
    assert scan_bytes(data, "model/tokenizer.json") == ScanResult()
    assert scan_bytes(b"{not json at all}", "model/other.json") == ScanResult()


def test_invalid_config_is_info() -> None:
    result = scan_bytes(b'{"model_type": "tiny",}', "model/config.json")
    assert ids(result.findings) == [("PCL-HFR-006", Severity.INFO)]
    deep = scan_bytes(b"[" * 100_000 + b"]" * 100_000, "model/config.json")
    assert ids(deep.findings) == [("PCL-HFR-006", Severity.INFO)]


def test_config_over_budget_is_incomplete_unless_it_is_not_a_config() -> None:
    data = json.dumps({"model_type": "tiny", "pad": "x" * 500}).encode()
    small = Budget(max_text_bytes=100)
    assert "max_text_bytes" in scan_bytes(data, budget=small).incomplete[0]
    other = scan_bytes(json.dumps({"pad": "x" * 500}).encode(), "m/data.json", budget=small)
    assert other.incomplete == ()


def test_config_inside_an_archive_is_not_checked_on_disk() -> None:
    data = json.dumps({"auto_map": {"AutoModel": "modeling_x.X"}}).encode()
    result = scan_bytes(data, "bundle.zip", member=("repo/config.json",))
    assert "not checked (inside an archive)" in result.findings[0].detail


@pytest.mark.parametrize("technique", sorted(hostile("touch /nonexistent")))
def test_hostile_chat_template_in_tokenizer_config(canary: Canary, technique: str) -> None:
    template = hostile(canary.shell)[technique]
    doc = {
        "tokenizer_class": "LlamaTokenizer",
        "chat_template": [
            {"name": "default", "template": BENIGN["chatml-tools"]},
            {"name": "tool_use", "template": template},
        ],
    }
    data = json.dumps(doc).encode()
    result = scan_bytes(data, "model/tokenizer_config.json")
    loud = [f for f in result.findings if f.severity >= Severity.HIGH]
    assert loud, technique
    assert all(f.rule_id.startswith("PCL-TPL-") for f in result.findings)
    assert all(f.detail.startswith("chat_template[tool_use]: ") for f in result.findings)
    assert data[loud[0].evidence.offset or 0 :].startswith(b'"chat_template"')


@pytest.mark.parametrize("family", sorted(BENIGN))
def test_benign_chat_templates_are_quiet(family: str) -> None:
    as_string = scan_bytes(
        json.dumps({"chat_template": BENIGN[family]}).encode(), "model/tokenizer_config.json"
    )
    as_file = scan_bytes(
        json.dumps({"chat_template": BENIGN[family]}).encode(), "model/chat_template.json"
    )
    assert as_string.findings == as_file.findings == ()
    assert as_string.incomplete == ()
