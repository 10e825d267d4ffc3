"""Model Openness Framework (MOF 1.0) classes, computed the way the Model Openness Tool does.

The Model Openness Tool (MOT, lfai/model_openness_tool, ``ModelEvaluator.php`` and
``LicenseHandler.php``) is the reference implementation of the MOF. pellucid reproduces its
arithmetic exactly, quirks included, so that a class shown here matches the class the tool shows
for the same components and licences:

* a component counts for a class only when it is included with an *open* licence: an exact
  SPDX id that is OSI-approved or FSF-libre in MOT's licence list, one of its open-data ids,
  or OpenMDW-1.0. Ids are compared exactly, so "Apache 2.0" or "mit" are not open;
* an open licence that is not listed for the component's content type still counts, with a
  warning;
* progress for a class is 0 unless every lower class is fully met; classes are cumulative;
* the technical report may be left out when a research paper is included (the paper then
  stands in for it in classes II and III, and class I needs one component fewer);
* optional components (sample outputs, supporting libraries, model metadata) never count.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

from pellucid.data import load_json

CODE, DATA, DOCUMENT = "code", "data", "document"
ROMAN = {1: "I", 2: "II", 3: "III"}
TECHNICAL_REPORT, RESEARCH_PAPER = 11, 21


@dataclass(frozen=True, slots=True)
class MofComponent:
    """One of the 17 MOF components (ids and types from MOT's ``mof.settings.yml``)."""

    cid: int
    name: str
    content_type: str
    mof_class: int
    required: bool


COMPONENTS: tuple[MofComponent, ...] = (
    MofComponent(9, "Model architecture", CODE, 3, True),
    MofComponent(10, "Model parameters (Final)", DATA, 3, True),
    MofComponent(13, "Model card", DOCUMENT, 3, True),
    MofComponent(14, "Data card", DOCUMENT, 3, True),
    MofComponent(11, "Technical report", DOCUMENT, 3, True),
    MofComponent(12, "Evaluation results", DOCUMENT, 3, True),
    MofComponent(20, "Sample model outputs", DOCUMENT, 3, False),
    MofComponent(7, "Training code", CODE, 2, True),
    MofComponent(8, "Inference code", CODE, 2, True),
    MofComponent(18, "Evaluation code", CODE, 2, True),
    MofComponent(19, "Evaluation data", DATA, 2, True),
    MofComponent(22, "Supporting libraries and tools", CODE, 2, False),
    MofComponent(15, "Datasets", DATA, 1, True),
    MofComponent(16, "Data preprocessing code", CODE, 1, True),
    MofComponent(24, "Model parameters (Intermediate)", DATA, 1, True),
    MofComponent(21, "Research paper", DOCUMENT, 1, True),
    MofComponent(17, "Model metadata", DATA, 1, False),
)
BY_ID = {c.cid: c for c in COMPONENTS}
BY_NAME = {c.name: c for c in COMPONENTS}


def required(mof_class: int) -> list[int]:
    return [c.cid for c in COMPONENTS if c.mof_class == mof_class and c.required]


def optional(mof_class: int) -> list[int]:
    return [c.cid for c in COMPONENTS if c.mof_class == mof_class and not c.required]


@dataclass(frozen=True, slots=True)
class _LicenseFacts:
    open_ids: frozenset[str]
    types: Mapping[str, frozenset[str]]


@cache
def _facts() -> _LicenseFacts:
    spdx = load_json("spdx_open_licenses.json")
    open_ids = frozenset(
        spdx["osi_approved"] + spdx["fsf_libre"] + spdx["open_data"] + spdx["open_extra"]
    )
    types: dict[str, frozenset[str]] = {}
    for entry in load_json("mof_licenses.json")["licenses"]:
        kinds = entry["ContentType"]
        # MOT imports the list in order and a later entry replaces an earlier one
        types[entry["licenseId"]] = frozenset([kinds] if isinstance(kinds, str) else kinds)
    return _LicenseFacts(open_ids, types)


def is_open(license_id: str) -> bool:
    """Whether MOT counts ``license_id`` as an open licence (exact, case-sensitive id)."""
    return license_id in _facts().open_ids


def is_type_appropriate(license_id: str, content_type: str) -> bool:
    """Whether MOT lists ``license_id`` for components of ``content_type``."""
    return content_type in _facts().types.get(license_id, frozenset())


@dataclass(slots=True)
class ClassEvaluation:
    """MOT's per-class buckets (cumulative: class 2 holds the components of classes 3 and 2)."""

    included: list[int] = field(default_factory=list)
    invalid: list[int] = field(default_factory=list)
    unlicensed: list[int] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)
    optional: list[int] = field(default_factory=list)
    licenses: dict[int, str] = field(default_factory=dict)

    def status(self, cid: int) -> str | None:
        for name in ("included", "invalid", "unlicensed"):
            if cid in getattr(self, name):
                return name
        return None


