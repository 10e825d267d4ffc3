"""CycloneDX 1.6 AI-BOM: schema-valid, deterministic, and faithful to the audit."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from bom_samples import model_folder

from canary import Canary
from pellucid.audit import AuditOptions, run_audit
from pellucid.bom import cyclonedx_bom
from pellucid.model import AuditReport

validation = pytest.importorskip("cyclonedx.validation.json")
schema = pytest.importorskip("cyclonedx.schema")


def audit(path: Path) -> AuditReport:
    return run_audit([path], AuditOptions(assess=True, hash_files=True))


def validate(text: str) -> None:
    errors = validation.JsonStrictValidator(schema.SchemaVersion.V1_6).validate_str(text)
    assert errors is None, errors


@pytest.fixture(scope="module")
def bom_text(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    canary = Canary.for_test("bom-cyclonedx")
    path = model_folder(tmp_path_factory.mktemp("cdx") / "tiny", canary)
    return path, cyclonedx_bom(audit(path))


def model(text: str) -> dict:
    return json.loads(text)["components"][0]


def test_bom_validates_against_strict_1_6(bom_text: tuple[Path, str]) -> None:
    validate(bom_text[1])
    assert json.loads(bom_text[1])["specVersion"] == "1.6"


def test_two_runs_are_byte_identical(bom_text: tuple[Path, str]) -> None:
    path, text = bom_text
    again = cyclonedx_bom(audit(path))
    assert again == text
    assert json.loads(text)["serialNumber"].startswith("urn:uuid:")


def test_serial_and_timestamp_can_be_given(bom_text: tuple[Path, str]) -> None:
    serial = "urn:uuid:12345678-1234-5678-9abc-123456789abc"
    text = cyclonedx_bom(audit(bom_text[0]), serial=serial, timestamp="2026-01-02T03:04:05Z")
    validate(text)
    data = json.loads(text)
    assert data["serialNumber"] == serial
    assert data["metadata"]["timestamp"] == "2026-01-02T03:04:05Z"


def test_every_file_with_its_sha256(bom_text: tuple[Path, str]) -> None:
    path, text = bom_text
    files = {c["name"]: c for c in model(text)["components"]}
    assert set(files) == {"LICENSE", "README.md", "config.json", "extra.pkl", "model.safetensors"}
    for name, component in files.items():
        digest = hashlib.sha256((path / name).read_bytes()).hexdigest()
        assert component["hashes"] == [{"alg": "SHA-256", "content": digest}]
        assert component["type"] == "file"


def test_apache_licence_as_spdx_id(bom_text: tuple[Path, str]) -> None:
    licences = [entry["license"] for entry in model(bom_text[1])["licenses"]]
    assert {"id": "Apache-2.0", "acknowledgement": "declared"} in licences
    assert all("name" not in entry for entry in licences)


def test_llama_licence_as_licenseref_name(tmp_path: Path, canary: Canary) -> None:
    path = model_folder(tmp_path / "llama", canary, license_key="llama-3.1-license-2024")
    text = cyclonedx_bom(audit(path))
    validate(text)
    licences = [entry["license"] for entry in model(text)["licenses"]]
    assert licences
    assert all("id" not in entry for entry in licences)
    assert {"name": "LicenseRef-llama-3.1-community", "acknowledgement": "declared"} in licences


def test_pedigree_lists_base_model(bom_text: tuple[Path, str]) -> None:
    (ancestor,) = model(bom_text[1])["pedigree"]["ancestors"]
    assert ancestor["name"] == "org/base-model"
    assert ancestor["purl"] == "pkg:huggingface/org/base-model"
    assert ancestor["type"] == "machine-learning-model"


def test_model_card_from_card_and_config(bom_text: tuple[Path, str]) -> None:
    card = model(bom_text[1])["modelCard"]
    params = card["modelParameters"]
    assert params["task"] == "text-generation"
    assert params["modelArchitecture"] == "LlamaForCausalLM"
    assert params["architectureFamily"] == "llama"
    assert params["datasets"] == [{"ref": "dataset:tatsu-lab/alpaca"}]
    metric = card["quantitativeAnalysis"]["performanceMetrics"][0]
    assert metric == {"type": "accuracy", "value": "0.61", "slice": "hellaswag"}
    considerations = card["considerations"]
    assert considerations["useCases"] == ["Research on model auditing."]
    assert considerations["technicalLimitations"] == ["Random weights; answers nothing."]
    assert considerations["ethicalConsiderations"][0]["name"].startswith("May repeat biases")


def test_pickle_finding_is_vulnerability_of_that_file(bom_text: tuple[Path, str]) -> None:
    data = json.loads(bom_text[1])
    hits = [v for v in data["vulnerabilities"] if v["affects"] == [{"ref": "file:extra.pkl"}]]
    assert hits
    vuln = hits[0]
    assert vuln["id"].startswith("PCL-PKL-")
    assert vuln["ratings"][0]["severity"] in {"critical", "high"}
    assert vuln["source"] == {"name": "pellucid"}
    assert "extra.pkl@" in vuln["description"]
    refs = {c["bom-ref"] for c in model(bom_text[1])["components"]}
    assert all(a["ref"] in refs for v in data["vulnerabilities"] for a in v["affects"])


def test_resource_properties(bom_text: tuple[Path, str]) -> None:
    props = {p["name"]: p["value"] for p in model(bom_text[1])["properties"]}
    assert props["pellucid:resources:parameters"] == "4"
    assert props["pellucid:audit:verdict"] == "blocked"
    assert props["pellucid:license:primary"] == "apache-2.0"


def test_readme_only_folder_gives_valid_bom(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "README.md").write_text("# nothing here\n")
    text = cyclonedx_bom(audit(tmp_path / "m"))
    validate(text)
    assert [c["name"] for c in model(text)["components"]] == ["README.md"]


def test_bom_refs_are_unique(bom_text: tuple[Path, str]) -> None:
    refs: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "bom-ref" in node:
                refs.append(node["bom-ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(bom_text[1]))
    assert len(refs) == len(set(refs))
