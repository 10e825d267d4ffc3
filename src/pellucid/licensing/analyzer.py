"""The licence section of a model's report: ``LicenseAnalyzer`` (analysis id "license").

It runs the assessment (``assess.assess``) and turns it into JSON-ready data: the licences
found with their sources and spans, the primary licence of the weights and its terms, the
licences per part of the model, and the obligations in plain words. This is an assessment
from the files, not legal advice.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import ClassVar

from pellucid.licensing.assess import LicenseAssessment, Obligation, assess
from pellucid.licensing.knowledge import by_id, kb_version
from pellucid.licensing.resolve import FoundLicense
from pellucid.licensing.rules import LICENSE_RULES
from pellucid.model import JsonValue, Rule
from pellucid.modelanalysis import SectionResult
from pellucid.modelfiles import ModelFiles


class LicenseAnalyzer:
    """Which licences govern a model folder, what they require and what contradicts them."""

    id: ClassVar[str] = "license"
    rules: ClassVar[Sequence[Rule]] = LICENSE_RULES

    def analyze(self, model: ModelFiles, earlier: Mapping[str, SectionResult]) -> SectionResult:
        assessment = assess(model)
        return SectionResult(
            data=to_data(assessment), findings=assessment.findings, value=assessment
        )


def to_data(assessment: LicenseAssessment) -> dict[str, JsonValue]:
    """The section data: exactly licenses, primary, scopes, obligations, terms, kb_version."""
    entry = by_id(assessment.primary) if assessment.primary else None
    terms = dataclasses.asdict(entry.terms) if entry is not None else None
    return {
        "licenses": [_license(found) for found in assessment.licenses],
        "primary": assessment.primary,
        "scopes": {scope: list(ids) for scope, ids in sorted(assessment.scopes.items())},
        "obligations": {
            "must": _obligations(assessment.obligations_must),
            "must_not": _obligations(assessment.obligations_must_not),
        },
        "terms": terms,
        "kb_version": kb_version(),
    }


def _license(found: FoundLicense) -> dict[str, JsonValue]:
    return {
        "id": found.id,
        "spdx_id": found.spdx_id,
        "source": found.source,
        "score": found.score,
        "span": list(found.span) if found.span is not None else None,
        "file": found.file,
        "line": found.line,
        "scope": found.scope,
        "modified": found.modified,
        "name": found.name,
    }


def _obligations(items: Sequence[Obligation]) -> list[dict[str, JsonValue]]:
    return [{"text": item.text, "license": item.license} for item in items]
