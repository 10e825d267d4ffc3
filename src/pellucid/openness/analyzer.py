"""The openness analysis of a model folder: MOF class, OSAID 1.0, OSAI Index, and a MOT record.

It runs after the licence analysis and reads its scopes (which licence covers the weights, the
code, the data, the documentation); without one, every licence is unknown.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pellucid.formats.modelcard import ModelCard, find_card
from pellucid.model import Confidence, Evidence, Finding, Rule, Severity
from pellucid.modelanalysis import SectionResult
from pellucid.modelfiles import ModelFiles
from pellucid.openness.card_clues import REFERENCED
from pellucid.openness.components import InventoryItem, LicenseScopes, inventory, scopes_from
from pellucid.openness.mof import MofResult, evaluate
from pellucid.openness.mot import to_mot_record
from pellucid.openness.osai_index import assess_index
from pellucid.openness.osaid import assess_osaid, is_osi_approved

DISCLAIMER = (
    "Automated assessment from the files of the folder, not legal advice. MOF classes follow the "
    "Model Openness Tool's algorithm; OSAID and OSAI Index results say what the folder shows "
    "and leave undetermined what it cannot."
)
OSAID_URL = "https://opensource.org/ai/open-source-ai-definition"
MOF_REFS = ("https://arxiv.org/abs/2403.13784", "https://mot.isitopen.ai/")
_CLAIM = re.compile(r"\bopen[- ]?source\b", re.IGNORECASE)
_DENIAL = re.compile(r"\bnot\b.{0,20}open[- ]?source|\bisn't\b", re.IGNORECASE)

CLAIM_NO_CLASS = Rule(
    id="PCL-OPN-001",
    title="Card calls the model open source but it meets no MOF class",
    severity=Severity.INFO,
    cwe=None,
    description=(
        "The model card describes the model as open source, yet the components and licences in "
        "the folder do not reach even Class III (Open Model) of the Model Openness Framework. "
        "Readers may take 'open source' to mean more than the release delivers."
    ),
    remediation=(
        "Check the unmet MOF requirements listed in the openness section; either publish the "
        "missing components under open licences or describe the release as open weights."
    ),
    references=MOF_REFS,
    confidence=Confidence.MEDIUM,
)
CLAIM_NOT_OSI = Rule(
    id="PCL-OPN-002",
    title="Card calls the model open source under a licence that is not OSI-approved",
    severity=Severity.MEDIUM,
    cwe=None,
    description=(
        "The model card says 'open source' while the licence of the weights is not an "
        "OSI-approved licence (or none was found). The OSI Open Source AI Definition requires "
        "freedom to use, study, modify and share for any purpose; licences with use "
        "restrictions or non-commercial terms do not give it, whatever the card says."
    ),
    remediation=(
        "Read the licence before relying on the 'open source' wording: check field-of-use and "
        "commercial restrictions, and treat the model as source-available if they apply."
    ),
    references=(OSAID_URL, "https://doi.org/10.1145/3630106.3659005"),
    confidence=Confidence.MEDIUM,
)


@dataclass(frozen=True, slots=True)
class OpennessAssessment:
    """The typed result, for the analyses that run after this one."""

    components: tuple[InventoryItem, ...]
    mof: MofResult
    osaid: Mapping[str, Any]
    osai_index: Mapping[str, Any]


class OpennessAnalyzer:
    """MOF class (as MOT computes it), OSAID 1.0 and OSAI Index dimensions of a folder."""

    id: ClassVar[str] = "openness"
    rules: ClassVar[Sequence[Rule]] = (CLAIM_NO_CLASS, CLAIM_NOT_OSI)

    def analyze(self, model: ModelFiles, earlier: Mapping[str, SectionResult]) -> SectionResult:
        card = find_card(model)
        prior = earlier.get("license")
        scopes = scopes_from(prior.value if prior is not None else None, _to_spdx)
        items = inventory(model, card, scopes)
        present = {i.cid: i.license for i in items if i.status != "absent"}
        mof = evaluate(present)
        osaid = assess_osaid(items, scopes)
        index = assess_index(items, scopes, card)
        components = [item.to_json() for item in items]
        data = {
            "components": components,
            "mof": {**mof.to_json(), "unmet": _folder_reasons(mof, items)},
            "osaid": osaid,
            "osai_index": index,
            "mot_record": to_mot_record(
                _record_entries(model, components),
                name=_model_name(model, card),
                distribution=scopes.primary,
            ),
            "disclaimer": DISCLAIMER,
        }
        findings = _claim_findings(card, mof, scopes)
        value = OpennessAssessment(items, mof, osaid, index)
        return SectionResult(data=data, findings=tuple(findings), value=value)


def _record_entries(model: ModelFiles, components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Inventory entries for a MOT record: paths relative to the folder, evidence as text."""
    prefix = model.root.rstrip("/") + "/"
    entries = []
    for item in components:
        path = item["path"]
        snippets = [str(e["snippet"]) for e in item["evidence"][:2]]
        entries.append(
            {
                **item,
                "path": path[len(prefix) :] if path and path.startswith(prefix) else path,
                "description": f"{item['status']} (pellucid): " + "; ".join(snippets),
            }
        )
    return entries


