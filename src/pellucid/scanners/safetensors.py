"""safetensors: the header against the reference loader's rules, and names that lie.

safetensors cannot run code, so its risks are parser differentials (two readers seeing
different tensors in the same bytes) and files that only pretend to be safetensors.
"""

from __future__ import annotations

from typing import ClassVar

from pellucid.formats.safetensors import (
    Problem,
    SafetensorsHeader,
    parse_header,
    pickle_prefix,
)
from pellucid.model import Artifact, Confidence, FileKind, Finding, Rule, Severity
from pellucid.scanners.base import Member, ScanContext, ScanResult
from pellucid.source import ByteSource

_FORMAT_DOC = "https://huggingface.co/docs/safetensors/index#format"
_DIFFERENTIAL = (
    _FORMAT_DOC,
    "https://github.com/trailofbits/publications/blob/master/reviews/"
    "2023-03-eleutherai-huggingface-safetensors-securityreview.pdf",
)

HEADER_UNREADABLE = Rule(
    id="PCL-SFT-001",
    title="safetensors header cannot be read",
    severity=Severity.MEDIUM,
    cwe=20,
    description=(
        "The file looks like safetensors but its header length runs past the file, exceeds the "
        "loader's 100 MB limit, or the header is not a UTF-8 JSON object. The reference loader "
        "refuses it, so it cannot run code through safetensors; it is still not the weights it "
        "claims to be, and lenient readers may interpret it in their own way."
    ),
    remediation="Do not use the file; obtain the weights again from the publisher.",
    references=(_FORMAT_DOC,),
)
DUPLICATE_KEY = Rule(
    id="PCL-SFT-002",
    title="safetensors header repeats a JSON key",
    severity=Severity.MEDIUM,
    cwe=694,
    description=(
        "A tensor name or an entry field appears twice in the header JSON. JSON readers differ "
        "on which copy wins (first, last, or an error), so two tools can load different tensors "
        "from the same file, which lets tampered weights pass a review done with another tool."
    ),
    remediation="Re-save the weights with the safetensors library, which never writes duplicates.",
    references=_DIFFERENTIAL,
)
BAD_ENTRY = Rule(
    id="PCL-SFT-003",
    title="safetensors header entry is malformed",
    severity=Severity.MEDIUM,
    cwe=20,
    description=(
        "A tensor entry lacks dtype, shape or data_offsets, uses an unknown dtype, non-integer "
        "or negative numbers, offsets that end before they begin, or __metadata__ is not a map "
        "of strings. The reference loader rejects such headers; hand-written readers may not."
    ),
    remediation="Re-save the weights with the safetensors library.",
    references=_DIFFERENTIAL,
)
SIZE_MISMATCH = Rule(
    id="PCL-SFT-004",
    title="safetensors tensor size disagrees with dtype and shape",
    severity=Severity.MEDIUM,
    cwe=130,
    description=(
        "The byte span given by data_offsets differs from the element count times the dtype "
        "size, or that product overflows 64 bits. Readers that trust one of the two numbers "
        "read out of bounds or see different values than readers that trust the other."
    ),
    remediation="Re-save the weights with the safetensors library.",
    references=_DIFFERENTIAL,
)
LAYOUT = Rule(
    id="PCL-SFT-005",
    title="safetensors data offsets overlap or leave hidden bytes",
    severity=Severity.MEDIUM,
    cwe=436,
    description=(
        "Tensor byte ranges overlap, leave gaps between them, or leave bytes after the last "
        "tensor. The reference loader requires ranges to tile the data region exactly; bytes "
        "no tensor owns can smuggle a payload past tools that only read the declared tensors."
    ),
    remediation="Re-save the weights with the safetensors library and compare with the publisher.",
    references=_DIFFERENTIAL,
)
OUT_OF_BOUNDS = Rule(
    id="PCL-SFT-006",
    title="safetensors data offsets point past the end of the file",
    severity=Severity.MEDIUM,
    cwe=125,
    description=(
        "A tensor's data_offsets end beyond the data region. The reference loader refuses the "
        "file; a reader that maps the file and trusts the offsets reads out of bounds."
    ),
    remediation="Do not use the file; it is truncated or crafted.",
    references=(_FORMAT_DOC,),
)
PADDING = Rule(
    id="PCL-SFT-007",
    title="safetensors header padded with characters other than spaces",
    severity=Severity.LOW,
    cwe=436,
    description=(
        "The format pads the header JSON with spaces only. Tabs or newlines are accepted by "
        "JSON parsers but not by strict readers, so the file may load in one tool and not "
        "another. Rarely malicious; a sign the file was not written by the reference library."
    ),
    remediation="Re-save the weights with the safetensors library.",
    references=(_FORMAT_DOC,),
    confidence=Confidence.MEDIUM,
)
PICKLE_POLYGLOT = Rule(
    id="PCL-SFT-008",
    title="safetensors-looking file is also a pickle",
    severity=Severity.HIGH,
    cwe=502,
    description=(
        "The file's first eight bytes pass for a safetensors header length and a JSON object "
        "follows, yet the same bytes are a pickle program from offset 0 (a BINBYTES string "
        "can swallow the header). torch.load and pickle.load run that program; a scanner that "
        "trusts the safetensors look never disassembles it. pellucid scans it as a pickle too."
    ),
    remediation="Do not load the file with torch.load or pickle; obtain real safetensors weights.",
    references=(
        "https://github.com/civitai/model-scanner/issues/6",
        "https://nvd.nist.gov/vuln/detail/CVE-2025-10155",
    ),
)
_RULE_FOR: dict[str, Rule] = {
    "unparsable": HEADER_UNREADABLE, "duplicate": DUPLICATE_KEY, "entry": BAD_ENTRY,
    "size": SIZE_MISMATCH, "overlap": LAYOUT, "gap": LAYOUT, "uncovered": LAYOUT,
    "beyond": OUT_OF_BOUNDS, "padding": PADDING,
}  # fmt: skip
_MAX_FINDINGS_PER_RULE = 20  # a million broken entries are one problem, not a million
_LARGE_METADATA = 64 * 1024


