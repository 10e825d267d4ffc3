"""Keras model configs (JSON) and HDF5 files (``.h5`` models, ``model.weights.h5``).

Keras rebuilds a model from its config by importing what each object names and by
unmarshalling Lambda bytecode; HDF5 files can make the loader open other files through
links, external storage and virtual datasets. Both are read statically here.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pellucid.formats.hdf5 import Hdf5Metadata, read_metadata
from pellucid.formats.keras_config import (
    HitKind,
    KerasAnalysis,
    KerasHit,
    analyze_config_text,
    decode_json_bytes,
    is_dangerous_reference,
    looks_like_keras_text,
)
from pellucid.model import Artifact, FileKind, Finding, Rule, Severity
from pellucid.scanners.base import Member, ScanContext, ScanResult
from pellucid.scanners.keras_rules import (
    H5_EXTERNAL_LINK,
    H5_EXTERNAL_STORAGE,
    H5_RULES,
    H5_SOFT_LINK,
    H5_USERBLOCK,
    H5_VIRTUAL_SOURCE,
    KERAS_RULES,
    RULE_BY_KIND,
)
from pellucid.source import ByteSource

H5_LAMBDA_REFERENCES = (
    "https://nvd.nist.gov/vuln/detail/CVE-2025-9905",
    "https://github.com/advisories/GHSA-36rr-ww3j-vrjv",
)
H5PY_MISSING = "h5py is not installed: pip install 'pellucid[formats]' to examine HDF5 files"
_LAMBDAS = (HitKind.LAMBDA_CODE, HitKind.LAMBDA)
_IMPORTS = (HitKind.FUNCTION_REF, HitKind.FOREIGN_MODULE)


def keras_findings(
    artifact: Artifact, analysis: KerasAnalysis, ctx: ScanContext, *, origin: str = ""
) -> tuple[list[Finding], list[Member], list[str]]:
    """Findings (and embedded torch payloads to scan) for a Keras config analysis.

    ``origin`` names the HDF5 attribute the config came from; positions are then relative
    to that attribute's text, so only the JSON path is reported.
    """
    findings: list[Finding] = []
    members: list[Member] = []
    reasons = list(analysis.incomplete)
    for hit in analysis.hits:
        findings.append(_finding(artifact, hit, origin))
        if hit.payload is None:
            continue
        if len(hit.payload) > ctx.budget.max_member_bytes:
            reasons.append(f"TorchModuleWrapper payload of {len(hit.payload)} bytes (budget)")
        else:
            members.append(
                Member(
                    f"{hit.path}.config.module",
                    ByteSource(hit.payload),
                    note="torch.save data embedded in a Keras config",
                    unpacked=True,
                )
            )
    return findings, members, reasons


def _finding(artifact: Artifact, hit: KerasHit, origin: str) -> Finding:
    rule = RULE_BY_KIND[hit.kind]
    where = f"{origin} {hit.path}" if origin else hit.path
    layer = f" in layer {hit.layer!r}" if hit.layer else ""
    if hit.kind in _LAMBDAS:
        snippet = f"Lambda {hit.layer!r} at {where}: {hit.value}"
    else:
        snippet = f"{where}{layer}: {hit.value}"
    evidence = (
        artifact.evidence(snippet=snippet[:500])
        if origin
        else artifact.evidence(offset=hit.offset, line=hit.line, snippet=snippet[:500])
    )
    if hit.kind in _IMPORTS and is_dangerous_reference(hit.value):
        return rule.finding(evidence, severity=Severity.CRITICAL)
    if origin and hit.kind in _LAMBDAS:
        detail = (
            "Keras 3 releases before 3.11.3 run Lambdas from .h5 files even with "
            "safe_mode=True (CVE-2025-9905)."
        )
        return rule.finding(evidence, detail, references=H5_LAMBDA_REFERENCES)
    return rule.finding(evidence)


class KerasConfigScanner:
    """Keras ``config.json`` / standalone model JSON; other JSON is passed over quickly."""

    id: ClassVar[str] = "keras"
    rules: ClassVar[tuple[Rule, ...]] = KERAS_RULES

    def accepts(self, kind: FileKind) -> bool:
        return kind is FileKind.JSON

    def scan(self, artifact: Artifact, source: ByteSource, ctx: ScanContext) -> ScanResult:
        limit = ctx.budget.max_text_bytes
        text = decode_json_bytes(bytes(source.view(0, limit)))
        if not looks_like_keras_text(text):
            return ScanResult()
        if source.size > limit:
            return ScanResult(
                incomplete=(
                    f"Keras-like JSON of {source.size} bytes; only {limit} are parsed (budget)",
                )
            )
        analysis = analyze_config_text(text)
        if not analysis.is_keras:
            return ScanResult()
        findings, members, reasons = keras_findings(artifact, analysis, ctx)
        return ScanResult(
            tuple(findings),
            tuple(members),
            tuple(reasons),
            notes=(f"Keras config, {len(analysis.hits)} suspicious references",),
        )


class Hdf5Scanner:
    """HDF5 metadata: Keras root attributes, links, external storage and virtual datasets."""

    id: ClassVar[str] = "hdf5"
    rules: ClassVar[tuple[Rule, ...]] = (*KERAS_RULES, *H5_RULES)

    def accepts(self, kind: FileKind) -> bool:
        return kind is FileKind.HDF5

    def scan(self, artifact: Artifact, source: ByteSource, ctx: ScanContext) -> ScanResult:
        target: Path | memoryview
        if artifact.member == () and ctx.disk_path is not None:
            target = ctx.disk_path
        elif source.size > ctx.budget.max_member_bytes:
            return ScanResult(incomplete=(f"HDF5 member of {source.size} bytes (budget)",))
        else:
            target = source.view()
        try:
            meta = read_metadata(
                target, max_objects=ctx.budget.max_members, max_text=ctx.budget.max_text_bytes
            )
        except ImportError:
            return ScanResult(incomplete=(H5PY_MISSING,))
        except Exception as exc:  # hostile HDF5 makes h5py raise anything
            return ScanResult(incomplete=(f"HDF5 not readable: {type(exc).__name__}: {exc}"[:300],))
        findings = _structure_findings(artifact, meta)
        members: list[Member] = []
        reasons = list(meta.incomplete)
        for name in ("model_config", "training_config"):
            text = meta.attributes.get(name)
            if text is None:
                continue
            found, embedded, why = keras_findings(
                artifact, analyze_config_text(text, force=True), ctx, origin=name
            )
            findings.extend(found)
            members.extend(embedded)
            reasons.extend(why)
        if meta.userblock:  # HDF5 skips it; another loader may read it as zip or pickle
            members.append(
                Member(
                    "user block",
                    source.slice(0, meta.userblock),
                    note="bytes before the HDF5 superblock",
                )
            )
        version = meta.attributes.get("keras_version", "unknown")
        return ScanResult(
            tuple(findings),
            tuple(members),
            tuple(reasons),
            notes=(f"HDF5, {meta.objects} links, keras_version {version}",),
        )


def _structure_findings(artifact: Artifact, meta: Hdf5Metadata) -> list[Finding]:
    findings = [
        H5_EXTERNAL_LINK.finding(artifact.evidence(snippet=f"{name} -> {file}:{path}"))
        for name, file, path in meta.external_links
    ]
    findings += [
        H5_EXTERNAL_STORAGE.finding(artifact.evidence(snippet=f"dataset {name} reads {file}"))
        for name, file in meta.external_storage
    ]
    findings += [
        H5_VIRTUAL_SOURCE.finding(
            artifact.evidence(snippet=f"virtual dataset {name} maps {file}:{source}")
        )
        for name, file, source in meta.virtual_sources
    ]
    findings += [
        H5_SOFT_LINK.finding(artifact.evidence(snippet=f"{name} -> {target}"))
        for name, target in meta.soft_links
    ]
    if meta.userblock:
        findings.append(
            H5_USERBLOCK.finding(
                artifact.evidence(
                    offset=0, snippet=f"{meta.userblock}-byte user block before the HDF5 superblock"
                )
            )
        )
    return findings
