"""One line per whole-model analysis, in plain words, for the HTML report and the terminal.

The analyses store JSON-ready data in ``AuditReport.sections[<analysis>][<model folder>]``;
this module reads it defensively (a missing or failed analysis says so) and never invents a
verdict the data does not carry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pellucid.model import AuditReport

ANALYSES = ("license", "openness", "regulation", "lineage", "resources", "signatures")
DISCLAIMER = (
    "Licence, openness and EU AI Act results are automated assessments of what the model "
    "folder states, not legal advice."
)


@dataclass(frozen=True)
class ModelProfile:
    path: str
    lines: dict[str, str]  # analysis id -> one plain sentence
    must: list[tuple[str, str]] = field(default_factory=list)  # (obligation, licence id)
    must_not: list[tuple[str, str]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)  # analysis id -> its data, for details
    attestations: list[str] = field(default_factory=list)  # one line per audit attestation
    bom_href: str | None = None  # a data: URI of the CycloneDX BOM (HTML only)
    bom_name: str = "bom.cdx.json"


def model_profiles(report: AuditReport) -> list[ModelProfile]:
    """A profile per model folder that any analysis reported on, in path order."""
    paths: set[str] = set()
    for name in ANALYSES:
        section = report.sections.get(name)
        if isinstance(section, Mapping):
            paths.update(str(p) for p in section)
    profiles = []
    for path in sorted(paths):
        raw = {name: _data(report, name, path) for name in ANALYSES}
        lines = {name: _line(name, raw[name]) for name in ANALYSES}
        obligations = _get(raw["license"], "obligations")
        must, must_not = _items(obligations, "must"), _items(obligations, "must_not")
        attested = _attestation_lines(raw["signatures"])
        profiles.append(ModelProfile(path, lines, must, must_not, raw, attested))
    return profiles


def _data(report: AuditReport, name: str, path: str) -> Any:
    section = report.sections.get(name)
    return section.get(path) if isinstance(section, Mapping) else None


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def _items(obligations: Any, key: str) -> list[tuple[str, str]]:
    values = _get(obligations, key)
    if not isinstance(values, list):
        return []
    return [
        (str(_get(v, "text")), str(_get(v, "license") or ""))
        for v in values
        if isinstance(v, Mapping) and v.get("text")
    ]


def _line(name: str, data: Any) -> str:
    if data is None:
        return "not assessed"
    if isinstance(data, Mapping) and "error" in data:
        return f"analysis failed: {data['error']}"
    return {
        "license": _license,
        "openness": _openness,
        "regulation": _regulation,
        "lineage": _lineage,
        "resources": _resources,
        "signatures": _signatures,
    }[name](data)


def _license(data: Any) -> str:
    primary = _get(data, "primary")
    if not primary:
        found = _get(data, "licenses") or []
        return "no licence identified" if not found else "licence statements found, none decisive"
    commercial = _get(data, "terms", "commercial_use")
    users = _get(data, "terms", "user_threshold")
    text = f"{primary}"
    if commercial:
        text += f"; commercial use: {commercial}"
    if users:
        text += f" (above {users:,} monthly active users a separate licence is needed)"
    return text


def _openness(data: Any) -> str:
    mof = _get(data, "mof", "class")
    completeness = _get(data, "mof", "completeness")
    osaid = str(_get(data, "osaid", "verdict") or "undetermined").replace("_", " ")
    shown = "none" if mof is None else f"Class {mof}"
    if isinstance(completeness, Mapping) and completeness:
        parts = ", ".join(f"{k}: {v}%" for k, v in sorted(completeness.items(), reverse=True))
        shown += f" ({parts})"
    return f"MOF {shown}; OSAID 1.0: {osaid}"


def _regulation(data: Any) -> str:
    verdict = str(_get(data, "art53_2", "verdict") or "undetermined").replace("_", " ")
    flop = _get(data, "art53_2", "compute_flop")
    text = f"Art. 53(2) open-source exemption: {verdict}"
    if isinstance(flop, int | float):
        text += f"; estimated training compute {flop:.2e} FLOP"
    return text


def _lineage(data: Any) -> str:
    bases = _get(data, "bases")
    if not isinstance(bases, list) or not bases:
        return "no base model stated"
    names = [str(_get(b, "name")) for b in bases if isinstance(b, Mapping)]
    relation = _get(data, "relation")
    return ("derived from " + ", ".join(names)) + (f" ({relation})" if relation else "")


def _resources(data: Any) -> str:
    params = _get(data, "parameters")
    if not isinstance(params, int):
        return "parameter count unknown"
    text = f"{_count(params)} parameters"
    stored = _get(data, "memory", "as_stored")
    if isinstance(stored, int):
        text += f", {_bytes(stored)} as stored"
    fits = _get(data, "fits")
    if fits is not None:
        text += "; fits in" if fits else "; does not fit in"
        text += " this machine's memory"
    return text


def _attestation_lines(data: Any) -> list[str]:
    """The attestation chain: who attested what result, and whether the files still match."""
    lines = []
    for item in _get(data, "attestations") or []:
        if not isinstance(item, Mapping):
            continue
        if item.get("error"):
            lines.append(f"{item.get('file')}: unreadable ({item['error']})")
            continue
        tool = _get(item, "tool", "name") or "?"
        version = _get(item, "tool", "version") or ""
        when = item.get("timeAttested") or item.get("timeAudited") or "an unknown time"
        lines.append(
            f"{item.get('file')}: {tool} {version} audit, result {item.get('result')}, "
            f"attested at {when} by {item.get('signer')}; files {item.get('content')}; "
            "signature not checked without a key"
        )
    return lines


def _signatures(data: Any) -> str:
    signature = _get(data, "signature")
    attestations = _get(data, "attestations") or []
    parts = []
    if not isinstance(signature, Mapping) or not signature.get("present"):
        parts.append("not signed (no model.sig)")
    elif signature.get("error"):
        parts.append(f"model.sig unreadable: {signature['error']}")
    else:
        differences = signature.get("differences") or []
        state = str(signature.get("content", ""))
        if differences:
            state += f" ({len(differences)} difference(s))"
        signer = signature.get("signer")
        who = f"signed by {signer}" if signer else "signed (model.sig present)"
        checked = "; signature not checked without a key" if signer else ""
        parts.append(f"{who}; {state}{checked}")
    if isinstance(attestations, list) and attestations:
        parts.append(f"{len(attestations)} audit attestation(s)")
    return "; ".join(parts)


def _bytes(n: int) -> str:
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n} bytes"


def _count(n: int) -> str:
    for unit, size in (("B", 10**9), ("M", 10**6), ("K", 10**3)):
        if n >= size:
            return f"{n / size:.2f}{unit}"
    return str(n)
