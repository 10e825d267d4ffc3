"""From licence statements to an assessment: which licences, for which part, with which duties.

Identifiers (card ``license``, ``license_name``, GGUF and safetensors metadata, config keys,
SPDX lines) resolve through the knowledge base's ``lookup``; texts (licence files, the card's
licence section, a gated-access prompt) through the text matcher. Nothing is guessed: a
statement neither can place becomes an "unrecognised" finding.

Scope, i.e. which part of the model a licence covers, is decided from where it was stated:
  - SPDX lines in source files cover ``code``;
  - a licence file whose name or folder says CODE / SOFTWARE / SRC covers ``code``; DATA /
    DATASET ``data``; DOC / DOCS ``documentation``; MODEL / WEIGHTS ``weights``;
  - every other statement (unqualified licence files at any depth, the card, GGUF and
    safetensors metadata, configs) covers the ``weights``.
Among the weights licences the shipped text outranks the labels: a card id that the licence
text contradicts is reported (PCL-LIC-010) and does not govern; licences named only in the
card's prose or gated prompt govern only when no text or label disagrees. ``primary`` is
the governing weights licence of highest rank: a MODEL-qualified file, another licence file, card
``license_name``, card ``license``, GGUF, safetensors, config, gated prompt, card section.
Obligations: the duties of every governing weights licence, of the use policies they
incorporate or the folder ships, and of the base models' licences, which flow down.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pellucid.licensing import rules
from pellucid.licensing.derivatives import BaseLicense, base_licenses, check_derivative
from pellucid.licensing.knowledge import LicenseEntry, by_id, lookup
from pellucid.licensing.resolve import FoundLicense, Resolved, resolve
from pellucid.licensing.sources import LicenseEvidence, collect
from pellucid.model import Evidence, Finding
from pellucid.modelfiles import ModelFiles

SCOPES = ("weights", "code", "data", "documentation")
FAMILY_IDS = frozenset({"gemma", "openrail", "gpl", "lgpl", "bsd", "cc", "gfdl"})
_CLAIMS = ("card:license", "card:license_name", "safetensors:metadata", "config:license")
_WEAK = ("readme:section", "card:extra_gated_prompt")
_RANK = (
    "file:MODEL",
    "file:LICENSE",
    "card:license_name",
    "card:license",
    "gguf:",
    "safetensors:metadata",
    "config:license",
    "card:extra_gated_prompt",
    "readme:section",
)


@dataclass(frozen=True, slots=True)
class Obligation:
    text: str
    license: str


@dataclass(frozen=True, slots=True)
class LicenseAssessment:
    licenses: tuple[FoundLicense, ...]
    findings: tuple[Finding, ...]
    obligations_must: tuple[Obligation, ...]
    obligations_must_not: tuple[Obligation, ...]
    scopes: Mapping[str, tuple[str, ...]]
    primary: str | None
    bases: tuple[BaseLicense, ...] = ()
    contradicted: tuple[FoundLicense, ...] = field(default=())

    @property
    def primary_entry(self) -> LicenseEntry | None:
        return by_id(self.primary) if self.primary else None


def assess(model: ModelFiles) -> LicenseAssessment:
    """Collect, identify and reconcile the licence statements of ``model``."""
    evidence = collect(model)
    resolved = resolve(evidence)
    found = resolved.found
    findings = _problems(evidence) + resolved.findings
    contradicted, conflict = _reconcile(found)
    findings += conflict
    governing = [f for f in found if f not in contradicted and _is_license(f)]
    scopes = {s: tuple(sorted({f.id for f in governing if f.scope == s})) for s in SCOPES}
    findings += _scope_differences(governing, scopes)
    primary = _primary(governing)
    bases = base_licenses(evidence.bases)
    own = by_id(primary) if primary else None
    findings += check_derivative(model, evidence, own, bases)
    if primary is None and not any(f.scope == "weights" for f in found):
        findings += _no_license(model, evidence, resolved)
    # policies shipped for the weights (USE_POLICY.md) bind like the ones licences incorporate
    policies = [f.id for f in found if f.scope == "weights" and not _is_license(f)]
    weights = [f.id for f in governing if f.scope == "weights"]
    must, must_not = obligations([*weights, *policies], primary, bases)
    return LicenseAssessment(
        licenses=tuple(sorted(found, key=_order)),
        findings=tuple(findings),
        obligations_must=must,
        obligations_must_not=must_not,
        scopes=scopes,
        primary=primary,
        bases=tuple(bases),
        contradicted=tuple(contradicted),
    )


def _is_license(found: FoundLicense) -> bool:
    entry = by_id(found.id)
    return entry is not None and entry.kind != "policy"


def _problems(evidence: LicenseEvidence) -> list[Finding]:
    findings = []
    for problem in evidence.problems:
        where = Evidence(problem.file, line=problem.line, snippet=problem.detail[:200])
        rule = rules.CARD_YAML_BROKEN if problem.kind == "card-yaml" else rules.FILE_UNREADABLE
        findings.append(rule.finding(where, problem.detail))
    return findings


def _entry(found: FoundLicense) -> LicenseEntry | None:
    return by_id(found.id)


def consistent(claim: LicenseEntry, text: LicenseEntry) -> bool:
    """Same licence, or a family id that names no version (the Hub's ``gemma``,
    ``openrail``, ``gpl``, ``bsd``) over one member of that family."""
    if claim.id == text.id:
        return True
    family_ids = [h for h in claim.hf_ids if h in FAMILY_IDS]
    return claim.family == text.family and any(h in text.id for h in family_ids)


def _reconcile(found: Sequence[FoundLicense]) -> tuple[list[FoundLicense], list[Finding]]:
    """Card and metadata ids against the licence texts of the weights; among themselves
    when no text is there."""
    weights = [f for f in found if f.scope == "weights" and _is_license(f)]
    texts = [f for f in weights if f.source == "file:LICENSE"]
    claims = [f for f in weights if f.source in _CLAIMS or f.source.startswith("gguf:")]
    contradicted, findings = _weak(weights, [*texts, *claims]), []
    if texts:
        text_entries = [e for e in map(_entry, texts) if e is not None]
        for claim in claims:
            entry = _entry(claim)
            if entry is None or any(consistent(entry, t) for t in text_entries):
                continue
            contradicted.append(claim)
            findings.append(_contradiction(claim, texts[0]))
        return contradicted, findings
    reported: set[frozenset[str]] = set()
    for first, claim in itertools.combinations(claims, 2):
        a, b = _entry(first), _entry(claim)
        if a is None or b is None or consistent(a, b) or consistent(b, a):
            continue
        if frozenset((a.id, b.id)) not in reported:
            reported.add(frozenset((a.id, b.id)))
            where = Evidence(claim.file, line=claim.line, snippet=f"{claim.source}: {claim.name}")
            detail = f"{first.source} in {first.file} says {a.id}; {claim.source} says {b.id}"
            findings.append(rules.STATEMENTS_DISAGREE.finding(where, detail))
    return contradicted, findings


def _weak(weights: Sequence[FoundLicense], strong: Sequence[FoundLicense]) -> list[FoundLicense]:
    """Licences read from the card's prose or gated prompt govern only when nothing stronger
    speaks, or when they agree with it: prose often names several licences in passing."""
    strong_entries = [e for e in map(_entry, strong) if e is not None]
    if not strong_entries:
        return []
    return [
        f
        for f in weights
        if f.source in _WEAK
        and not any((e := _entry(f)) and consistent(e, s) for s in strong_entries)
    ]


def _contradiction(claim: FoundLicense, text: FoundLicense) -> Finding:
    where = Evidence(claim.file, line=claim.line, snippet=f"{claim.source}: {claim.name}"[:200])
    detail = (
        f"{claim.source} declares {claim.id}, but {text.file} is the text of {text.id}; "
        f"the text governs"
    )
    return rules.CARD_CONTRADICTS_TEXT.finding(where, detail)


def _scope_differences(
    governing: Sequence[FoundLicense], scopes: Mapping[str, tuple[str, ...]]
) -> list[Finding]:
    weights = set(scopes["weights"])
    findings = []
    for scope in SCOPES[1:]:
        others = set(scopes[scope]) - weights
        if weights and others:
            first = next(f for f in governing if f.scope == scope and f.id in others)
            where = Evidence(first.file, line=first.line, snippet=f"{scope}: {first.id}")
            detail = (
                f"{scope} is under {', '.join(sorted(others))}; the weights are under "
                f"{', '.join(sorted(weights))}"
            )
            findings.append(rules.SCOPES_DIFFER.finding(where, detail))
    return findings


def _rank(found: FoundLicense) -> int:
    source = found.source
    words = set(re.split(r"[^A-Z]+", found.rel.upper()))
    if source == "file:LICENSE" and words & {"MODEL", "MODELS", "WEIGHTS"}:
        source = "file:MODEL"
    return next((i for i, prefix in enumerate(_RANK) if source.startswith(prefix)), len(_RANK))


def _primary(governing: Sequence[FoundLicense]) -> str | None:
    weights = [f for f in governing if f.scope == "weights"]
    if not weights:
        return None
    return min(weights, key=lambda f: (_rank(f), -f.score, f.file, f.line or 0)).id


def _no_license(model: ModelFiles, evidence: LicenseEvidence, resolved: Resolved) -> list[Finding]:
    if resolved.unrecognised or any(p.kind == "unreadable" for p in evidence.problems):
        return []  # already reported as unknown, which is not the same as absent
    where = Evidence(model.root, snippet="no licence statement in card, files or metadata")
    return [rules.NO_LICENSE.finding(where, "no licence found for the weights")]


def obligations(
    ids: Sequence[str], primary: str | None, bases: Sequence[BaseLicense]
) -> tuple[tuple[Obligation, ...], tuple[Obligation, ...]]:
    """The union of duties of the governing licences, their use policies and the bases'
    licences (which flow down), each tagged with its licence, first mention kept."""
    order = [primary] if primary else []
    order += [i for i in ids if i != primary]
    order += [b.entry.id for b in bases if b.entry is not None]
    entries: list[LicenseEntry] = []
    for license_id in order:
        entry = by_id(license_id) or lookup(license_id)
        if entry is None or entry in entries:
            continue
        entries.append(entry)
        policy = by_id(entry.policy) if entry.policy else None
        if policy is not None and policy not in entries:
            entries.append(policy)
    must: dict[str, Obligation] = {}
    must_not: dict[str, Obligation] = {}
    for entry in entries:
        for text in entry.must:
            must.setdefault(text.casefold(), Obligation(text, entry.id))
        for text in entry.must_not:
            must_not.setdefault(text.casefold(), Obligation(text, entry.id))
    return tuple(must.values()), tuple(must_not.values())


def _order(found: FoundLicense) -> tuple[str, int, str, int, str]:
    return (found.scope, _rank(found), found.file, found.line or 0, found.id)
