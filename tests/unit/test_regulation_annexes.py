"""Annex XI / XII checklists, the Model Documentation Form and the training-content summary:
exact references, statuses with evidence lines, partial for bare links."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from regulation_samples import FOSS, GPT_NEOX_CONFIG, PYTHIA_CARD, earlier, write_folder

import pellucid.regulation.exemption as exemption
from pellucid.formats.modelcard import parse_card
from pellucid.regulation.analyzer import RegulationAnalyzer
from pellucid.regulation.annexes import combine, knowledge
from pellucid.regulation.evidence import content_status
from pellucid.regulation.facts import folder_from


@pytest.fixture(autouse=True)
def _fake_licence_knowledge(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exemption, "knowledge_answer", FOSS.get)


def item(data: dict[str, Any], checklist: str, reference: str) -> dict[str, Any]:
    return next(i for i in data[checklist] if i["reference"] == reference)


def part(entry: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in entry["parts"] if p["part"] == name)


def test_annex_references_match_the_legal_text() -> None:
    data = knowledge()
    xi = [i["reference"] for i in data["annex_xi"]]
    section1 = [f"Annex XI, Section 1, point 1({c})" for c in "abcdef"]
    section1 += [f"Annex XI, Section 1, point 2({c})" for c in "abcde"]
    assert xi == section1 + [f"Annex XI, Section 2, point {n}" for n in (1, 2, 3)]
    xii = [i["reference"] for i in data["annex_xii"]]
    expected = [f"Annex XII, point 1({c})" for c in "abcdefgh"]
    assert xii == expected + [f"Annex XII, point 2({c})" for c in "abc"]
    for entry in data["annex_xi"]:
        assert entry["scope"] == ("systemic-risk" if "Section 2" in entry["reference"] else "all")
    checks = set(data["checks"])
    for name in ("annex_xi", "annex_xii", "code_of_practice"):
        for entry in data[name]:
            assert entry["parts"]
            assert all(check in checks for _, check in entry["parts"])
    for signals in data["checks"].values():
        for signal in signals:
            if "pattern" in signal:
                re.compile(signal["pattern"])


def test_dates_carry_exact_article_references() -> None:
    dates = {d["date"]: d["reference"] for d in knowledge()["dates"]}
    assert dates["2024-08-01"] == "Art. 113"
    assert dates["2025-08-02"] == "Art. 113(b)"
    assert dates["2027-08-02"] == "Art. 111(3)"
    assert "2026-08-02" in dates


def test_documented_card_items_found_with_evidence_lines(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "m", PYTHIA_CARD, GPT_NEOX_CONFIG)
    data = RegulationAnalyzer().analyze(folder, earlier("apache-2.0", 7_000_000_000)).data
    lines = PYTHIA_CARD.splitlines()
    tasks = item(data, "annex_xi", "Annex XI, Section 1, point 1(a)")
    assert tasks["status"] == "found"
    assert lines[tasks["parts"][0]["evidence"]["line"] - 1] == "## Uses"
    arch = item(data, "annex_xii", "Annex XII, point 1(f)")
    assert arch["status"] == "found"
    assert part(arch, "architecture")["evidence"]["text"] == "architectures: GPTNeoXForCausalLM"
    assert part(arch, "number of parameters")["evidence"]["text"].startswith("7000000000")
    window = part(item(data, "annex_xii", "Annex XII, point 2(b)"), "maximum size")
    assert window["evidence"]["text"] == "max_position_embeddings: 2048"
    assert item(data, "annex_xi", "Annex XI, Section 1, point 2(e)")["status"] == "missing"
    # The out-of-scope section is a restriction, not an acceptable use policy: partial.
    assert item(data, "annex_xii", "Annex XII, point 1(b)")["status"] == "partial"
    # No Annex XII item is wholly missing: no PCL-EUA-001.
    findings = RegulationAnalyzer().analyze(folder, earlier("apache-2.0", 7_000_000_000)).findings
    assert "PCL-EUA-001" not in {f.rule_id for f in findings}


def test_link_only_training_data_section_is_partial(tmp_path: Path) -> None:
    card = "# M\n\n## Training Data\nSee [the paper](https://arxiv.org/abs/2304.01373).\n"
    folder = write_folder(tmp_path / "m", card, GPT_NEOX_CONFIG)
    data = RegulationAnalyzer().analyze(folder, earlier(None, None)).data
    training = part(item(data, "annex_xii", "Annex XII, point 2(c)"), "training data")
    assert training["status"] == "partial"
    assert training["evidence"]["line"] == 3


def test_datasets_key_alone_is_partial() -> None:
    card = parse_card("---\ndatasets:\n- EleutherAI/pile\n- c4\n---\n# M\n")
    folder = folder_from("m", card, ["README.md"], {}, {})
    from pellucid.regulation.annexes import checklist

    entry = item({"x": checklist(folder, "annex_xi")}, "x", "Annex XI, Section 1, point 2(c)")
    training = part(entry, "training data")
    assert training["status"] == "partial"
    assert training["evidence"] == {
        "status": "partial",
        "file": "README.md",
        "line": 2,
        "text": "datasets: EleutherAI/pile, c4",
    }


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("", None),
        ("[More Information Needed]", None),
        ("See https://example.org/card", "partial"),
        ("Refer to [the report](https://example.org) for more information on this.", "partial"),
        ("Apache 2.0", "partial"),
        ("The model was trained on a mixture of public web text and books.", "found"),
    ],
)
def test_content_status(text: str, status: str | None) -> None:
    assert content_status(text) == status


def test_item_status_combines_parts() -> None:
    assert combine(["found", "found"]) == "found"
    assert combine(["found", "missing"]) == "partial"
    assert combine(["partial"]) == "partial"
    assert combine(["missing", "missing"]) == "missing"


def test_template_placeholders_are_not_evidence(tmp_path: Path) -> None:
    card = (
        "# M\n\n## Environmental Impact\n- **Hardware Type:** [More Information Needed]\n"
        "- **Carbon Emitted:** [More Information Needed]\n"
    )
    folder = write_folder(tmp_path / "m", card, weights=False)
    data = RegulationAnalyzer().analyze(folder, {}).data
    assert item(data, "annex_xi", "Annex XI, Section 1, point 2(e)")["status"] == "missing"


def test_empty_card_reports_items_missing_without_crashing(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "m", "", weights=False)
    result = RegulationAnalyzer().analyze(folder, {})
    data = result.data
    assert all(i["status"] == "missing" for i in data["annex_xii"])
    assert data["art53_2"]["verdict"] == "undetermined"
    (finding,) = [f for f in result.findings if f.rule_id == "PCL-EUA-001"]
    assert "Annex XII, point 1(h)" in finding.detail
    assert "PCL-EUA-004" in {f.rule_id for f in result.findings}


def test_folder_without_card_still_assessed(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "m", None, GPT_NEOX_CONFIG)
    data = RegulationAnalyzer().analyze(folder, earlier("mit", 10**9)).data
    assert data["card"] is None
    assert item(data, "annex_xii", "Annex XII, point 1(f)")["status"] == "found"
    assert item(data, "annex_xii", "Annex XII, point 1(a)")["status"] == "missing"


def test_broken_yaml_front_matter_still_reads_the_body(tmp_path: Path) -> None:
    card = (
        "---\nlicense: [apache\n---\n# M\n\n## Training Data\n"
        + PYTHIA_CARD.split("## Training Data\n")[1]
    )
    folder = write_folder(tmp_path / "m", card, GPT_NEOX_CONFIG)
    data = RegulationAnalyzer().analyze(folder, earlier("apache-2.0", 7_000_000_000)).data
    assert data["card"]["metadata_error"]
    assert data["art53_2"]["tokens"] == 300_000_000_000
    training = part(item(data, "annex_xi", "Annex XI, Section 1, point 2(c)"), "training data")
    assert training["status"] == "found"
    assert training["evidence"]["line"] == 6


def test_training_summary_file_and_headings(tmp_path: Path) -> None:
    summary = (
        "# Public summary of training content\n"
        "Provider: Example AI, contact@example.org\n"
        "Publicly available datasets: The Pile, Wikipedia\n"
        "Crawled data: our crawler honours robots.txt\n"
        "Synthetic data: none\n"
    )
    folder = write_folder(
        tmp_path / "m", PYTHIA_CARD, GPT_NEOX_CONFIG, extra={"TRAINING_DATA_SUMMARY.md": summary}
    )
    result = RegulationAnalyzer().analyze(folder, earlier("apache-2.0", 7_000_000_000))
    block = result.data["training_summary"]
    assert block["present"] is True
    assert block["source"]["file"].endswith("TRAINING_DATA_SUMMARY.md")
    status = {h["id"]: h["status"] for h in block["headings"]}
    assert {k for k, v in status.items() if v == "found"} == {"1.1", "2.1", "2.3", "2.5", "3.1"}
    crawl = next(h for h in block["headings"] if h["id"] == "2.3")
    assert crawl["evidence"]["line"] == 4
    assert "PCL-EUA-004" not in {f.rule_id for f in result.findings}


def test_training_summary_card_section_counts(tmp_path: Path) -> None:
    card = PYTHIA_CARD + "\n## Public Summary of Training Content\nNo user data was used.\n"
    folder = write_folder(tmp_path / "m", card, GPT_NEOX_CONFIG)
    block = RegulationAnalyzer().analyze(folder, {}).data["training_summary"]
    assert block["present"] is True
    user = next(h for h in block["headings"] if h["id"] == "2.4")
    assert user["status"] == "found"
    assert user["evidence"]["line"] == len(card.splitlines())


def test_without_summary_headings_are_at_most_partial(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "m", PYTHIA_CARD, GPT_NEOX_CONFIG)
    block = RegulationAnalyzer().analyze(folder, {}).data["training_summary"]
    assert block["present"] is False
    assert {h["status"] for h in block["headings"]} <= {"partial", "missing"}
    assert next(h for h in block["headings"] if h["id"] == "2.1")["status"] == "partial"
