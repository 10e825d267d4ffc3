"""Hand-made reports and rules for the renderer tests: every kind of value a report can hold."""

from __future__ import annotations

from dataclasses import replace

from pellucid.model import (
    Artifact,
    AuditReport,
    Confidence,
    Coverage,
    CoverageStatus,
    FileKind,
    Finding,
    Rule,
    Severity,
)

PICKLE_RULE = Rule(
    id="PCL-TST-001",
    title="Pickle calls a dangerous callable",
    severity=Severity.CRITICAL,
    cwe=502,
    description="The pickle stream imports and calls a function that runs commands.",
    remediation="Do not load the file; convert the weights to safetensors.",
    references=("https://nvd.nist.gov/vuln/detail/CVE-2024-3660",),
)
ZIP_RULE = Rule(
    id="PCL-TST-002",
    title="Duplicate member names in zip",
    severity=Severity.MEDIUM,
    cwe=436,
    description="Two members share a name; readers disagree on which one is loaded.",
    remediation="Rebuild the archive.",
    confidence=Confidence.MEDIUM,
)
CONFIG_RULE = Rule(
    id="PCL-TST-003",
    title="Remote code enabled in config",
    severity=Severity.HIGH,
    cwe=94,
    description="The config asks the loader to import code shipped with the model.",
    remediation="Load with trust_remote_code=False.",
)
HYGIENE_RULE = Rule(
    id="PCL-TST-004",
    title="File is not hashed in the manifest",
    severity=Severity.LOW,
    cwe=None,
    description="A file is missing from the manifest.",
    remediation="Regenerate the manifest.",
    confidence=Confidence.LOW,
)
RULES = (PICKLE_RULE, ZIP_RULE, CONFIG_RULE, HYGIENE_RULE)

HOSTILE_SNIPPET = "<script>alert(1)</script>"
SHA = "ab" * 32


def rich_report() -> AuditReport:
    """Nested members, suppressed findings, incomplete coverage, sha256, sections, odd text."""
    outer = Artifact("model.7z", FileKind.SEVEN_ZIP, 4096)
    inner = outer.child("archive/model.pt", FileKind.ZIP, 2048)
    data = inner.child("archive/data.pkl", FileKind.PICKLE, 300)
    config = Artifact("config.json", FileKind.JSON, 120)
    weights = Artifact("weights/model.safetensors", FileKind.SAFETENSORS, 10_000)
    readme = Artifact("README.md", FileKind.TEXT, 50)
    big = Artifact("big.zst", FileKind.ZSTD, 99_999)
    findings = (
        HYGIENE_RULE.finding(weights.evidence(), "not listed"),
        PICKLE_RULE.finding(
            data.evidence(offset=42, snippet="posix.system('echo hi')"), "calls posix.system"
        ),
        ZIP_RULE.finding(inner.evidence(offset=1024, snippet="archive/data.pkl"), "2 entries"),
        CONFIG_RULE.finding(
            config.evidence(line=3, snippet='"trust_remote_code": true'), "auto_map set"
        ),
        PICKLE_RULE.finding(
            Artifact("weird name #1.pkl", FileKind.PICKLE, 10).evidence(
                offset=0, snippet=HOSTILE_SNIPPET + "\x1b[2J"
            ),
            "hostile text | with *markdown*",
            references=("javascript:alert(2)",),
        ),
        _suppressed(CONFIG_RULE.finding(config.evidence(line=9, snippet="auto_map"), "muted")),
    )
    coverage = (
        Coverage(outer, CoverageStatus.EXAMINED, ("7z",), sha256=SHA),
        Coverage(inner, CoverageStatus.EXAMINED, ("zip",)),
        Coverage(
            data,
            CoverageStatus.EXAMINED,
            ("pickle",),
            sha256=SHA,
            notes=("1 pickle stream, 57 opcodes",),
        ),
        Coverage(config, CoverageStatus.EXAMINED, ("hf-config",)),
        Coverage(weights, CoverageStatus.EXAMINED, ("safetensors",)),
        Coverage(readme, CoverageStatus.SKIPPED, (), ("plain text; no loader executes it",)),
        Coverage(big, CoverageStatus.INCOMPLETE, (), ("zstandard is not installed", "budget")),
    )
    return AuditReport(
        tool_version="0.1.0",
        started_at="2025-01-02T03:04:05Z",
        duration_seconds=1.25,
        inputs=("models/demo",),
        findings=findings,
        coverage=coverage,
        policy_digest="sha256:" + "cd" * 32,
        sections={
            "license": {
                "models/demo": {
                    "primary": "apache-2.0",
                    "licenses": [
                        {
                            "id": "apache-2.0",
                            "spdx_id": "Apache-2.0",
                            "source": "file:LICENSE",
                            "score": 1.0,
                            "span": [0, 11357],
                        }
                    ],
                    "terms": {"commercial_use": "yes", "user_threshold": None},
                    "obligations": {
                        "must": [{"text": "keep the NOTICE file", "license": "apache-2.0"}],
                        "must_not": [],
                    },
                    "scopes": {"weights": ["apache-2.0"]},
                    "kb_version": "2026.11",
                }
            },
            "openness": {
                "models/demo": {
                    "mof": {"class": "III", "completeness": {"III": 100, "II": 50, "I": 0}},
                    "osaid": {"verdict": "undetermined"},
                    "components": [],
                    "osai_index": {},
                }
            },
        },
    )


def _suppressed(finding: Finding) -> Finding:
    return replace(finding, suppressed_by="policy")


def clean_report() -> AuditReport:
    """Nothing found, everything examined."""
    art = Artifact("model.safetensors", FileKind.SAFETENSORS, 100)
    return AuditReport(
        tool_version="0.1.0",
        started_at="2025-01-02T03:04:05+00:00",
        duration_seconds=0.5,
        inputs=("model.safetensors",),
        findings=(),
        coverage=(Coverage(art, CoverageStatus.EXAMINED, ("safetensors",)),),
    )


def incomplete_report() -> AuditReport:
    """Only a medium finding, and a file that could not be read: verdict incomplete."""
    art = Artifact("/abs/path/model.h5", FileKind.HDF5, 100)
    return AuditReport(
        tool_version="0.1.0",
        started_at="2025-01-02T03:04:05Z",
        duration_seconds=0.1,
        inputs=("/abs/path",),
        findings=(ZIP_RULE.finding(art.evidence(offset=7, snippet="x")),),
        coverage=(Coverage(art, CoverageStatus.INCOMPLETE, (), ("h5py is not installed",)),),
    )
