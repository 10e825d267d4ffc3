"""Chat templates inside GGUF metadata (CVE-2024-34359): found, located by byte offset, never
rendered; plus the ggml type table checked against the gguf package."""

from __future__ import annotations

from pathlib import Path

import pytest

from canary import Canary
from chat_template_samples import BENIGN, hostile
from gguf_samples import build, kv_str, write_benign
from pellucid.audit import AuditOptions, run_audit
from pellucid.formats.gguf_types import GGML_TYPES
from pellucid.model import Artifact, CoverageStatus, FileKind, Severity
from pellucid.scanners.base import ScanContext, ScanResult
from pellucid.scanners.gguf import GgufScanner
from pellucid.source import ByteSource


def scan(data: bytes) -> ScanResult:
    artifact = Artifact("m.gguf", FileKind.GGUF, len(data))
    return GgufScanner().scan(artifact, ByteSource(data), ScanContext())


def test_ssti_in_chat_template_is_critical_at_the_value_offset(canary: Canary) -> None:
    payload = hostile(canary.shell)["cycler-globals"]
    data = build([kv_str("general.name", "x"), kv_str("tokenizer.chat_template", payload)], [])
    result = scan(data)
    assert {f.rule_id for f in result.findings} >= {"PCL-TPL-001"}
    finding = next(f for f in result.findings if f.rule_id == "PCL-TPL-001")
    assert finding.severity is Severity.CRITICAL
    assert finding.evidence.offset == data.index(payload.encode())
    assert finding.evidence.line == 1
    assert "cycler.__init__" in finding.evidence.snippet


def test_named_template_variants_are_analysed(tmp_path: Path, canary: Canary) -> None:
    templates = {"default": BENIGN["llama3-headers"],
                 "tool_use": "{{ 'ok' }}\n" + hostile(canary.shell)["attr-concat"]}  # fmt: skip
    path = write_benign(tmp_path / "m.gguf", templates)
    data = path.read_bytes()
    result = scan(data)
    tpl = [f for f in result.findings if f.rule_id == "PCL-TPL-001"]
    assert tpl
    assert {f.evidence.line for f in tpl} == {2}
    assert {f.evidence.offset for f in tpl} == {data.index(b"{{ 'ok' }}")}


def test_template_syntax_error_makes_gguf_incomplete() -> None:
    result = scan(build([kv_str("tokenizer.chat_template", "{% for m in messages %}")], []))
    assert [f.rule_id for f in result.findings] == ["PCL-TPL-005"]
    assert result.incomplete
    assert "chat template at m.gguf@" in result.incomplete[0]


def test_template_beyond_text_budget_is_incomplete() -> None:
    from pellucid.budget import Budget

    data = build([kv_str("tokenizer.chat_template", "x" * 5000)], [])
    artifact = Artifact("m.gguf", FileKind.GGUF, len(data))
    ctx = ScanContext(budget=Budget(max_text_bytes=1000))
    result = GgufScanner().scan(artifact, ByteSource(data), ctx)
    assert [f.rule_id for f in result.findings] == ["PCL-TPL-006"]
    assert result.incomplete


@pytest.mark.parametrize("name", sorted(BENIGN))
def test_benign_templates_in_gguf_are_clean(name: str) -> None:
    assert scan(build([kv_str("tokenizer.chat_template", BENIGN[name])], [])).findings == ()


def test_pipeline_blocks_hostile_gguf(tmp_path: Path, canary: Canary) -> None:
    write_benign(tmp_path / "evil.gguf", {"default": hostile(canary.shell)["lipsum-globals"]})
    write_benign(tmp_path / "good.gguf", {"default": BENIGN["gemma-turns"]})
    report = run_audit([tmp_path], AuditOptions(scanners=[GgufScanner()]))
    assert {c.status for c in report.coverage} == {CoverageStatus.EXAMINED}
    assert {f.evidence.file.rsplit("/", 1)[-1] for f in report.findings} == {"evil.gguf"}
    assert report.summary.verdict == "blocked"


def test_type_table_matches_gguf_package() -> None:
    from gguf.constants import GGML_QUANT_SIZES

    for qtype, (block, size) in GGML_QUANT_SIZES.items():
        ours = GGML_TYPES[int(qtype)]
        assert ours.name == qtype.name
        assert not ours.removed
        if qtype.name != "Q8_1":  # gguf-py keeps a legacy 40; ggml's block_q8_1 is 2 halves + 32
            assert (ours.block, ours.size) == (block, size), qtype.name
    assert {i for i, t in GGML_TYPES.items() if not t.removed} == {int(q) for q in GGML_QUANT_SIZES}
