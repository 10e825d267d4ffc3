"""CycloneDX 1.6 JSON ML-BOM of one audited model folder.

Written by hand: cyclonedx-python-lib has no ``modelCard`` model and drops it on a round trip
(it is used in the tests only, for its strict schema validator). The output is deterministic:
the serial number is derived from the BOM's own content and the timestamp is fixed unless given.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from pellucid.bom.facts import FIXED_TIME, ModelFacts, hf_purl, license_ref, model_facts
from pellucid.bom.modelcard import model_card
from pellucid.model import AuditReport, Finding

SPEC_VERSION = "1.6"


def cyclonedx_bom(
    report: AuditReport,
    *,
    model_folder: str | None = None,
    serial: str | None = None,
    timestamp: str | None = None,
) -> str:
    """The BOM as JSON text: the model with its card, files, licences, lineage and findings."""
    facts = model_facts(report, model_folder)
    bom: dict[str, Any] = {
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "version": 1,
        "metadata": _metadata(facts, timestamp or FIXED_TIME),
        "components": [_model_component(facts), *_dataset_components(facts)],
    }
    vulnerabilities = [_vulnerability(facts, f) for f in facts.findings if f.suppressed_by is None]
    if vulnerabilities:
        bom["vulnerabilities"] = vulnerabilities
    content = json.dumps(bom, sort_keys=True).encode()
    bom["serialNumber"] = serial or f"urn:uuid:{_uuid(content)}"
    return json.dumps(bom, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def model_ref(facts: ModelFacts) -> str:
    return f"model:{facts.name}"


def file_ref(path: str) -> str:
    return f"file:{path}"


def _uuid(content: bytes) -> uuid.UUID:
    return uuid.UUID(bytes=hashlib.sha256(content).digest()[:16], version=5)


def _metadata(facts: ModelFacts, timestamp: str) -> dict[str, Any]:
    tool = {
        "type": "application",
        "name": "pellucid",
        "version": facts.tool_version,
        "bom-ref": "tool:pellucid",
    }
    return {
        "timestamp": timestamp,
        "tools": {"components": [tool]},
        "properties": [{"name": "pellucid:model:digest", "value": facts.digest}],
    }


def _model_component(facts: ModelFacts) -> dict[str, Any]:
    component: dict[str, Any] = {
        "type": "machine-learning-model",
        "bom-ref": model_ref(facts),
        "name": facts.name,
        "modelCard": model_card(facts, _dataset_refs(facts)),
        "components": [_file_component(f.path, f.kind, f.size, f.sha256) for f in facts.files],
        "properties": _properties(facts),
    }
    summary = facts.card_value("model_name") or facts.card_value("description")
    if summary:
        component["description"] = summary
    licenses = _licenses(facts)
    if licenses:
        component["licenses"] = licenses
    ancestors = [_ancestor(base) for base in facts.bases()]
    if ancestors:
        component["pedigree"] = {"ancestors": ancestors}
    return component


def _file_component(path: str, kind: str, size: int, sha256: str | None) -> dict[str, Any]:
    component: dict[str, Any] = {
        "type": "file",
        "bom-ref": file_ref(path),
        "name": path,
        "properties": [
            {"name": "pellucid:file:kind", "value": kind},
            {"name": "pellucid:file:size", "value": str(size)},
        ],
    }
    if sha256:
        component["hashes"] = [{"alg": "SHA-256", "content": sha256}]
    return component


def _licenses(facts: ModelFacts) -> list[dict[str, Any]]:
    """SPDX ids where the assessment found one; a LicenseRef name otherwise (never a guess)."""
    out = []
    for entry in facts.licenses():
        ack = "declared" if entry["declared"] else "concluded"
        spdx_id = entry.get("spdx_id")
        if isinstance(spdx_id, str) and spdx_id:
            out.append({"license": {"id": spdx_id, "acknowledgement": ack}})
        else:
            out.append({"license": {"name": license_ref(entry["id"]), "acknowledgement": ack}})
    return out


def _ancestor(base: dict[str, Any]) -> dict[str, Any]:
    name = base["name"]
    ancestor: dict[str, Any] = {
        "type": "machine-learning-model",
        "bom-ref": f"base:{name}",
        "name": name,
    }
    purl = hf_purl(name)
    if purl:
        ancestor["purl"] = purl
    props = [
        (key, base.get(field))
        for key, field in (("relation", "relation"), ("source", "source"))
        if isinstance(base.get(field), str)
    ]
    if props:
        ancestor["properties"] = [{"name": f"pellucid:lineage:{k}", "value": v} for k, v in props]
    return ancestor


def _dataset_refs(facts: ModelFacts) -> list[str]:
    return [f"dataset:{name}" for name in facts.datasets()]


def _dataset_components(facts: ModelFacts) -> list[dict[str, Any]]:
    return [
        {
            "type": "data",
            "bom-ref": f"dataset:{name}",
            "name": name,
            "data": [{"type": "dataset", "name": name}],
        }
        for name in facts.datasets()
    ]


def _vulnerability(facts: ModelFacts, finding: Finding) -> dict[str, Any]:
    evidence = finding.evidence
    path = facts.relative(evidence.file)
    location = "!".join((path, *evidence.member))
    if evidence.line is not None:
        location += f":{evidence.line}"
    if evidence.offset is not None:
        location += f"@{evidence.offset}"
    known = {f.path for f in facts.files}
    vuln: dict[str, Any] = {
        "id": finding.rule_id,
        "source": {"name": "pellucid"},
        "ratings": [{"source": {"name": "pellucid"}, "severity": finding.severity.label}],
        "description": f"{finding.title} ({location})",
        "recommendation": finding.remediation,
        "affects": [{"ref": file_ref(path) if path in known else model_ref(facts)}],
        "properties": [{"name": "pellucid:confidence", "value": finding.confidence.label}],
    }
    if finding.detail:
        vuln["detail"] = finding.detail
    if evidence.snippet:
        vuln["properties"].append({"name": "pellucid:evidence", "value": evidence.snippet})
    if finding.cwe is not None:
        vuln["cwes"] = [finding.cwe]
    if finding.references:
        vuln["advisories"] = [{"url": url} for url in finding.references]
    return vuln


def _properties(facts: ModelFacts) -> list[dict[str, str]]:
    """The resource profile and the verdicts of the assessment, as ``pellucid:`` properties."""
    found: dict[str, Any] = {"pellucid:audit:verdict": facts.verdict}
    resources = facts.sections.get("resources", {})
    for key in ("parameters", "tensors", "bytes_on_disk", "source"):
        found[f"pellucid:resources:{key}"] = resources.get(key)
    for group in ("dtypes", "memory"):
        values = resources.get(group)
        for key, value in values.items() if isinstance(values, dict) else []:
            found[f"pellucid:resources:{group}:{key}"] = value
    licence = facts.sections.get("license", {})
    found["pellucid:license:primary"] = licence.get("primary")
    found["pellucid:lineage:relation"] = facts.sections.get("lineage", {}).get("relation")
    openness = facts.sections.get("openness", {})
    found["pellucid:openness:mof-class"] = _get(openness, "mof", "class")
    found["pellucid:openness:osaid"] = _get(openness, "osaid", "verdict")
    regulation = facts.sections.get("regulation", {})
    found["pellucid:regulation:gpai"] = _get(regulation, "gpai_indication", "verdict")
    return [
        {"name": name, "value": str(value)}
        for name, value in sorted(found.items())
        if isinstance(value, (str, int, float)) and not isinstance(value, bool)
    ]


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data
