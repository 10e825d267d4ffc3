"""The regulation analysis as a whole: its place in the analysis table, JSON-ready data,
well-formed rules, and hostile or random cards that never raise and stay fast."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from regulation_samples import FOSS, GPT_NEOX_CONFIG, PYTHIA_CARD, earlier, write_folder

import pellucid.regulation.exemption as exemption
from pellucid.formats.modelcard import parse_card
from pellucid.modelanalysis import BUILTIN_MODEL_ANALYZERS, SectionResult, load_analyzer
from pellucid.regulation.analyzer import RegulationAnalyzer, assess
from pellucid.regulation.facts import folder_from

FRAGMENTS = [
    "---\n",
    "license: mit\n",
    "datasets: [a, b]\n",
    "training_tokens: 1e12\n",
    "# Title\n",
    "## Training Data\n",
    "## Uses\n",
    "```\n",
    "[More Information Needed]\n",
    "trained on 15T tokens\n",
    "1.4 × 10^",
    "10²⁵ FLOPs",
    "1,000,",
    " tokens",
    "https://example.org ",
    "[x](y)",
    "&anchor [*anchor, *anchor]\n",
    "\x00",
    "\t",
    "###### \n",
]


@pytest.fixture(autouse=True)
def _fake_licence_knowledge(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exemption, "knowledge_answer", FOSS.get)


def test_table_names_this_analyzer() -> None:
    assert (
        BUILTIN_MODEL_ANALYZERS["regulation"] == "pellucid.regulation.analyzer:RegulationAnalyzer"
    )
    assert isinstance(load_analyzer("regulation"), RegulationAnalyzer)
    assert RegulationAnalyzer.id == "regulation"


def test_rules_are_well_formed() -> None:
    ids = [rule.id for rule in RegulationAnalyzer.rules]
    assert ids == sorted(set(ids))
    for rule in RegulationAnalyzer.rules:
        assert re.fullmatch(r"PCL-EUA-\d{3}", rule.id)
        assert len(rule.description) > 60
        assert rule.remediation
        assert rule.references


def test_data_is_json_ready_and_carries_disclaimer(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "m", PYTHIA_CARD, GPT_NEOX_CONFIG)
    result = RegulationAnalyzer().analyze(folder, earlier("apache-2.0", 7_000_000_000))
    data = result.data
    assert json.loads(json.dumps(data)) == data
    assert set(data) >= {
        "annex_xi",
        "annex_xii",
        "code_of_practice",
        "training_summary",
        "art53_2",
        "dates",
        "disclaimer",
    }
    assert data["disclaimer"] == "This is an automated assessment, not legal advice."
    assert set(data["art53_2"]) >= {"verdict", "reasons", "compute_flop", "tokens", "parameters"}
    emitted = {f.rule_id for f in result.findings}
    assert emitted <= {rule.id for rule in RegulationAnalyzer.rules}


def test_missing_earlier_analyses_are_tolerated(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "m", PYTHIA_CARD, GPT_NEOX_CONFIG)
    odd = {
        "license": SectionResult({"error": "boom"}, value=object()),
        "resources": SectionResult(["not", "a", "mapping"], value="7B"),
    }
    data = RegulationAnalyzer().analyze(folder, odd).data
    assert data["art53_2"]["parameters"] is None
    assert data["art53_2"]["verdict"] == "undetermined"


def test_hostile_config_and_huge_card_stay_fast(tmp_path: Path) -> None:
    line = "1," * 400 + " " * 150 + "1" * 400 + "\n"
    card = "# M\n## Training Data\n" + line * 700  # about 0.95 MB of number-like noise
    extra = {"tokenizer_config.json": "[" * 100_000}
    folder = write_folder(tmp_path / "m", card, None, weights=False, extra=extra)
    (tmp_path / "m" / "config.json").write_text('{"architectures": ' + "[" * 50_000)
    started = time.perf_counter()
    data = RegulationAnalyzer().analyze(folder, {}).data
    assert time.perf_counter() - started < 10
    assert data["art53_2"]["tokens"] is None


@settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=2000))
def test_random_card_text_never_raises(text: str) -> None:
    card = parse_card(text)
    result = assess(folder_from("m", card, ["README.md"], {}, {}), {})
    json.dumps(result.data)


@settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=60), st.sampled_from([None, *FOSS]))
def test_card_fragments_never_raise(parts: list[str], licence: str | None) -> None:
    card = parse_card("".join(parts))
    result = assess(folder_from("m", card, ["README.md"], {}, {}), earlier(licence, 10**9))
    assert result.data["art53_2"]["verdict"] in {"applies", "does not apply", "undetermined"}
    json.dumps(result.data)
