"""OSI Open Source AI Definition 1.0: what a folder shows about its three required elements.

OSAID 1.0 asks for the preferred form to make modifications: *parameters* under OSD-conformant
terms, the complete *code* to train and run the system under OSI-approved licences, and *data
information* detailed enough for a skilled person to build a substantially equivalent system.
Licences are decidable offline; the sufficiency of data information is not (nor is the
existence of code published elsewhere). So a folder can be found *not conformant*, or
*undetermined*, but never *conformant* from its files alone: that last step needs a reviewer.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from pellucid.data import load_json
from pellucid.openness.card_clues import INCLUDED, REFERENCED
from pellucid.openness.components import InventoryItem, LicenseScopes
from pellucid.openness.mof import is_open

PASS, FAIL, UNDETERMINED = "pass", "fail", "undetermined"
CONFORMANT, NOT_CONFORMANT = "conformant", "not_conformant"
CLAUSE = "OSAID 1.0, 'What is the preferred form to make modifications to machine-learning systems'"
CODE_COMPONENTS = (9, 7, 8, 16, 18)  # architecture, training, inference, preprocessing, eval


@cache
def _osi() -> frozenset[str]:
    return frozenset(load_json("spdx_open_licenses.json")["osi_approved"])


def is_osi_approved(license_id: str) -> bool:
    """Whether ``license_id`` is an OSI-approved SPDX id (exact match)."""
    return license_id in _osi()


def assess_osaid(items: Sequence[InventoryItem], scopes: LicenseScopes) -> dict[str, object]:
    """The OSAID 1.0 assessment: a verdict, and a status with reasons per element."""
    by_id = {item.cid: item for item in items}
    elements = {
        "parameters": _parameters(by_id[10], scopes),
        "code": _code(by_id, scopes),
        "data_information": _data_information(by_id),
    }
    statuses = [element["status"] for element in elements.values()]
    verdict = NOT_CONFORMANT if FAIL in statuses else UNDETERMINED
    reasons = [r for name, e in elements.items() for r in _prefixed(name, e["reasons"])]
    return {
        "verdict": verdict,
        "elements": elements,
        "reasons": reasons,
        "clause": CLAUSE,
        "note": (
            "Assessment from the folder alone. 'conformant' is never given offline: whether "
            "the data information lets a skilled person build a substantially equivalent "
            "system needs a human review."
        ),
    }


def _prefixed(name: str, reasons: object) -> list[str]:
    return [f"{name}: {r}" for r in reasons] if isinstance(reasons, list) else []


def _element(status: str, *reasons: str) -> dict[str, object]:
    return {"status": status, "reasons": list(reasons)}


def _licence_status(license_id: str | None, what: str, *, osd_terms: bool) -> dict[str, object]:
    if license_id is None:
        return _element(UNDETERMINED, f"no licence identified for the {what}")
    if is_osi_approved(license_id):
        return _element(PASS, f"{what} under {license_id}, an OSI-approved licence")
    if osd_terms and is_open(license_id):
        return _element(
            UNDETERMINED,
            f"{what} under {license_id}, a free but not OSI-approved licence; whether "
            "these are OSD-conformant terms for parameters is not settled by OSI",
        )
    return _element(
        FAIL,
        f"{what} under '{license_id}', which is not an OSI-approved licence "
        "(OSAID requires freedom to use, study, modify and share for any purpose)",
    )


def _parameters(item: InventoryItem, scopes: LicenseScopes) -> dict[str, object]:
    license_id = scopes.for_component(10)
    if item.status != INCLUDED:
        found = _licence_status(license_id, "weights", osd_terms=True)
        if found["status"] == FAIL:
            return found
        return _element(UNDETERMINED, "the final weights are not in the folder")
    return _licence_status(license_id, "weights", osd_terms=True)


def _code(by_id: dict[int, InventoryItem], scopes: LicenseScopes) -> dict[str, object]:
    present = [by_id[c] for c in CODE_COMPONENTS if by_id[c].status == INCLUDED]
    licensed = _licence_status(scopes.for_component(7), "code", osd_terms=False)
    if present and licensed["status"] == FAIL:
        return licensed
    missing = [by_id[c].name for c in CODE_COMPONENTS if by_id[c].status != INCLUDED]
    if not present:
        return _element(UNDETERMINED, "no code in the folder: " + ", ".join(missing))
    if missing:
        reasons = [f"not in the folder (may be published elsewhere): {', '.join(missing)}"]
        return _element(UNDETERMINED, *reasons, *_as_list(licensed["reasons"]))
    return _element(str(licensed["status"]), *_as_list(licensed["reasons"]))


def _data_information(by_id: dict[int, InventoryItem]) -> dict[str, object]:
    card, datasets = by_id[14], by_id[15]
    described = (
        "(1) training data description: found" if card.status == INCLUDED else "(1) no data card"
    )
    if datasets.status == INCLUDED:
        listed = "(2) training data: included in the folder"
    elif datasets.status == REFERENCED:
        names = ", ".join(c.snippet for c in datasets.evidence)
        listed = f"(2) public training data listed by name: {names}"
    else:
        listed = "(2) no list of training data"
    return _element(
        UNDETERMINED,
        described,
        listed,
        "(3) third-party training data sources cannot be established from the folder",
        "whether this suffices to build a substantially equivalent system needs human review",
    )


def _as_list(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []
