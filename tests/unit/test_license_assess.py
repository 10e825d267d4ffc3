"""The licence assessment: identifiers, reconciliation, derivative duties, obligations."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from license_samples import card, folder, write_gguf, write_safetensors
from pellucid.data import load_json
from pellucid.licensing.assess import LicenseAssessment, assess, consistent
from pellucid.licensing.derivatives import BASE_TABLE, _table_license, base_licenses
from pellucid.licensing.knowledge import by_id, lookup
from pellucid.licensing.sources import BaseModelRef
from pellucid.modelfiles import ModelFiles


def _model(root: Path, files: dict[str, str | bytes], weights: bool = True) -> LicenseAssessment:
    folder(root, files)
    if weights:
        write_safetensors(root / "model.safetensors")
    return assess(ModelFiles.scan_folder(root))


def rule_ids(assessment: LicenseAssessment) -> list[str]:
    return sorted(f.rule_id for f in assessment.findings)


def test_flux_declared_through_license_name(tmp_path: Path) -> None:
    text = card("license: other\nlicense_name: flux-1-dev-non-commercial-license")
    result = _model(tmp_path / "m", {"README.md": text})
    assert result.primary == "flux-1-dev-non-commercial"
    assert [(f.id, f.source, f.line, f.span) for f in result.licenses] == [
        ("flux-1-dev-non-commercial", "card:license_name", 3, None)
    ]
    assert rule_ids(result) == []


def test_other_without_name_or_link(tmp_path: Path) -> None:
    result = _model(tmp_path / "m", {"README.md": card("license: other")})
    assert result.primary is None
    (finding,) = result.findings
    assert finding.rule_id == "PCL-LIC-014"
    assert finding.evidence.line == 2
    assert finding.evidence.snippet == "license: other"


def test_unknown_identifier_is_not_guessed(tmp_path: Path) -> None:
    result = _model(tmp_path / "m", {"README.md": card("license: superfree-9")})
    assert result.primary is None
    assert result.licenses == ()
    (finding,) = result.findings
    assert finding.rule_id == "PCL-LIC-015"
    assert "superfree-9" in finding.evidence.snippet


def test_gguf_general_license_only(tmp_path: Path) -> None:
    root = tmp_path / "m"
    root.mkdir()
    write_gguf(root / "tiny.gguf", {"general.license": "apache-2.0"})
    result = assess(ModelFiles.scan_folder(root))
    assert result.primary == "apache-2.0"
    (found,) = result.licenses
    assert (found.source, found.scope, found.spdx_id) == (
        "gguf:general.license",
        "weights",
        "Apache-2.0",
    )
    assert result.findings == ()


def test_safetensors_metadata_license(tmp_path: Path) -> None:
    root = tmp_path / "m"
    root.mkdir()
    write_safetensors(root / "model.safetensors", {"format": "pt", "license": "cc-by-nc-4.0"})
    result = assess(ModelFiles.scan_folder(root))
    assert result.primary == "cc-by-nc-4.0"
    assert [f.source for f in result.licenses] == ["safetensors:metadata"]


def test_code_header_covers_code_only(tmp_path: Path) -> None:
    files = {
        "README.md": card("license: llama3.1", "# Llama-3.1-Tuned\n\nBuilt with Llama.\n"),
        "modeling.py": "# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception\nx = 1\n",
    }
    result = _model(tmp_path / "m", files)
    assert result.scopes["code"] == ("apache-2.0",)
    assert result.scopes["weights"] == ("llama-3.1-community",)
    assert result.primary == "llama-3.1-community"
    code = next(f for f in result.licenses if f.source == "code:header")
    assert (code.file.endswith("modeling.py"), code.line) == (True, 1)
    assert rule_ids(result) == ["PCL-LIC-013"]  # allowed, but worth knowing


def test_metadata_statements_disagree(tmp_path: Path) -> None:
    root = tmp_path / "m"
    folder(root, {"README.md": card("license: mit")})
    write_gguf(root / "m.gguf", {"general.license": "llama3.1"})
    result = assess(ModelFiles.scan_folder(root))
    assert result.primary == "mit"  # the card outranks the GGUF label
    (finding,) = [f for f in result.findings if f.rule_id == "PCL-LIC-011"]
    assert "mit" in finding.detail
    assert "llama-3.1-community" in finding.detail


def test_family_id_is_consistent_with_its_versions() -> None:
    family, dated = lookup("gemma"), by_id("gemma-terms-2024-04-01")
    llama3, llama31 = lookup("llama3"), lookup("llama3.1")
    qwen, research = lookup("qwen"), lookup("qwen-research")
    assert family is not None
    assert dated is not None
    assert llama3 is not None
    assert llama31 is not None
    assert qwen is not None
    assert research is not None
    assert consistent(family, dated)
    assert not consistent(llama3, llama31)
    assert not consistent(qwen, research)


def test_no_licence_at_all(tmp_path: Path) -> None:
    result = _model(tmp_path / "m", {"README.md": "# Model\n"})
    assert rule_ids(result) == ["PCL-LIC-019"]


def test_broken_yaml_still_assessed(tmp_path: Path) -> None:
    text = "---\nlicense: apache-2.0\ntags: [unclosed\n---\n# M\n"
    result = _model(tmp_path / "m", {"README.md": text})
    assert result.primary == "apache-2.0"
    (finding,) = result.findings
    assert finding.rule_id == "PCL-LIC-017"
    assert "not valid YAML" in finding.detail


def test_llama_31_derivative_must_be_named_llama(tmp_path: Path) -> None:
    text = card(
        "license: llama3.1\nbase_model: meta-llama/Llama-3.1-8B",
        "# SuperChat-8B\n\nOur chat model. Built with Llama.\n",
    )
    result = _model(tmp_path / "m", {"README.md": text})
    (finding,) = result.findings
    assert finding.rule_id == "PCL-LIC-020"
    assert (finding.evidence.line, finding.evidence.snippet) == (5, "SuperChat-8B")


def test_llama_3_derivative_must_be_named_llama_3(tmp_path: Path) -> None:
    text = card(
        "license: llama3\nbase_model: meta-llama/Meta-Llama-3-8B\nmodel_name: Llama-Chat-8B",
        "# Llama-Chat\n\nBuilt with Meta Llama 3.\n",
    )
    result = _model(tmp_path / "m", {"README.md": text})
    assert [(f.rule_id, f.evidence.snippet) for f in result.findings] == [
        ("PCL-LIC-020", "Llama-Chat-8B")
    ]
    fine = card(
        "license: llama3\nbase_model: meta-llama/Meta-Llama-3-8B",
        "# Llama-3-Chat\n\nBuilt with Meta Llama 3.\n",
    )
    assert _model(tmp_path / "ok", {"README.md": fine}).findings == ()


def test_built_with_llama_notice_missing(tmp_path: Path) -> None:
    text = card("license: llama3.2\nbase_model: meta-llama/Llama-3.2-1B", "# Llama-Tiny\n")
    result = _model(tmp_path / "m", {"README.md": text})
    (finding,) = result.findings
    assert finding.rule_id == "PCL-LIC-021"
    assert "Built with Llama" in finding.evidence.snippet
    # a NOTICE file with the phrase satisfies the duty; a card without weights redistributes nothing
    noticed = _model(tmp_path / "n", {"README.md": text, "NOTICE": "Built with Llama\n"})
    assert "PCL-LIC-021" not in rule_ids(noticed)
    assert "PCL-LIC-021" not in rule_ids(_model(tmp_path / "w", {"README.md": text}, False))


def test_openrail_derivative_under_mit_drops_restrictions(tmp_path: Path) -> None:
    text = card("license: mit\nbase_model: runwayml/stable-diffusion-v1-5")
    result = _model(tmp_path / "m", {"README.md": text})
    (finding,) = result.findings
    assert finding.rule_id == "PCL-LIC-022"
    assert finding.evidence.line == 3
    assert "creativeml-openrail-m" in finding.detail
    assert "mit" in finding.detail


def test_gemma_4_base_is_apache_and_drops_nothing(tmp_path: Path) -> None:
    text = card("license: mit\nbase_model: google/gemma-4-e4b")
    assert _model(tmp_path / "m", {"README.md": text}).findings == ()
    gemma2 = card("license: mit\nbase_model: google/gemma-2-2b")
    assert rule_ids(_model(tmp_path / "g", {"README.md": gemma2})) == ["PCL-LIC-022"]


def test_non_commercial_base_with_commercial_claim(tmp_path: Path) -> None:
    text = card(
        "license: other\nlicense_name: flux-1-dev-non-commercial-license\n"
        "base_model: black-forest-labs/FLUX.1-dev",
        "# Flux tune\n\nFree for commercial use!\n",
    )
    result = _model(tmp_path / "m", {"README.md": text})
    (finding,) = result.findings
    assert finding.rule_id == "PCL-LIC-023"
    assert (finding.evidence.line, finding.evidence.snippet) == (8, "Free for commercial use!")
    honest = text.replace("Free for commercial use!", "Not for non-commercial use is allowed.")
    assert _model(tmp_path / "h", {"README.md": honest}).findings == ()


def test_llama_31_obligations(tmp_path: Path) -> None:
    text = card("license: llama3.1", "# Llama-3.1-Mini\n")
    result = _model(tmp_path / "m", {"README.md": text}, weights=False)
    must = [(o.text, o.license) for o in result.obligations_must]
    assert any("700 million" in t and lic == "llama-3.1-community" for t, lic in must)
    assert any("Built with Llama" in t for t, _ in must)
    assert {o.license for o in result.obligations_must} >= {"llama-3.1-community"}
    assert len({t.casefold() for t, _ in must}) == len(must)  # deduplicated


def test_inherited_obligations_come_from_the_base(tmp_path: Path) -> None:
    text = card("license: llama3.1\nbase_model: meta-llama/Llama-3.2-1B", "# Llama-X\n")
    result = _model(tmp_path / "m", {"README.md": text}, weights=False)
    sources = {o.license for o in result.obligations_must + result.obligations_must_not}
    assert "llama-3.2-community" in sources or "llama-3.2-aup" in sources


def test_every_base_table_row_resolves() -> None:
    rows = load_json(BASE_TABLE)["bases"]
    assert load_json(BASE_TABLE)["version"]
    unresolved = [r["license"] for r in rows if lookup(r["license"]) is None]
    assert unresolved == []


@pytest.mark.parametrize(
    ("repo", "expected"),
    [
        ("meta-llama/Llama-3.1-8B-Instruct", "llama-3.1-community"),
        ("https://huggingface.co/meta-llama/Llama-3.1-8B", "llama-3.1-community"),
        ("meta-llama/Meta-Llama-3-8B", "llama-3-community"),
        ("google/gemma-2-9b-it", "gemma-terms"),
        ("google/gemma-4-31b", "apache-2.0"),
        ("Qwen/Qwen2.5-3B-Instruct", "qwen-research"),
        ("Qwen/Qwen2.5-32B", None),
        ("bigscience/bloomz-7b1", "bigscience-bloom-rail-1.0"),
        ("tiiuae/falcon-180B-chat", "falcon-180b-tii-1.0"),
        ("someone/unknown-model", None),
    ],
)
def test_base_table_prefixes(repo: str, expected: str | None) -> None:
    (base,) = base_licenses([BaseModelRef(repo, "README.md", 1)])
    assert (base.entry.id if base.entry else None) == expected
    assert _table_license("qwen/qwen2.5-3b") == "qwen-research"


def test_readme_section_names_the_licence(tmp_path: Path) -> None:
    body = "# M\n\nIntro.\n\n## License\n\nReleased under the Apache 2.0 license.\n"
    result = _model(tmp_path / "m", {"README.md": card("tags: [x]", body)})
    assert result.primary == "apache-2.0"
    (found,) = result.licenses
    assert (found.source, found.line, found.span) == ("readme:section", 10, (20, 38))
    assert result.findings == ()


def test_readme_prose_yields_to_metadata(tmp_path: Path) -> None:
    body = "# Llama-3.1-M\n\nBuilt with Llama.\n\n## License\n\nThe demo code is under MIT.\n"
    result = _model(tmp_path / "m", {"README.md": card("license: llama3.1", body)})
    assert result.primary == "llama-3.1-community"
    assert result.scopes["weights"] == ("llama-3.1-community",)
    assert result.findings == ()  # prose is weak evidence: dropped, not a contradiction


@settings(
    max_examples=60, deadline=3000, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(front=st.text(max_size=200), body=st.text(max_size=300), license_text=st.text(max_size=400))
def test_arbitrary_text_never_raises(
    tmp_path: Path, front: str, body: str, license_text: str
) -> None:
    files: dict[str, str | bytes] = {
        "README.md": f"---\nlicense: {front}\n---\n## License\n{body}",
        "LICENSE": license_text,
    }
    result = _model(tmp_path / "fuzz", files, weights=False)
    assert all(f.rule_id.startswith("PCL-LIC-") for f in result.findings)
