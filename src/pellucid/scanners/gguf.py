"""GGUF files: structural validation of the header and analysis of embedded chat templates.

Only the header and metadata are read (through the file's map); tensor data is never touched.
Structural defects are the memory-corruption techniques of threats.md row 81; chat templates
(row 79-80) go through the shared rules of ``scanners/chat_template.py``.
"""

from __future__ import annotations

from typing import ClassVar

from pellucid.budget import Budget
from pellucid.formats.gguf import TEMPLATE_KEY, GgufProblem, KeyValue, read_gguf
from pellucid.formats.gguf_layout import check_layout
from pellucid.formats.gguf_types import ValueType
from pellucid.model import Artifact, FileKind, Finding, Rule, Severity
from pellucid.scanners.base import ScanContext, ScanResult
from pellucid.scanners.chat_template import (
    TEMPLATE_RULES,
    TEMPLATE_TOO_LARGE,
    template_findings,
)
from pellucid.scanners.gguf_rules import GGUF_RULES, RULE_BY_KIND
from pellucid.source import ByteSource


class GgufScanner:
    """Validates GGUF structure (versions 1-3) and analyses ``tokenizer.chat_template*``."""

    id: ClassVar[str] = "gguf"
    rules: ClassVar[tuple[Rule, ...]] = (*GGUF_RULES, *TEMPLATE_RULES)

    def accepts(self, kind: FileKind) -> bool:
        return kind is FileKind.GGUF

    def scan(self, artifact: Artifact, source: ByteSource, ctx: ScanContext) -> ScanResult:
        budget = ctx.budget
        header = read_gguf(source, max_header_bytes=budget.max_header_bytes,
                           keep_text=budget.max_text_bytes)  # fmt: skip
        findings = [_finding(artifact, p) for p in header.problems]
        incomplete: list[str] = []
        if header.budget_hit:
            incomplete.append(f"GGUF header not fully read: {header.budget_hit} (budget)")
        elif not header.complete:
            incomplete.append("GGUF header is malformed; the rest of the file was not read")
        layout, _alignment = check_layout(header, source.size)
        findings.extend(_finding(artifact, p) for p in layout)
        for found, reasons in (_template(artifact, kv, budget) for kv in header.kvs):
            findings.extend(found)
            incomplete.extend(reasons)
        notes = (f"GGUF v{header.version}, {len(header.kvs)} metadata entries, "
                 f"{len(header.tensors)} tensors",)  # fmt: skip
        return ScanResult(findings=tuple(findings), incomplete=tuple(incomplete), notes=notes)


def _finding(artifact: Artifact, problem: GgufProblem) -> Finding:
    rule = RULE_BY_KIND[problem.kind]
    severity = Severity.MEDIUM if problem.kind == "removed-type" else None
    evidence = artifact.evidence(offset=problem.offset, snippet=problem.snippet[:200])
    return rule.finding(evidence, problem.detail, severity=severity)


def _template(artifact: Artifact, kv: KeyValue, budget: Budget) -> tuple[list[Finding], list[str]]:
    """Findings for ``tokenizer.chat_template`` and its named variants; nothing for other keys."""
    if not kv.key.startswith(TEMPLATE_KEY) or kv.key == "tokenizer.chat_templates":
        return [], []
    evidence = artifact.evidence(offset=kv.offset, snippet=kv.key)
    if isinstance(kv.value, str):
        return template_findings(kv.value, evidence, budget)
    if kv.type is ValueType.STRING and kv.length > budget.max_text_bytes:
        detail = f"{kv.key} is {kv.length} bytes, over the text budget of {budget.max_text_bytes}"
        reason = f"chat template {kv.key} not analysed: {detail}"
        return [TEMPLATE_TOO_LARGE.finding(evidence, detail)], [reason]
    return [], []  # not a string: reported by the layout checks
