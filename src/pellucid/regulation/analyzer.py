"""The EU AI Act assessment of a general-purpose AI model, from its folder alone.

Reads the model card, config files and the licence and resources analyses (see
``pellucid.regulation.facts`` for the fields relied on), then reports Annex XI and Annex XII
item by item, the Code of Practice Model Documentation Form, the public training-content
summary, the Art. 53(2) open-source exemption with the Art. 51(2) compute presumption, and
the dates that apply. An automated assessment of what the folder states, not legal advice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pellucid.model import Confidence, Evidence, Finding, Rule, Severity
from pellucid.modelanalysis import SectionResult
from pellucid.modelfiles import ModelFiles
from pellucid.regulation.annexes import checklist, counts, knowledge, missing
from pellucid.regulation.code_of_practice import (
    Summary,
    documentation_form,
    find_summary,
    training_summary,
)
from pellucid.regulation.evidence import Folder
from pellucid.regulation.exemption import (
    DISCLAIMER,
    Exemption,
    art53_foss,
    as_json,
    assess_exemption,
    estimate_compute,
)
from pellucid.regulation.facts import gather, license_id, parameter_count

EUR_LEX = "https://eur-lex.europa.eu/eli/reg/2024/1689/oj"
TEMPLATE = (
    "https://digital-strategy.ec.europa.eu/en/library/"
    "explanatory-notice-and-template-public-summary-training-content-general-purpose-ai-models"
)
GPAI_INDICATIVE_FLOP = 1e23  # Commission GPAI guidelines (18 July 2025), indicative criterion

DOWNSTREAM_INFO_MISSING = Rule(
    id="PCL-EUA-001",
    title="Annex XII information for downstream providers missing",
    severity=Severity.LOW,
    cwe=None,
    description=(
        "Providers of general-purpose AI models must give the providers who build on them the "
        "information listed in Annex XII (Art. 53(1)(b)): intended tasks, acceptable use, "
        "architecture and size, modalities and context length, licence, integration means "
        "and training data. The model folder shows no trace of some of these items, so a "
        "downstream integrator cannot meet its own obligations from what ships with the model."
    ),
    remediation=(
        "Add the missing items to the model card (or documents shipped beside it), or obtain "
        "them from the provider before integrating the model."
    ),
    references=(EUR_LEX,),
    confidence=Confidence.MEDIUM,
)
SYSTEMIC_RISK_PRESUMED = Rule(
    id="PCL-EUA-002",
    title="Training compute above 10^25 FLOP: systemic risk presumed (Art. 51(2))",
    severity=Severity.MEDIUM,
    cwe=None,
    description=(
        "The training compute stated in the card, or estimated as 6 x parameters x training "
        "tokens, exceeds 10^25 FLOP. Such a model is presumed to have high-impact capabilities "
        "and hence systemic risk: the open-source exemption of Art. 53(2) does not apply, the "
        "provider must notify the Commission (Art. 52(1)) and meets the Art. 55 duties "
        "(evaluation, adversarial testing, incident reporting, cybersecurity)."
    ),
    remediation=(
        "Check the compute figure against the provider's documentation; treat the model as a "
        "GPAI model with systemic risk unless the provider shows otherwise."
    ),
    references=(EUR_LEX,),
    confidence=Confidence.MEDIUM,
)
TECHNICAL_DOCS_MISSING = Rule(
    id="PCL-EUA-003",
    title="Annex XI technical documentation not evidenced in the folder",
    severity=Severity.INFO,
    cwe=None,
    description=(
        "Annex XI lists the technical documentation a provider keeps for the AI Office "
        "(Art. 53(1)(a)). It need not be public, but when the folder shows nothing for an "
        "item (training process, data, compute, energy), auditors and integrators cannot "
        "check it either. Section 2 items are listed only for models presumed systemic."
    ),
    remediation="Ask the provider for the Annex XI documentation of the listed items.",
    references=(EUR_LEX,),
    confidence=Confidence.MEDIUM,
)
NO_TRAINING_SUMMARY = Rule(
    id="PCL-EUA-004",
    title="No public summary of training content (Art. 53(1)(d))",
    severity=Severity.LOW,
    cwe=None,
    description=(
        "Every provider of a general-purpose AI model, open-source or not, must publish a "
        "sufficiently detailed summary of the content used for training, following the AI "
        "Office template. No such summary is in the folder or the model card; the headings "
        "of the template that the card covers elsewhere are listed in the report."
    ),
    remediation=(
        "Publish the training-content summary with the model, following the AI Office template."
    ),
    references=(EUR_LEX, TEMPLATE),
    confidence=Confidence.MEDIUM,
)
NOT_EXEMPT = Rule(
    id="PCL-EUA-005",
    title="Art. 53(2) open-source exemption does not apply",
    severity=Severity.INFO,
    cwe=None,
    description=(
        "At least one condition of the Art. 53(2) open-source exemption fails (licence, "
        "publicity of weights and information, or systemic risk). The provider then owes the "
        "full Annex XI technical documentation and the Annex XII downstream information, and, "
        "outside the Union, an authorised representative (Art. 54)."
    ),
    remediation="Expect and request the full Art. 53(1) documentation from the provider.",
    references=(EUR_LEX,),
    confidence=Confidence.MEDIUM,
)


@dataclass(frozen=True, slots=True)
class RegulationAssessment:
    """The typed result, for analyses that run later."""

    exemption: Exemption
    annex_xi: Mapping[str, int]
    annex_xii: Mapping[str, int]
    training_summary_present: bool


class RegulationAnalyzer:
    """EU AI Act (Regulation (EU) 2024/1689) documentation and exemption assessment."""

    id: ClassVar[str] = "regulation"
    rules: ClassVar[Sequence[Rule]] = (
        DOWNSTREAM_INFO_MISSING,
        SYSTEMIC_RISK_PRESUMED,
        TECHNICAL_DOCS_MISSING,
        NO_TRAINING_SUMMARY,
        NOT_EXEMPT,
    )

    def analyze(self, model: ModelFiles, earlier: Mapping[str, SectionResult]) -> SectionResult:
        folder = gather(model, earlier)
        return assess(folder, earlier, find_summary(model, folder))


def assess(
    folder: Folder, earlier: Mapping[str, SectionResult], summary: Summary | None = None
) -> SectionResult:
    """The whole assessment of a gathered folder (``summary`` from ``find_summary``)."""
    licence = license_id(earlier)
    fallback = _terms_fallback(earlier)
    compute = estimate_compute(parameter_count(earlier), folder.tokens, folder.stated_flop)
    exemption = assess_exemption(folder, licence, art53_foss(licence, fallback), compute)
    annex_xi = checklist(folder, "annex_xi")
    annex_xii = checklist(folder, "annex_xii")
    summary_data = training_summary(folder, summary)
    card = folder.card
    data = {
        "annex_xi": annex_xi,
        "annex_xii": annex_xii,
        "code_of_practice": documentation_form(folder),
        "training_summary": summary_data,
        "art53_2": as_json(exemption),
        "dates": [dict(d) for d in knowledge()["dates"]],
        "counts": {"annex_xi": counts(annex_xi), "annex_xii": counts(annex_xii)},
        "gpai_indication": _gpai_indication(compute.flop),
        "card": None
        if card is None
        else {"path": card.path, "metadata_error": card.metadata_error},
        "disclaimer": DISCLAIMER,
    }
    value = RegulationAssessment(
        exemption, counts(annex_xi), counts(annex_xii), summary_data["present"]
    )
    findings = _findings(folder, exemption, annex_xi, annex_xii, summary_data)
    return SectionResult(data, tuple(findings), value)


def _terms_fallback(earlier: Mapping[str, SectionResult]) -> Any:
    result = earlier.get("license")
    if result is None:
        return None
    terms = getattr(result.value, "terms", None)
    answer = getattr(terms, "art53_foss", None)
    if answer is None and isinstance(result.data, Mapping):
        data_terms = result.data.get("terms")
        answer = data_terms.get("art53_foss") if isinstance(data_terms, Mapping) else None
    return answer


def _gpai_indication(flop: float | None) -> dict[str, Any]:
    if flop is None:
        verdict = "undetermined"
    elif flop > GPAI_INDICATIVE_FLOP:
        verdict = "above the indicative criterion"
    else:
        verdict = "below the indicative criterion"
    return {
        "verdict": verdict,
        "threshold_flop": GPAI_INDICATIVE_FLOP,
        "text": "The checklists assume a general-purpose AI model (Art. 3(63)); the "
        "Commission's guidelines of 18 July 2025 use training compute above 10^23 FLOP as an "
        "indicative criterion.",
    }


def _findings(
    folder: Folder,
    exemption: Exemption,
    annex_xi: list[dict[str, Any]],
    annex_xii: list[dict[str, Any]],
    summary: dict[str, Any],
) -> list[Finding]:
    where = folder.card.path if folder.card is not None else folder.root
    flop = exemption.compute.flop
    # Below the indicative GPAI criterion the model may not be a GPAI model at all: hygiene.
    small = flop is not None and flop <= GPAI_INDICATIVE_FLOP
    findings = []
    gaps = missing(annex_xii)
    if gaps:
        severity = Severity.INFO if small or len(gaps) * 2 < len(annex_xii) else None
        findings.append(_listing(DOWNSTREAM_INFO_MISSING, where, gaps, severity))
    if exemption.systemic_risk_presumed:
        findings.append(_systemic(exemption, where))
    systemic = exemption.systemic_risk_presumed
    docs = [i for i in missing(annex_xi) if systemic or i.get("scope") == "all"]
    if docs:
        findings.append(_listing(TECHNICAL_DOCS_MISSING, where, docs, None))
    if not summary["present"]:
        covered = [h["id"] for h in summary["headings"] if h["status"] != "missing"]
        detail = f"Template headings covered elsewhere in the card: {', '.join(covered) or 'none'}."
        evidence = Evidence(where, snippet="no training-content summary")
        findings.append(
            NO_TRAINING_SUMMARY.finding(evidence, detail, severity=Severity.INFO if small else None)
        )
    if exemption.verdict == "does not apply":
        failed = [r for r in exemption.reasons if r["status"] == "not met"]
        detail = " ".join(f"{r['text']} ({r['reference']})" for r in failed) + f" {DISCLAIMER}"
        evidence = Evidence(where, snippet="; ".join(r["condition"] for r in failed))
        findings.append(NOT_EXEMPT.finding(evidence, detail))
    return findings


def _systemic(exemption: Exemption, where: str) -> Finding:
    compute = exemption.compute
    hit = compute.evidence
    evidence = (
        Evidence(hit.file, line=hit.line, snippet=hit.text) if hit is not None else Evidence(where)
    )
    detail = f"{compute.flop or 0.0:.2e} FLOP ({compute.method}) > 1e25 FLOP. {DISCLAIMER}"
    return SYSTEMIC_RISK_PRESUMED.finding(evidence, detail)


def _listing(
    rule: Rule, where: str, items: list[dict[str, Any]], severity: Severity | None
) -> Finding:
    listed = "; ".join(f"{i['reference']}: {i['item']}" for i in items)
    snippet = ", ".join(i["reference"] for i in items)
    return rule.finding(Evidence(where, snippet=snippet[:200]), listed, severity=severity)
