"""Lineage: base models from the card, GGUF keys, adapter/config/merge files; conflicts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from pellucid.model import Severity
from pellucid.modelanalysis import SectionResult, analyze_model
from pellucid.modelfiles import ModelFiles
from pellucid.provenance.lineage import Lineage


def lineage(folder: Path) -> SectionResult:
    return analyze_model(ModelFiles.scan_folder(folder), until="lineage")["lineage"]


def card(folder: Path, front: str) -> None:
    (folder / "README.md").write_text(f"---\n{front}---\n# Model\n")


def names(result: SectionResult) -> list[tuple[str, str, int]]:
    value = result.value
    assert isinstance(value, Lineage)
    return [(b.name, b.source, b.generation) for b in value.bases]


def test_card_base_model_list_with_relation(tmp_path: Path) -> None:
    card(tmp_path, "license: mit\nbase_model:\n- org/a\n- org/b\nbase_model_relation: merge\n")
    result = lineage(tmp_path)
    assert names(result) == [("org/a", "card", 1), ("org/b", "card", 1)]
    assert result.value.relation == "merge"
    assert result.value.relation_source == "card"
    assert result.value.bases[0].line == 3
    assert not result.findings
    assert result.data["bases"][1]["name"] == "org/b"
    json.dumps(result.data)


def test_adapter_folder_relation_inferred(tmp_path: Path) -> None:
    config = {"base_model_name_or_path": "meta-llama/Llama-3.1-8B", "peft_type": "LORA"}
    (tmp_path / "adapter_config.json").write_text(json.dumps(config, indent=1))
    card(tmp_path, "base_model: https://huggingface.co/meta-llama/Llama-3.1-8B\n")
    result = lineage(tmp_path)
    assert names(result) == [("meta-llama/Llama-3.1-8B", "card", 1)]
    assert result.value.relation == "adapter"
    assert result.value.relation_source.startswith("inferred: ")
    adapter = next(link for link in result.value.links if link.source == "adapter_config")
    assert (adapter.relation, adapter.line, adapter.key) == (
        "adapter",
        2,
        "base_model_name_or_path",
    )
    assert not result.findings


def test_card_and_adapter_config_conflict(tmp_path: Path) -> None:
    (tmp_path / "adapter_config.json").write_text('{"base_model_name_or_path": "org/y"}')
    card(tmp_path, "base_model: org/x\nbase_model_relation: adapter\n")
    result = lineage(tmp_path)
    [finding] = result.findings
    assert finding.rule_id == "PCL-PRV-001"
    assert finding.severity is Severity.MEDIUM
    assert "org/x" in finding.evidence.snippet
    assert "org/y" in finding.evidence.snippet
    assert finding.evidence.file.endswith("README.md")
    assert finding.evidence.line == 2
    assert len(result.data["conflicts"]) == 1
    assert {b.name for b in result.value.bases} == {"org/x", "org/y"}


def test_config_name_or_path_is_a_hint(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"_name_or_path": "org/hint", "model_type": "x"}')
    result = lineage(tmp_path)
    assert names(result) == [("org/hint", "config", 1)]
    assert result.value.relation == "finetune"
    card(tmp_path, "base_model: org/stated\n")
    result = lineage(tmp_path)
    assert names(result) == [("org/stated", "card", 1)]  # the hint is no base any more
    [finding] = result.findings
    assert finding.severity is Severity.LOW
    assert "org/hint" in finding.detail
    (tmp_path / "config.json").write_text('{"_name_or_path": "/home/me/run-3"}')
    assert not lineage(tmp_path).findings  # a local path names no model


def _gguf(path: Path, metadata: dict[str, Any], quantised: bool = False) -> None:
    from gguf import GGMLQuantizationType, GGUFWriter

    writer = GGUFWriter(path, "llama")
    for key, value in metadata.items():
        if isinstance(value, int):
            writer.add_uint32(key, value)
        else:
            writer.add_string(key, value)
    if quantised:
        data = np.zeros((1, 34), np.uint8)
        writer.add_tensor("w", data, raw_dtype=GGMLQuantizationType.Q8_0)
    else:
        writer.add_tensor("w", np.zeros(8, np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


BASE_KEYS = {
    "general.base_model.count": 1,
    "general.base_model.0.name": "Llama 3.1 8B",
    "general.base_model.0.organization": "Meta Llama",
    "general.base_model.0.repo_url": "https://huggingface.co/meta-llama/Llama-3.1-8B",
}


def test_gguf_base_model_keys(tmp_path: Path) -> None:
    _gguf(tmp_path / "m.gguf", BASE_KEYS)
    result = lineage(tmp_path)
    assert names(result) == [("meta-llama/Llama-3.1-8B", "gguf", 1)]
    base = result.value.bases[0]
    assert base.key == "general.base_model.0.repo_url"
    assert base.offset
    assert result.value.relation == "finetune"


def test_gguf_source_is_parent_and_base_grandparent(tmp_path: Path) -> None:
    keys = BASE_KEYS | {"general.source.url": "https://huggingface.co/org/tuned"}
    _gguf(tmp_path / "m-Q8_0.gguf", keys, quantised=True)
    result = lineage(tmp_path)
    assert names(result) == [("org/tuned", "gguf", 1), ("meta-llama/Llama-3.1-8B", "gguf", 2)]
    assert result.value.relation == "quantized"
    assert "Q8_0" in result.value.relation_source


def test_gguf_base_keys_describe_the_cards_parent(tmp_path: Path) -> None:
    _gguf(tmp_path / "m-Q8_0.gguf", BASE_KEYS, quantised=True)
    card(tmp_path, "base_model: org/tuned\nbase_model_relation: quantized\n")
    result = lineage(tmp_path)
    assert names(result) == [("org/tuned", "card", 1), ("meta-llama/Llama-3.1-8B", "gguf", 2)]
    assert not result.findings


def test_gguf_name_and_organization_without_url(tmp_path: Path) -> None:
    keys = {k: v for k, v in BASE_KEYS.items() if not k.endswith("repo_url")}
    _gguf(tmp_path / "m.gguf", keys)
    assert names(lineage(tmp_path)) == [("Meta-Llama/Llama 3.1 8B", "gguf", 1)]


def test_quantised_model_without_base_is_reported(tmp_path: Path) -> None:
    _gguf(tmp_path / "m-Q8_0.gguf", {}, quantised=True)
    result = lineage(tmp_path)
    assert result.value.bases == ()
    assert result.value.relation == "quantized"
    [finding] = result.findings
    assert finding.rule_id == "PCL-PRV-002"
    assert finding.severity is Severity.INFO
    assert "Q8_0" in finding.evidence.snippet


def test_adapter_with_local_base_path_is_reported(tmp_path: Path) -> None:
    (tmp_path / "adapter_config.json").write_text('{"base_model_name_or_path": "/data/base"}')
    result = lineage(tmp_path)
    assert [f.rule_id for f in result.findings] == ["PCL-PRV-002"]
    assert any("local path ('/data/base')" in note for note in result.data["notes"])


def test_mergekit_config_names_the_merged_models(tmp_path: Path) -> None:
    (tmp_path / "mergekit_config.yml").write_text(
        "merge_method: ties\nbase_model: org/base\nmodels:\n"
        "  - model: org/math\n    parameters: {weight: 0.5}\n  - model: org/code\n"
        "dtype: bfloat16\n"
    )
    card(tmp_path, "base_model:\n- org/math\n- org/code\n")
    result = lineage(tmp_path)
    assert [b.name for b in result.value.bases] == ["org/math", "org/code", "org/base"]
    assert result.value.relation == "merge"
    merged = [link for link in result.value.links if link.source == "mergekit"]
    assert [(link.name, link.line) for link in merged] == [
        ("org/base", 2),
        ("org/math", 4),
        ("org/code", 6),
    ]
    assert not result.findings


def test_card_relation_contradicted_by_adapter_files(tmp_path: Path) -> None:
    (tmp_path / "adapter_config.json").write_text('{"base_model_name_or_path": "org/base"}')
    card(tmp_path, "base_model: org/base\nbase_model_relation: finetune\n")
    result = lineage(tmp_path)
    [finding] = result.findings
    assert finding.rule_id == "PCL-PRV-001"
    assert finding.severity is Severity.LOW
    assert "base_model_relation finetune" in finding.evidence.snippet
    assert result.value.relation == "finetune"  # the card's statement, with the conflict noted


def test_no_lineage_information(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing here")
    result = lineage(tmp_path)
    assert result.value.bases == ()
    assert result.value.relation is None
    assert result.data["bases"] == []
    assert not result.findings