def _folder_reasons(mof: MofResult, items: Sequence[InventoryItem]) -> list[str]:
    """MOT's reasons, reworded where a component is only referenced from the folder."""
    referenced = {i.name for i in items if i.status == REFERENCED}
    reasons = []
    for reason in mof.unmet:
        name = reason.split(": ", 1)[-1].removesuffix(" is included without a licence")
        if name in referenced and reason.endswith("without a licence"):
            reason = reason.replace(
                "is included without a licence",
                "is only referenced from the folder, under terms the folder does not state",
            )
        reasons.append(reason)
    return reasons


def _claim_findings(card: ModelCard | None, mof: MofResult, scopes: LicenseScopes) -> list[Finding]:
    claim = _open_source_claim(card)
    if card is None or claim is None:
        return []
    line, text = claim
    evidence = Evidence(card.path, line=line, snippet=text[:200])
    findings = []
    if mof.mof_class is None:
        detail = f"MOF completeness {mof.completeness}; first unmet: {mof.unmet[0]}"
        findings.append(CLAIM_NO_CLASS.finding(evidence, detail))
    weights = scopes.for_component(10)
    if weights is None:
        detail = "no licence was identified for the weights"
        findings.append(CLAIM_NOT_OSI.finding(evidence, detail, severity=Severity.LOW))
    elif not is_osi_approved(weights):
        detail = f"the weights are under '{weights}', which is not OSI-approved"
        findings.append(CLAIM_NOT_OSI.finding(evidence, detail))
    return findings


def _open_source_claim(card: ModelCard | None) -> tuple[int, str] | None:
    if card is None:
        return None
    for number, line in enumerate(card.lines, 1):
        if _CLAIM.search(line) and not _DENIAL.search(line):
            return number, line.strip()
    return None


def _model_name(model: ModelFiles, card: ModelCard | None) -> str:
    meta = card.metadata if card else {}
    index = meta.get("model-index")
    if isinstance(index, list) and index and isinstance(index[0], dict):
        name = index[0].get("name")
        if isinstance(name, str) and name.strip():
            return name.strip()
    for key in ("model_name", "model_id"):
        if isinstance(meta.get(key), str) and meta[key].strip():
            return str(meta[key]).strip()
    return posixpath.basename(model.root.rstrip("/")) or "model"


def _to_spdx(license_id: str) -> str:
    """The SPDX id of a licence known to the licence knowledge base; else the id itself."""
    from pellucid.licensing.knowledge import by_id

    profile = by_id(license_id)
    spdx = getattr(profile, "spdx_id", None)
    return spdx if isinstance(spdx, str) and spdx else license_id
