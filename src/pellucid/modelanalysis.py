"""The seam for whole-model analyses: licence, openness, EU AI Act, lineage, resources.

Each analysis is a ``ModelAnalyzer``: it reads a ``ModelFiles`` (and the results of the
analyses that ran before it) and returns a ``SectionResult``: JSON-ready data for the report's
section of that id, findings, and its typed result for later analyses. Analyzers are named in
one literal, ordered table and imported only when run.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from pellucid.model import Finding, JsonValue, Rule
from pellucid.modelfiles import ModelFiles


@dataclass(frozen=True, slots=True)
class SectionResult:
    """What one analysis found about one model."""

    data: JsonValue  # goes into AuditReport.sections[<analyzer id>][<model folder>]
    findings: tuple[Finding, ...] = ()
    value: Any = None  # the analyzer's own typed result, for the analyses after it


class ModelAnalyzer(Protocol):
    """A whole-model analysis. Pure: reads files, never executes or loads model content."""

    id: ClassVar[str]
    rules: ClassVar[Sequence[Rule]]

    def analyze(self, model: ModelFiles, earlier: Mapping[str, SectionResult]) -> SectionResult: ...


# Order matters: an analysis may read the results of those above it.
BUILTIN_MODEL_ANALYZERS: dict[str, str] = {
    "resources": "pellucid.provenance.resources:ResourceAnalyzer",
    "lineage": "pellucid.provenance.lineage:LineageAnalyzer",
    "license": "pellucid.licensing.analyzer:LicenseAnalyzer",
    "openness": "pellucid.openness.analyzer:OpennessAnalyzer",
    "regulation": "pellucid.regulation.analyzer:RegulationAnalyzer",
}


def load_analyzer(name: str) -> ModelAnalyzer:
    module, _, attr = BUILTIN_MODEL_ANALYZERS[name].partition(":")
    analyzer: ModelAnalyzer = getattr(importlib.import_module(module), attr)()  # safe: table
    return analyzer


def analyze_model(model: ModelFiles, until: str | None = None) -> dict[str, SectionResult]:
    """Run the built-in analyses in table order, all of them or up to and including ``until``
    (the analyses before it are what it may build on)."""
    order = list(BUILTIN_MODEL_ANALYZERS)
    last = order.index(until) if until is not None else len(order) - 1
    results: dict[str, SectionResult] = {}
    for name in order[: last + 1]:
        results[name] = load_analyzer(name).analyze(model, results)
    return results