@dataclass(frozen=True, slots=True)
class MofResult:
    """The MOF class and progress of a model, with the reason for each unmet requirement."""

    mof_class: str | None  # "I", "II", "III" or None
    progress: Mapping[str, float]  # exact percentages by class, as MOT computes them
    unmet: tuple[str, ...]
    warnings: tuple[str, ...]
    licenses: Mapping[int, str | None]  # the resolved licence of each included component

    @property
    def completeness(self) -> dict[str, int]:
        """Progress as MOT's badges show it: PHP ``round()``, half away from zero."""
        return {k: math.floor(v + 0.5) for k, v in self.progress.items()}

    def to_json(self) -> dict[str, object]:
        return {
            "class": self.mof_class,
            "completeness": self.completeness,
            "unmet": list(self.unmet),
            "warnings": list(self.warnings),
        }

    def summary(self) -> str:
        shown = f"Class {self.mof_class}" if self.mof_class else "none"
        parts = ", ".join(f"{k}: {v}%" for k, v in self.completeness.items())
        lines = [f"MOF class: {shown}  completeness: {parts}"]
        lines += [f"  unmet: {reason}" for reason in self.unmet]
        lines += [f"  warning: {text}" for text in self.warnings]
        return "\n".join(lines)


def evaluate(licenses: Mapping[int, str | None]) -> MofResult:
    """Score included components: ``licenses`` maps each included component id to its resolved
    licence id, or None when it is included without a licence."""
    evals, not_type_appropriate = _evaluate(licenses)
    progress = {ROMAN[k]: _progress(evals, k) for k in (3, 2, 1)}
    reached = None
    for k in (3, 2, 1):
        if progress[ROMAN[k]] == 100.0:
            reached = ROMAN[k]
    warnings = tuple(
        f"{BY_ID[cid].name} is under {evals[1].licenses.get(cid, '')}, an open licence that MOT "
        f"does not list for {BY_ID[cid].content_type} components (it counts, with a warning)"
        for cid in not_type_appropriate
    )
    return MofResult(reached, progress, _unmet(evals), warnings, dict(licenses))


def _evaluate(licenses: Mapping[int, str | None]) -> tuple[dict[int, ClassEvaluation], list[int]]:
    evals: dict[int, ClassEvaluation] = {}
    needed: list[int] = []
    extra: list[int] = []
    not_type_appropriate: list[int] = []
    for k in (3, 2, 1):
        needed = [*needed, *required(k)]
        extra = [*extra, *optional(k)]
        evals[k] = ClassEvaluation()
        _bucket(evals[k], needed, "included", licenses, not_type_appropriate)
        _bucket(evals[k], extra, "optional", licenses, not_type_appropriate)
    _technical_report_omission(evals)
    return evals, not_type_appropriate


def _bucket(
    evaluation: ClassEvaluation,
    components: list[int],
    status: str,
    licenses: Mapping[int, str | None],
    not_type_appropriate: list[int],
) -> None:
    for cid in components:
        if cid not in licenses:
            if status == "included":
                evaluation.missing.append(cid)
            continue
        license_id = licenses[cid] or "unlicensed"
        opened = is_open(license_id)
        if opened:
            getattr(evaluation, status).append(cid)
            fits = is_type_appropriate(license_id, BY_ID[cid].content_type)
            if not fits and cid not in not_type_appropriate:
                not_type_appropriate.append(cid)
        elif license_id == "unlicensed":
            evaluation.unlicensed.append(cid)
        else:
            evaluation.invalid.append(cid)
        evaluation.licenses[cid] = license_id


def _technical_report_omission(evals: dict[int, ClassEvaluation]) -> None:
    if evals[3].status(TECHNICAL_REPORT) == "included":
        return
    paper = evals[1].status(RESEARCH_PAPER)
    if paper is None:
        return
    for k in (1, 2, 3):
        if TECHNICAL_REPORT in evals[k].missing:
            evals[k].missing.remove(TECHNICAL_REPORT)
    license_id = evals[1].licenses.get(RESEARCH_PAPER, "")
    for k in (2, 3):
        getattr(evals[k], paper).append(RESEARCH_PAPER)
        evals[k].licenses[RESEARCH_PAPER] = license_id


def _progress(evals: dict[int, ClassEvaluation], mof_class: int) -> float:
    total = included = 0
    level = 3
    while level >= mof_class:
        total += len(required(level))
        included = len(evals[level].included)
        if included < total:  # this class is not met: stop here
            break
        level -= 1
    if level > mof_class:  # a lower class is not met
        return 0.0
    if (
        mof_class == 1
        and evals[1].status(TECHNICAL_REPORT) != "included"
        and evals[1].status(RESEARCH_PAPER) == "included"
    ):
        total -= 1
    return min(included / total * 100, 100.0)


def _unmet(evals: dict[int, ClassEvaluation]) -> tuple[str, ...]:
    full = evals[1]  # holds every required component of every class
    reasons = []
    for k in (3, 2, 1):
        for cid in required(k):
            name = f"Class {ROMAN[k]}: {BY_ID[cid].name}"
            if cid in full.missing:
                reasons.append(f"{name} is not included")
            elif cid in full.unlicensed:
                reasons.append(f"{name} is included without a licence")
            elif cid in full.invalid:
                reasons.append(
                    f"{name} is under '{full.licenses[cid]}', which MOT does not count as an "
                    "open licence (an exact SPDX id, OSI-approved, FSF-libre or open-data)"
                )
    return tuple(reasons)
