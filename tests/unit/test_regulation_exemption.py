"""Art. 53(2) open-source exemption and the Art. 51(2) compute presumption, on generated
model folders with stand-in licence and resources results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from regulation_samples import (
    FOSS,
    GPT_NEOX_CONFIG,
    LLAMA_CONFIG,
    PYTHIA_CARD,
    StandInResources,
    earlier,
    write_folder,
)

import pellucid.regulation.exemption as exemption
from pellucid.formats.modelcard import parse_card
from pellucid.modelanalysis import SectionResult
from pellucid.regulation.analyzer import RegulationAnalyzer
from pellucid.regulation.compute import stated_flop, training_tokens
from pellucid.regulation.facts import parameter_count


@pytest.fixture(autouse=True)
def _fake_licence_knowledge(monkeypatch: pytest.MonkeyPatch) -> None:
    """The licence knowledge base is written in parallel: answer from a fixed table."""
    monkeypatch.setattr(exemption, "knowledge_answer", FOSS.get)


def run(folder: Any, licence: str | None, params: int | None) -> tuple[dict[str, Any], Any]:
    result = RegulationAnalyzer().analyze(folder, earlier(licence, params))
    return result.data, result


def reason(data: dict[str, Any], condition: str) -> dict[str, Any]:
    return next(r for r in data["art53_2"]["reasons"] if r["condition"] == condition)


def test_pythia_like_apache_model_is_exempt_below_threshold(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "pythia", PYTHIA_CARD, GPT_NEOX_CONFIG)
    data, result = run(folder, "apache-2.0", 7_000_000_000)
    art = data["art53_2"]
    assert art["verdict"] == "applies"
    assert art["tokens"] == 300_000_000_000
    assert art["parameters"] == 7_000_000_000
    assert art["compute_flop"] == pytest.approx(6 * 7e9 * 3e11)
    assert art["compute_flop"] < 1e25
    assert art["compute_method"] == "6 x parameters x tokens"
    assert "300B tokens in total" in art["compute_evidence"]["text"]
    assert (
        art["compute_evidence"]["line"]
        == PYTHIA_CARD.splitlines().index(
            next(line for line in PYTHIA_CARD.splitlines() if "300B tokens" in line)
        )
        + 1
    )
    assert "not legal advice" in art["disclaimer"]
    assert "not legal advice" in art["assessment"]
    assert {s["reference"] for s in art["still_applies"]} == {"Art. 53(1)(c)", "Art. 53(1)(d)"}
    assert result.value.exemption.verdict == "applies"
    assert not {f.rule_id for f in result.findings} & {"PCL-EUA-002", "PCL-EUA-005"}


def test_llama_licence_is_not_foss_so_exemption_does_not_apply(tmp_path: Path) -> None:
    folder = write_folder(
        tmp_path / "llama", PYTHIA_CARD.replace("apache-2.0", "llama-3.1-community"), LLAMA_CONFIG
    )
    data, result = run(folder, "llama-3.1-community", 8_030_000_000)
    assert data["art53_2"]["verdict"] == "does not apply"
    licence = reason(data, "free and open-source licence")
    assert licence["status"] == "not met"
    assert "llama-3.1-community" in licence["text"]
    (finding,) = [f for f in result.findings if f.rule_id == "PCL-EUA-005"]
    assert "llama-3.1-community" in finding.detail
    assert "Art. 53(2)" in finding.detail
    assert finding.evidence.snippet == "free and open-source licence"


def test_openrail_use_restrictions_leave_exemption_undetermined(tmp_path: Path) -> None:
    # RAIL licences grant use, modification and distribution but bind a use-restriction
    # policy; whether such proportionate restrictions keep a licence "free and open-source"
    # under Art. 53(2) is unsettled (reference 3.6), so the licence knowledge says
    # "doubtful" and the assessment must not decide either way: undetermined.
    folder = write_folder(tmp_path / "bloom", PYTHIA_CARD, GPT_NEOX_CONFIG)
    data, result = run(folder, "bigscience-openrail-m", 7_000_000_000)
    assert data["art53_2"]["verdict"] == "undetermined"
    assert reason(data, "free and open-source licence")["status"] == "undetermined"
    assert "PCL-EUA-005" not in {f.rule_id for f in result.findings}


def test_non_commercial_licence_does_not_apply(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "nc", PYTHIA_CARD, GPT_NEOX_CONFIG)
    data, _ = run(folder, "cc-by-nc-4.0", 7_000_000_000)
    assert data["art53_2"]["verdict"] == "does not apply"
    assert "cc-by-nc-4.0" in reason(data, "free and open-source licence")["text"]


def test_fifteen_trillion_tokens_at_405b_presumes_systemic_risk(tmp_path: Path) -> None:
    card = PYTHIA_CARD.replace("300B tokens in total", "15 trillion tokens in total")
    folder = write_folder(tmp_path / "big", card, LLAMA_CONFIG)
    data, result = run(folder, "apache-2.0", 405_000_000_000)
    art = data["art53_2"]
    assert art["compute_flop"] == pytest.approx(6 * 4.05e11 * 15e12)
    assert art["systemic_risk_presumed"] is True
    assert art["verdict"] == "does not apply"
    assert reason(data, "no systemic risk")["status"] == "not met"
    (finding,) = [f for f in result.findings if f.rule_id == "PCL-EUA-002"]
    assert (
        finding.evidence.line
        == card.splitlines().index(
            next(line for line in card.splitlines() if "15 trillion" in line)
        )
        + 1
    )
    assert "15 trillion tokens" in finding.evidence.snippet
    # Section 2 of Annex XI now matters and is listed when missing.
    (docs,) = [f for f in result.findings if f.rule_id == "PCL-EUA-003"]
    assert "Annex XI, Section 2, point 3" in docs.evidence.snippet


def test_unknown_tokens_leave_compute_and_verdict_undetermined(tmp_path: Path) -> None:
    card = PYTHIA_CARD.replace("300B tokens in total", "many tokens in total")
    folder = write_folder(tmp_path / "m", card, GPT_NEOX_CONFIG)
    data, _ = run(folder, "apache-2.0", 7_000_000_000)
    assert data["art53_2"]["compute_flop"] is None
    assert data["art53_2"]["verdict"] == "undetermined"
    assert "training tokens" in reason(data, "no systemic risk")["text"]


def test_stated_compute_wins_over_the_estimate(tmp_path: Path) -> None:
    card = PYTHIA_CARD + "\nTraining compute: 3.8 × 10^25 FLOPs in total.\n"
    folder = write_folder(tmp_path / "m", card, GPT_NEOX_CONFIG)
    data, _ = run(folder, "apache-2.0", 7_000_000_000)
    assert data["art53_2"]["compute_flop"] == pytest.approx(3.8e25)
    assert data["art53_2"]["compute_method"] == "stated"


def test_missing_weights_make_publicity_undetermined(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "m", PYTHIA_CARD, GPT_NEOX_CONFIG, weights=False)
    data, _ = run(folder, "apache-2.0", 7_000_000_000)
    public = reason(data, "weights, architecture and usage information public")
    assert public["status"] == "undetermined"
    assert "weights" in public["text"]
    assert data["art53_2"]["verdict"] == "undetermined"


@pytest.mark.parametrize(
    ("line", "tokens"),
    [
        ("The model was trained on 15T tokens.", 15 * 10**12),
        ("Pretrained on 2 trillion tokens of text.", 2 * 10**12),
        ("Training data: 1.4e12 tokens", 14 * 10**11),
        ("We trained on 1.4 × 10^12 tokens.", 14 * 10**11),
        ("trained on 1,000,000,000,000 tokens", 10**12),
        ("| Training tokens | 2T |", 2 * 10**12),
        ("Trained on 300B tokens, with a context length of 4096 tokens.", 3 * 10**11),
    ],
)
def test_token_statements_are_read(line: str, tokens: int) -> None:
    found = training_tokens(parse_card(f"# M\n\n{line}\n"))
    assert found is not None
    assert found[0] == tokens
    assert found[1].line == 3


@pytest.mark.parametrize(
    "line",
    [
        "Context length of 4096 tokens.",
        "Batch size of 4M tokens per step.",
        "Evaluated on 500B tokens of held-out text.",
        "[More Information Needed] 15T tokens",
    ],
)
def test_non_training_token_counts_are_ignored(line: str) -> None:
    assert training_tokens(parse_card(f"# M\n\n{line}\n")) is None


def test_token_count_in_yaml_front_matter() -> None:
    card = parse_card("---\nlicense: mit\ntraining_tokens: 2.0e+12\n---\n# M\n")
    found = training_tokens(card)
    assert found is not None
    assert found[0] == 2 * 10**12
    assert found[1].line == 3
    assert "training_tokens" in found[1].text


def test_superscript_flop_statement() -> None:
    found = stated_flop(parse_card("# M\n\nTraining used 2 × 10²⁴ FLOPs.\n"))
    assert found is not None
    assert found[0] == pytest.approx(2e24)


@pytest.mark.parametrize(
    ("value", "data", "count"),
    [
        (StandInResources(7_000_000_000), None, 7_000_000_000),
        (123_456, None, 123_456),
        ({"total_parameters": 42}, None, 42),
        (None, {"parameters": {"total": 99}}, 99),
        (None, {"total": 77}, 77),
        (None, {"parameters": True}, None),
        (StandInResources(None), None, None),
    ],
)
def test_parameter_count_read_defensively(value: Any, data: Any, count: int | None) -> None:
    assert parameter_count({"resources": SectionResult(data, value=value)}) == count
    assert parameter_count({}) is None


def test_fake_table_agrees_with_the_licence_knowledge(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()
    if exemption.knowledge_answer("apache-2.0") is None:
        pytest.skip("licence knowledge base not available")
    assert {k: exemption.knowledge_answer(k) for k in FOSS} == FOSS


def test_trainer_state_pickle_is_not_the_weights(tmp_path: Path) -> None:
    folder = write_folder(
        tmp_path / "m",
        PYTHIA_CARD,
        GPT_NEOX_CONFIG,
        weights=False,
        extra={"training_args.bin": "x"},
    )
    data, _ = run(folder, "apache-2.0", 7_000_000_000)
    public = reason(data, "weights, architecture and usage information public")
    assert public["text"] == "Not shown in the folder: weights."
