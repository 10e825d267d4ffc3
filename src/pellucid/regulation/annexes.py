"""Annex XI and Annex XII of Regulation (EU) 2024/1689, item by item, against a model folder.

Annex XI lists the technical documentation every provider of a general-purpose AI model keeps
for the AI Office (Art. 53(1)(a); Section 2 only for models with systemic risk); Annex XII
what it gives downstream providers (Art. 53(1)(b)). The items, their exact references and
the checks that look for each part of an item are data (``data/ai_act.json``). An item is
"found" when every part has full evidence, "missing" when no part has any, else "partial";
a part backed only by a link, a pointer or a reference key counts as partial.
"""

from __future__ import annotations

from typing import Any

from pellucid.data import load_json
from pellucid.regulation.evidence import RANK, Folder, evaluate_check

KNOWLEDGE = "ai_act.json"


def knowledge() -> dict[str, Any]:
    """The EU AI Act knowledge shipped with pellucid."""
    data: dict[str, Any] = load_json(KNOWLEDGE)
    return data


def checklist(folder: Folder, name: str) -> list[dict[str, Any]]:
    """The items of checklist ``name`` ("annex_xi", "annex_xii", "code_of_practice"), each
    with its status and evidence, in the order of the legal text."""
    data = knowledge()
    return [assess_item(folder, item, data["checks"]) for item in data[name]]


def assess_item(
    folder: Folder, item: dict[str, Any], checks: dict[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    """One checklist item: the status of each part, and of the item as a whole."""
    parts = []
    for label, check in item["parts"]:
        hit = evaluate_check(folder, check, checks)
        parts.append(
            {
                "part": label,
                "status": "missing" if hit is None else hit.status,
                "evidence": None if hit is None else hit.as_json(),
            }
        )
    result = {
        "id": item["id"],
        "reference": item["reference"],
        "item": item["item"],
        "status": combine([p["status"] for p in parts]),
        "parts": parts,
    }
    for extra in ("scope", "where_applicable"):
        if extra in item:
            result[extra] = item[extra]
    return result


def combine(statuses: list[str]) -> str:
    """found only if all parts are found; missing only if none has any evidence."""
    if statuses and all(s == "found" for s in statuses):
        return "found"
    if all(RANK[s] == 0 for s in statuses):
        return "missing"
    return "partial"


def missing(items: list[dict[str, Any]], scope: str | None = None) -> list[dict[str, Any]]:
    """The items with status "missing", optionally only those of ``scope``."""
    return [
        i
        for i in items
        if i["status"] == "missing" and (scope is None or i.get("scope", scope) == scope)
    ]


def counts(items: list[dict[str, Any]]) -> dict[str, int]:
    """How many items are found, partial and missing."""
    tally = dict.fromkeys(("found", "partial", "missing"), 0)
    for item in items:
        tally[item["status"]] += 1
    return tally