class SafetensorsScanner:
    """Validates safetensors headers as strictly as the reference Rust loader."""

    id: ClassVar[str] = "safetensors"
    rules: ClassVar[tuple[Rule, ...]] = (
        HEADER_UNREADABLE,
        DUPLICATE_KEY,
        BAD_ENTRY,
        SIZE_MISMATCH,
        LAYOUT,
        OUT_OF_BOUNDS,
        PADDING,
        PICKLE_POLYGLOT,
    )

    def accepts(self, kind: FileKind) -> bool:
        return kind is FileKind.SAFETENSORS

    def scan(self, artifact: Artifact, source: ByteSource, ctx: ScanContext) -> ScanResult:
        header = parse_header(source, ctx.budget.max_header_bytes)
        findings = _findings(artifact, header.problems)
        members: tuple[Member, ...] = ()
        opcodes = pickle_prefix(source)
        if opcodes:
            evidence = artifact.evidence(offset=0, snippet=" ".join(opcodes)[:200])
            findings += (PICKLE_POLYGLOT.finding(evidence),)
            note = "the same bytes read as a pickle (torch.load / pickle.load)"
            members = (Member("(as pickle)", source, note=note, kind=FileKind.PICKLE),)
        return ScanResult(
            findings, members, incomplete=tuple(header.incomplete), notes=_notes(header)
        )


def _findings(artifact: Artifact, problems: list[Problem]) -> tuple[Finding, ...]:
    findings: list[Finding] = []
    counts: dict[str, int] = {}
    for problem in problems:
        rule = _RULE_FOR[problem.code]
        counts[rule.id] = counts.get(rule.id, 0) + 1
        if counts[rule.id] <= _MAX_FINDINGS_PER_RULE:
            snippet = problem.name[:200] if problem.name else problem.message[:200]
            detail = f"{problem.name!r}: {problem.message}" if problem.name else problem.message
            findings.append(
                rule.finding(artifact.evidence(offset=problem.at or 0, snippet=snippet), detail)
            )
    for rule_id, count in counts.items():
        if count > _MAX_FINDINGS_PER_RULE:
            rule = next(r for r in SafetensorsScanner.rules if r.id == rule_id)
            findings.append(
                rule.finding(
                    artifact.evidence(offset=8, snippet=f"{count} cases"),
                    f"{count - _MAX_FINDINGS_PER_RULE} more not listed",
                )
            )
    return tuple(findings)


def _notes(header: SafetensorsHeader) -> tuple[str, ...]:
    notes = [f"{len(header.tensors)} tensors, header {header.header_length} bytes"]
    if header.metadata:
        fmt = header.metadata.get("format")
        notes.append(
            f"__metadata__: {len(header.metadata)} keys"
            + (f", format={fmt[:20]!r}" if fmt is not None else "")
        )
        large = [k for k, v in header.metadata.items() if len(v) > _LARGE_METADATA]
        if large:
            notes.append(
                f"large __metadata__ values under {', '.join(repr(k[:40]) for k in large[:5])}"
            )
    return tuple(notes)
