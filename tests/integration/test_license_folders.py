"""Model folders end to end through ``LicenseAnalyzer``: real licence texts (ScanCode's data),
the section data shape, and the findings a lying or broken folder earns."""

from __future__ import annotations

import json
import os
from pathlib import Path

from license_samples import card, folder, scancode_text, write_safetensors
from pellucid.licensing.analyzer import LicenseAnalyzer
from pellucid.modelanalysis import SectionResult
from pellucid.modelfiles import ModelFiles

DATA_KEYS = {"licenses", "primary", "scopes", "obligations", "terms", "kb_version"}
LICENSE_KEYS = {"id", "spdx_id", "source", "score", "span"}


def analyze(root: Path, files: dict[str, str | bytes]) -> SectionResult:
    folder(root, files)
    write_safetensors(root / "model.safetensors")
    result = LicenseAnalyzer().analyze(ModelFiles.scan_folder(root), {})
    json.dumps(result.data)  # JSON-ready
    assert set(result.data) == DATA_KEYS
    assert all(set(found) >= LICENSE_KEYS for found in result.data["licenses"])
    return result


def rule_ids(result: SectionResult) -> list[str]:
    return sorted(f.rule_id for f in result.findings)


def test_llama_31_card_and_text_agree(tmp_path: Path) -> None:
    files = {
        "README.md": card("license: llama3.1", "# Llama-3.1-Tiny\n\nA model.\n"),
        "LICENSE": scancode_text("llama-3.1-license-2024"),
    }
    result = analyze(tmp_path / "m", files)
    data = result.data
    assert data["primary"] == "llama-3.1-community"
    text = next(f for f in data["licenses"] if f["source"] == "file:LICENSE")
    assert text["id"] == "llama-3.1-community"
    assert text["span"][0] < text["span"][1]
    assert text["score"] > 0.5
    assert data["scopes"]["weights"] == ["llama-3.1-community"]
    assert data["terms"]["user_threshold"] == 700_000_000
    assert rule_ids(result) == []
    assert result.value.primary == "llama-3.1-community"


def test_card_says_mit_but_text_is_llama_31(tmp_path: Path) -> None:
    files = {
        "README.md": card("license: mit", "# Llama-3.1-Tiny\n\nA model.\n"),
        "LICENSE": scancode_text("llama-3.1-license-2024"),
    }
    result = analyze(tmp_path / "m", files)
    (finding,) = [f for f in result.findings if f.rule_id == "PCL-LIC-010"]
    assert "mit" in finding.detail
    assert "llama-3.1-community" in finding.detail
    assert (finding.evidence.line, finding.evidence.snippet) == (2, "card:license: mit")
    assert finding.evidence.file.endswith("README.md")
    assert result.data["primary"] == "llama-3.1-community"  # the text governs
    assert result.data["scopes"]["weights"] == ["llama-3.1-community"]
    assert {f["id"] for f in result.data["licenses"]} == {"mit", "llama-3.1-community"}


def test_apache_folder_is_clean(tmp_path: Path) -> None:
    files = {
        "README.md": card("license: apache-2.0"),
        "LICENSE": scancode_text("apache-2.0"),
    }
    result = analyze(tmp_path / "m", files)
    assert result.data["primary"] == "apache-2.0"
    assert {f["spdx_id"] for f in result.data["licenses"]} == {"Apache-2.0"}
    assert result.findings == ()


def test_weights_and_code_under_different_licences(tmp_path: Path) -> None:
    files = {
        "README.md": card("license: llama3.1", "# Llama-3.1-Coder\n\nBuilt with Llama.\n"),
        "LICENSE-MODEL": scancode_text("llama-3.1-license-2024"),
        "LICENSE-CODE": scancode_text("mit"),
    }
    result = analyze(tmp_path / "m", files)
    assert result.data["scopes"]["weights"] == ["llama-3.1-community"]
    assert result.data["scopes"]["code"] == ["mit"]
    assert result.data["primary"] == "llama-3.1-community"
    (finding,) = result.findings
    assert finding.rule_id == "PCL-LIC-013"
    assert finding.evidence.file.endswith("LICENSE-CODE")


