"""European Open Source AI Index (Liesenfeld & Dingemanse): the dimensions a folder can decide.

The Index judges each dimension open (1), partial (0.5) or closed (0) from public evidence.
From a folder alone some are decidable (weights present, a card, a licence), others only
partly (a dataset named by id may or may not be downloadable; a preprint may have a
peer-reviewed version). What cannot be decided is ``undetermined`` and left out of the score;
the coverage says how many of the 12 current dimensions were decided.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from pellucid.formats.modelcard import ModelCard
from pellucid.openness.card_clues import INCLUDED, REFERENCED, is_substantive
from pellucid.openness.components import InventoryItem, LicenseScopes
from pellucid.openness.osaid import is_osi_approved

OPEN, PARTIAL, CLOSED, UNDETERMINED = "open", "partial", "closed", "undetermined"
POINTS = {OPEN: 1.0, PARTIAL: 0.5, CLOSED: 0.0}
DIMENSIONS = (
    "datasources_basemodel",
    "datasources_endmodel",
    "weights_basemodel",
    "weights_endmodel",
    "trainingcode",
    "code",
    "hardware_architecture",
    "preprint",
    "paper",
    "modelcard",
    "datasheet",
    "licenses",
)
_PEER_REVIEWED = re.compile(r"doi\.org/|aclanthology\.org|openreview\.net|proceedings", re.I)
_ARCH_TITLES = ("architecture", "hardware", "compute", "infrastructure")
_CODE_DOC_TITLES = ("usage", "how to use", "training procedure", "getting started")


def assess_index(
    items: Sequence[InventoryItem], scopes: LicenseScopes, card: ModelCard | None
) -> dict[str, object]:
    """Each dimension with its class and reason, the Index-style score and the coverage."""
    by_id = {item.cid: item for item in items}
    meta: Mapping[str, object] = card.metadata if card else {}
    judged = _judge(by_id, scopes, card, meta)
    decided = {k: v for k, v in judged.items() if v[0] != UNDETERMINED}
    score = sum(POINTS[status] for status, _ in decided.values())
    return {
        "dimensions": {k: {"class": v[0], "reason": v[1]} for k, v in judged.items()},
        "score": score,
        "decided": len(decided),
        "coverage": f"{len(decided)} of {len(DIMENSIONS)} dimensions decidable offline",
        "not_assessed": ["package", "api"],  # legacy access dimensions: need the network
    }


def _judge(
    by_id: dict[int, InventoryItem],
    scopes: LicenseScopes,
    card: ModelCard | None,
    meta: Mapping[str, object],
) -> dict[str, tuple[str, str]]:
    silent = CLOSED if card else UNDETERMINED  # a card that says nothing vs no card at all
    base = meta.get("base_model")
    data = _datasources(by_id, silent)
    weights = _weights(by_id[10], meta)
    elsewhere = (UNDETERMINED, f"fine-tuned from {base}: its data and weights are elsewhere")
    judged = {
        "datasources_basemodel": elsewhere if base else data,
        "datasources_endmodel": data,
        "weights_basemodel": elsewhere if base else weights,
        "weights_endmodel": weights,
        "trainingcode": _by_status(by_id[7], "training code", silent),
        "code": _code_docs(by_id, card, silent),
        "hardware_architecture": _architecture(by_id[9], card, silent),
        "preprint": _preprint(by_id, silent),
        "paper": _paper(by_id),
        "modelcard": _modelcard(card),
        "datasheet": _datasheet(by_id[14], silent),
        "licenses": _licenses(scopes),
    }
    return judged


def _weights(item: InventoryItem, meta: Mapping[str, object]) -> tuple[str, str]:
    if item.status != INCLUDED:
        return UNDETERMINED, "final weights not in the folder"
    if any(str(key).startswith("extra_gated") for key in meta):
        return PARTIAL, "weights present, downloads gated (extra_gated_* in the card)"
    return OPEN, "weights present, not gated"


def _datasources(by_id: dict[int, InventoryItem], silent: str) -> tuple[str, str]:
    datasets, card = by_id[15], by_id[14]
    if datasets.status == INCLUDED:
        return OPEN, "training data included in the folder"
    if datasets.status == REFERENCED:
        return PARTIAL, "datasets listed by id; their availability cannot be checked offline"
    if card.status == INCLUDED:
        return PARTIAL, "training data described, not listed"
    return silent, "no training data listed or described"


def _by_status(item: InventoryItem, what: str, silent: str) -> tuple[str, str]:
    if item.status == INCLUDED:
        return OPEN, f"{what} in the folder"
    if item.status == REFERENCED:
        return PARTIAL, f"{what} linked, not included"
    return silent, f"no {what} in the folder or linked from the card"


def _code_docs(
    by_id: dict[int, InventoryItem], card: ModelCard | None, silent: str
) -> tuple[str, str]:
    code = [by_id[c] for c in (7, 8, 9, 16, 18)]
    documented = card is not None and any(
        any(t in s.title.lower() for t in _CODE_DOC_TITLES) and is_substantive(s.text)
        for s in card.sections
    )
    if any(item.status == INCLUDED for item in code):
        return (OPEN, "code with usage documentation") if documented else (PARTIAL, "code only")
    if any(item.status == REFERENCED for item in code):
        return PARTIAL, "code linked from the card"
    return silent, "no code"


def _architecture(item: InventoryItem, card: ModelCard | None, silent: str) -> tuple[str, str]:
    if card is not None:
        for section in card.sections:
            title = section.title.lower()
            if any(t in title for t in _ARCH_TITLES) and is_substantive(section.text):
                return OPEN, f"card section '{section.title}' (line {section.line})"
    if item.status != "absent":
        return PARTIAL, "architecture named (config or code) but not documented in the card"
    return silent, "architecture not documented"


def _preprint(by_id: dict[int, InventoryItem], silent: str) -> tuple[str, str]:
    for item in (by_id[11], by_id[21]):
        if item.status != "absent":
            return OPEN, f"{item.name.lower()}: {item.evidence[0].snippet}"
    return silent, "no paper or report linked"


def _paper(by_id: dict[int, InventoryItem]) -> tuple[str, str]:
    for item in (by_id[21], by_id[11]):
        for clue in item.evidence:
            if _PEER_REVIEWED.search(clue.snippet):
                return OPEN, f"peer-reviewed venue linked: {clue.snippet}"
    return UNDETERMINED, "no peer-reviewed publication linked (one may exist)"


def _modelcard(card: ModelCard | None) -> tuple[str, str]:
    if card is None:
        return CLOSED, "no model card"
    filled = [s for s in card.sections if is_substantive(s.text)]
    placeholders = sum(line.lower().count("[more information needed]") for line in card.lines)
    if len(filled) >= 3 and placeholders == 0:
        return OPEN, f"{len(filled)} documented sections"
    return PARTIAL, f"{len(filled)} documented sections, {placeholders} placeholders"


def _datasheet(item: InventoryItem, silent: str) -> tuple[str, str]:
    files = [c for c in item.evidence if c.status == INCLUDED and c.line is None]
    if files:
        return OPEN, f"datasheet file {files[0].file}"
    if item.status == INCLUDED:
        return PARTIAL, f"training data section in the card (line {item.evidence[0].line})"
    return silent, "no datasheet"


def _licenses(scopes: LicenseScopes) -> tuple[str, str]:
    found = [scopes.for_component(10), scopes.for_component(7)]
    known = [x for x in found if x is not None]
    if not known:
        return UNDETERMINED, "no licence identified"
    osi = [x for x in known if is_osi_approved(x)]
    if len(osi) == len(found):
        return OPEN, f"weights and code under OSI-approved licences ({', '.join(sorted(set(osi)))})"
    if osi:
        return PARTIAL, "only part of the release is under an OSI-approved licence"
    return CLOSED, f"no OSI-approved licence ({', '.join(sorted(set(known)))})"
