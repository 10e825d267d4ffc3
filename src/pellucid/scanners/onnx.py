"""ONNX models: custom operator domains and external-data paths, checked as strings and on disk.

External data files are never opened: only ``lstat``/``stat``/``realpath`` are used, so a
location pointing at ``/dev/zero`` or a FIFO costs nothing.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from pathlib import Path
from typing import ClassVar

from pellucid.formats.onnx import ExternalRef, OnnxModel, location_problems, parse_model
from pellucid.model import Artifact, Confidence, Evidence, FileKind, Finding, Rule, Severity
from pellucid.scanners.base import ScanContext, ScanResult
from pellucid.source import ByteSource

_ONNX_PATH_CVES = (
    "https://nvd.nist.gov/vuln/detail/CVE-2022-25882",
    "https://nvd.nist.gov/vuln/detail/CVE-2024-27318",
)
_ONNX_LINK_CVES = (
    "https://nvd.nist.gov/vuln/detail/CVE-2026-27489",
    "https://nvd.nist.gov/vuln/detail/CVE-2026-34446",
    "https://nvd.nist.gov/vuln/detail/CVE-2026-34447",
    "https://github.com/advisories/GHSA-q56x-g2fj-4rj6",
    "https://nvd.nist.gov/vuln/detail/CVE-2025-51480",
)

LOCATION_ESCAPES = Rule(
    id="PCL-ONX-001",
    title="ONNX external data location points outside the model folder",
    severity=Severity.HIGH,
    cwe=22,
    description=(
        "A tensor stores its data in an external file whose location is an absolute path, a "
        "drive letter, a UNC path, a URL or contains a '..' component anywhere. Loaders join the "
        "location to the model's folder, so such a model reads arbitrary files (SSH keys, "
        "/etc/passwd) into tensors that can then be returned by inference. Fixes in onnx checked "
        "only a leading '../' at first, so the whole string is checked here."
    ),
    remediation="Do not load the model; legitimate external data is a plain file name next to it.",
    references=_ONNX_PATH_CVES,
)
RESOLVES_OUTSIDE = Rule(
    id="PCL-ONX-002",
    title="ONNX external data resolves outside the model folder on disk",
    severity=Severity.HIGH,
    cwe=59,
    description=(
        "The location looks harmless as a string, but following it on disk (through symbolic "
        "links) ends outside the model's folder. Loaders that check the string and then open "
        "the path read whatever the link points at; this bypassed several onnx fixes."
    ),
    remediation="Replace links with the data files they should be, or do not load the model.",
    references=_ONNX_LINK_CVES,
)
THROUGH_SYMLINK = Rule(
    id="PCL-ONX-003",
    title="ONNX external data path goes through a symbolic link",
    severity=Severity.MEDIUM,
    cwe=59,
    description=(
        "A component of the external data path is a symbolic link. onnx 1.23 refuses such data, "
        "older onnx releases and other runtimes follow it, and a link can be swapped between "
        "check and use. Inside a Hugging Face cache (links into the repository's blobs) this is "
        "the normal layout and is reported at low severity."
    ),
    remediation="Store the external data as a regular file next to the model.",
    references=_ONNX_LINK_CVES,
    confidence=Confidence.MEDIUM,
)
HARDLINKED = Rule(
    id="PCL-ONX-004",
    title="ONNX external data file has several hard links",
    severity=Severity.MEDIUM,
    cwe=62,
    description=(
        "The external data file has more than one hard link, so the same bytes are reachable "
        "under another name, possibly a sensitive file elsewhere on the file system. A hard "
        "link defeats realpath checks; onnx 1.23 refuses such files for this reason. Copies "
        "made by deduplicating tools are a benign cause."
    ),
    remediation="Copy the data file (cp, not ln) so it has a single link, then re-audit.",
    references=_ONNX_LINK_CVES,
    confidence=Confidence.MEDIUM,
)
DATA_UNUSABLE = Rule(
    id="PCL-ONX-005",
    title="ONNX external data is missing or out of bounds",
    severity=Severity.MEDIUM,
    cwe=125,
    description=(
        "An external tensor names a file that does not exist or is not a regular file, or its "
        "offset and length reach past the end of that file. Loaders that trust these numbers "
        "read out of bounds or allocate huge buffers; careful loaders refuse the model."
    ),
    remediation="Re-export the model with its external data, or obtain the missing files.",
    references=("https://github.com/onnx/onnx/blob/main/docs/ExternalData.md",),
)
CUSTOM_DOMAIN = Rule(
    id="PCL-ONX-006",
    title="ONNX model uses operators from a custom domain",
    severity=Severity.MEDIUM,
    cwe=829,
    description=(
        "Nodes use operators outside the standard ONNX domains. Running them needs a native "
        "custom-op library registered with the runtime, which is code outside the model file "
        "that must be reviewed on its own. Microsoft contrib operators (com.microsoft) ship "
        "with onnxruntime and are common in optimised models; they are reported as info."
    ),
    remediation="Identify the library that implements the domain and review its provenance.",
    references=("https://onnxruntime.ai/docs/reference/operators/add-custom-op.html",),
)
_CONTRIB = ("com.microsoft", "com.ms.internal.")


class OnnxScanner:
    """Walks ONNX graphs (and subgraphs) for custom domains and external-data paths."""

    id: ClassVar[str] = "onnx"
    rules: ClassVar[tuple[Rule, ...]] = (
        LOCATION_ESCAPES,
        RESOLVES_OUTSIDE,
        THROUGH_SYMLINK,
        HARDLINKED,
        DATA_UNUSABLE,
        CUSTOM_DOMAIN,
    )

    def accepts(self, kind: FileKind) -> bool:
        return kind is FileKind.ONNX

    def scan(self, artifact: Artifact, source: ByteSource, ctx: ScanContext) -> ScanResult:
        model = parse_model(source.view())
        findings = _domain_findings(artifact, model)
        folder = _model_folder(artifact, ctx)
        for ref in model.external:
            findings.extend(_external_findings(artifact, ref, folder))
        notes = [_summary(model)]
        if model.external and folder is None:
            notes.append("external data checked as strings only (no folder on disk)")
        return ScanResult(tuple(findings), incomplete=tuple(model.incomplete), notes=tuple(notes))


def _summary(model: OnnxModel) -> str:
    domains = sorted({d or "ai.onnx" for d, _ in model.opsets})
    return (
        f"{model.nodes} nodes, {model.initializers} initializers, {len(model.external)} "
        f"external tensors, opsets {', '.join(domains) or 'none'}"
        + (f", producer {model.producer}" if model.producer else "")
    )


def _domain_findings(artifact: Artifact, model: OnnxModel) -> list[Finding]:
    by_domain: dict[str, Counter[str]] = {}
    first: dict[str, int] = {}
    for op in model.custom_ops():
        by_domain.setdefault(op.domain, Counter())[op.op_type] += 1
        first.setdefault(op.domain, op.at)
    findings = []
    for domain, ops in sorted(by_domain.items()):
        contrib = domain.startswith(_CONTRIB)
        listed = ", ".join(f"{name} x{n}" for name, n in ops.most_common(8))
        detail = f"domain {domain!r}: {sum(ops.values())} nodes ({listed})"
        if contrib:
            detail += "; onnxruntime contrib operators, no extra library needed"
        snippet = f"{domain}::{ops.most_common(1)[0][0]}"
        findings.append(
            CUSTOM_DOMAIN.finding(
                artifact.evidence(offset=first[domain], snippet=snippet),
                detail,
                severity=Severity.INFO if contrib else None,
            )
        )
    return findings


def _model_folder(artifact: Artifact, ctx: ScanContext) -> Path | None:
    """The folder loaders resolve locations against: the model's folder as the user names it.

    ``disk_path`` is the resolved file; in a Hugging Face cache that is a blob, while the loader
    works from the snapshot folder, so the shown path is preferred when it is the same file.
    """
    if artifact.member or ctx.disk_path is None:
        return None
    shown = Path(artifact.path)
    try:
        if shown.exists() and shown.samefile(ctx.disk_path):
            return shown.absolute().parent
    except OSError:
        pass
    return ctx.disk_path.absolute().parent


def _allowed_root(folder: Path) -> Path:
    """Where links may point: the HF repo folder for cache snapshots, else the model folder."""
    for parent in (folder, *folder.parents):
        if (
            parent.name.startswith(("models--", "datasets--", "spaces--"))
            and (parent / "blobs").is_dir()
        ):
            return Path(os.path.realpath(parent))
    return Path(os.path.realpath(folder))


def _external_findings(artifact: Artifact, ref: ExternalRef, folder: Path | None) -> list[Finding]:
    evidence = artifact.evidence(offset=ref.at, snippet=ref.location[:300])
    findings = []
    for location in dict.fromkeys(ref.locations):  # every entry: loaders disagree on which wins
        problems = location_problems(location)
        if problems:
            findings.append(
                LOCATION_ESCAPES.finding(
                    artifact.evidence(offset=ref.at, snippet=location[:300]),
                    f"tensor {ref.tensor!r}: {', '.join(problems)}",
                )
            )
    if findings or folder is None or not ref.location:
        return findings
    return _disk_findings(evidence, ref, folder)


def _disk_findings(evidence: Evidence, ref: ExternalRef, folder: Path) -> list[Finding]:
    name = f"tensor {ref.tensor!r}"
    allowed = _allowed_root(folder)
    findings = []
    link = _first_symlink(folder, ref.location)
    real = Path(os.path.realpath(folder / ref.location))
    inside = real == allowed or allowed in real.parents
    if link is not None:
        findings.append(
            THROUGH_SYMLINK.finding(
                evidence,
                f"{name}: {link[0]} -> {link[1]}",
                severity=Severity.LOW if inside else None,
            )
        )
    if not inside:
        findings.append(RESOLVES_OUTSIDE.finding(evidence, f"{name}: resolves to {real}"))
        return findings
    try:
        info = real.stat()
    except OSError as exc:
        return [
            *findings,
            DATA_UNUSABLE.finding(
                evidence, f"{name}: {exc.strerror or exc}", severity=Severity.LOW
            ),
        ]
    if not stat.S_ISREG(info.st_mode):
        return [*findings, DATA_UNUSABLE.finding(evidence, f"{name}: not a regular file")]
    if info.st_nlink > 1:
        findings.append(HARDLINKED.finding(evidence, f"{name}: {info.st_nlink} links to {real}"))
    bounds = _bounds_problem(ref, info.st_size)
    if bounds:
        findings.append(DATA_UNUSABLE.finding(evidence, f"{name}: {bounds}"))
    return findings


def _first_symlink(folder: Path, location: str) -> tuple[str, str] | None:
    current = folder
    for part in Path(location).parts:
        current = current / part
        try:
            if stat.S_ISLNK(os.lstat(current).st_mode):
                return str(current), str(current.readlink())
        except OSError:
            return None
    return None


def _bounds_problem(ref: ExternalRef, size: int) -> str:
    try:
        offset = int(ref.offset) if ref.offset else 0
        length = int(ref.length) if ref.length else None
    except ValueError:
        return f"offset {ref.offset!r} / length {ref.length!r} are not integers"
    if offset < 0 or (length is not None and length < 0):
        return f"negative offset {offset} or length {length}"
    if offset > size or (length is not None and offset + length > size):
        return f"offset {offset} + length {length} beyond the file's {size} bytes"
    return ""
