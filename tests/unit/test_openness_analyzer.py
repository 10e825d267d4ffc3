"""The openness analysis as the pipeline runs it: data, findings and the MOT record."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import jsonschema
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from openness_samples import (
    LLAMA_CARD,
    card_only_folder,
    license_result,
    pythia_folder,
    write,
)

from pellucid.modelanalysis import load_analyzer
from pellucid.openness.analyzer import OpennessAnalyzer, OpennessAssessment
from pellucid.openness.mot import score_mot_record

SCHEMA = json.loads((Path(__file__).parent.parent / "data/mot/mof_schema.json").read_text())


def test_analyzer_is_the_one_in_the_table() -> None:
    analyzer = load_analyzer("openness")
    assert isinstance(analyzer, OpennessAnalyzer)
    assert [rule.id for rule in analyzer.rules] == ["PCL-OPN-001", "PCL-OPN-002"]


def test_pythia_folder_section(tmp_path: Path) -> None:
    model = pythia_folder(tmp_path / "pythia-tiny")
    result = OpennessAnalyzer().analyze(model, license_result("Apache-2.0"))
    data = result.data
    assert json.loads(json.dumps(data)) == data  # JSON-ready
    assert data["mof"]["class"] == "I"
    assert data["mof"]["completeness"] == {"III": 100, "II": 100, "I": 100}
    assert data["osaid"]["verdict"] == "undetermined"
    assert "not legal advice" in data["disclaimer"]
    assert [c["id"] for c in data["components"]][:3] == [9, 10, 13]
    assert result.findings == ()  # claims open source, and the licence is OSI-approved
    assert isinstance(result.value, OpennessAssessment)
    record = yaml.safe_load(data["mot_record"])
    jsonschema.validate(record, SCHEMA)
    assert record["release"]["name"] == "pythia-tiny"
    paths = {c["name"]: c.get("component_path") for c in record["release"]["components"]}
    assert paths["Training code"] == "train.py"  # relative to the folder
    rescored = score_mot_record(data["mot_record"])
    assert rescored.mof_class == data["mof"]["class"]
    assert rescored.completeness == data["mof"]["completeness"]


def test_open_source_claim_under_llama_licence(tmp_path: Path) -> None:
    model = card_only_folder(tmp_path, LLAMA_CARD)
    result = OpennessAnalyzer().analyze(model, license_result("llama3.1"))
    by_rule = {f.rule_id: f for f in result.findings}
    assert set(by_rule) == {"PCL-OPN-001", "PCL-OPN-002"}
    claim = by_rule["PCL-OPN-002"]
    assert claim.evidence.line == 8
    assert claim.evidence.snippet == "An open source model from Meta."
    assert "'llama3.1'" in claim.detail
    assert claim.severity.label.upper() == "MEDIUM"
    assert result.data["mof"]["class"] is None
    assert result.data["osaid"]["verdict"] == "not_conformant"


def test_without_licence_analysis_licences_are_unknown(tmp_path: Path) -> None:
    model = card_only_folder(tmp_path, LLAMA_CARD)
    result = OpennessAnalyzer().analyze(model, {})
    assert all(c["license"] is None for c in result.data["components"])
    claim = next(f for f in result.findings if f.rule_id == "PCL-OPN-002")
    assert claim.severity.label.upper() == "LOW"
    assert "Class III: Model card is included without a licence" in result.data["mof"]["unmet"]


def test_referenced_components_are_explained(tmp_path: Path) -> None:
    from openness_samples import PYTHIA_CARD

    model = card_only_folder(tmp_path, PYTHIA_CARD)
    result = OpennessAnalyzer().analyze(model, license_result("Apache-2.0"))
    assert (
        "Class I: Datasets is only referenced from the folder, under terms the folder does "
        "not state" in result.data["mof"]["unmet"]
    )


_TOKENS = [*"-#|`:\n abcdefx[]()0123456789/.", "arxiv.org/abs/", "---\n", "model-index:"]
_card_text = st.lists(st.sampled_from(_TOKENS), max_size=200).map("".join)


@given(card=_card_text, name=st.sampled_from(["train.py", "data/x.jsonl", "a.pdf", "config.json"]))
@settings(max_examples=60, deadline=2000)
def test_arbitrary_cards_and_files_never_raise(card: str, name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        model = write(root, {"README.md": card, name: card})
        result = OpennessAnalyzer().analyze(model, license_result("MIT"))
        assert json.loads(json.dumps(result.data)) == result.data
        score_mot_record(result.data["mot_record"])