def test_modified_llama_text_is_reported(tmp_path: Path) -> None:
    text = scancode_text("llama-3.1-license-2024")
    marker = "2. Additional Commercial Terms."
    extra = (
        "v. You shall not use the Llama Materials for any purpose in the Kingdom of Atlantis, "
        "and you shall pay a fee of ten gold coins per download to the Atlantis Foundation.\n\n"
    )
    modified = text.replace(marker, extra + marker) if marker in text else text + extra
    files = {"README.md": card("license: llama3.1", "# Llama-X\n\nBuilt with Llama.\n"),
             "LICENSE": modified}  # fmt: skip
    result = analyze(tmp_path / "m", files)
    found = next(f for f in result.data["licenses"] if f["source"] == "file:LICENSE")
    assert found["id"] == "llama-3.1-community"
    assert found["modified"] is True
    assert "PCL-LIC-012" in rule_ids(result)


def test_unrecognised_text_is_not_guessed(tmp_path: Path) -> None:
    files = {"LICENSE": "You may look at these weights on Tuesdays only.\n"}
    result = analyze(tmp_path / "m", files)
    assert result.data["primary"] is None
    assert result.data["licenses"] == []
    assert rule_ids(result) == ["PCL-LIC-016"]


def test_enormous_random_license_file(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "README.md": card("license: apache-2.0"),
        "LICENSE": os.urandom(5 * 1024 * 1024),
    }
    result = analyze(tmp_path / "m", files)
    assert result.data["primary"] == "apache-2.0"
    (finding,) = result.findings
    assert finding.rule_id == "PCL-LIC-018"
    assert finding.evidence.file.endswith("LICENSE")


def test_broken_yaml_with_license_text(tmp_path: Path) -> None:
    files = {
        "README.md": "---\nlicense: apache-2.0\nbase_model: [oops\n---\n# M\n",
        "LICENSE": scancode_text("apache-2.0"),
    }
    result = analyze(tmp_path / "m", files)
    assert result.data["primary"] == "apache-2.0"
    assert rule_ids(result) == ["PCL-LIC-017"]


def test_sd15_finetune_under_mit(tmp_path: Path) -> None:
    files = {
        "README.md": card("license: mit\nbase_model: runwayml/stable-diffusion-v1-5"),
        "LICENSE": scancode_text("mit"),
    }
    result = analyze(tmp_path / "m", files)
    assert result.data["primary"] == "mit"
    assert rule_ids(result) == ["PCL-LIC-022"]
    owners = {o["license"] for o in result.data["obligations"]["must_not"]}
    owners |= {o["license"] for o in result.data["obligations"]["must"]}
    assert "creativeml-openrail-m" in owners  # the base's duties still apply


def test_llama_31_obligations_in_data(tmp_path: Path) -> None:
    files = {
        "README.md": card(
            "license: llama3.1\nbase_model: meta-llama/Llama-3.1-8B", "# SuperChat-8B\n"
        ),
        "LICENSE": scancode_text("llama-3.1-license-2024"),
    }
    result = analyze(tmp_path / "m", files)
    must = result.data["obligations"]["must"]
    assert any("700 million" in o["text"] for o in must)
    assert any("Built with Llama" in o["text"] for o in must)
    assert all(set(o) == {"text", "license"} for o in must)
    assert rule_ids(result) == ["PCL-LIC-020", "PCL-LIC-021"]


def test_version_sibling_that_lost_is_not_listed(tmp_path: Path) -> None:
    files = {
        "README.md": card("license: llama3.2", "# Llama-3.2-Tiny\n\nBuilt with Llama.\n"),
        "LICENSE": scancode_text("llama-3.2-license-2024"),
    }
    result = analyze(tmp_path / "m", files)
    assert {f["id"] for f in result.data["licenses"]} == {"llama-3.2-community"}
    assert result.findings == ()
