"""The licence knowledge base: what each known licence allows, demands and forbids.

Facts live in ``pellucid/data/licenses.json`` (versioned, reviewed by hand) and are loaded
once, lazily. Licences are keyed per version, never per family: Llama 3 and Llama 3.1 are
different entries, and so are the two dated Gemma terms. Family-level identifiers that name
no version (the Hub's ``gemma``, ``openrail``, ``gpl``) resolve to explicit family entries
whose ``version`` is None, and only where every version shares the terms recorded there.

This is a catalogue of facts for an assessment, not legal advice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from pellucid.data import load_json

KB_FILE = "licenses.json"
LICENSE_REF_PREFIX = "LicenseRef-pellucid-"
_FOLD = re.compile(r"[\s_\-]+")


@dataclass(frozen=True, slots=True)
class Terms:
    """The terms of a licence that matter when deciding whether and how a model may be used."""

    commercial_use: str  # "yes" | "no" | "conditional" (thresholds, registration)
    user_threshold: int | None  # monthly active users above which a separate licence is needed
    revenue_threshold_usd: int | None
    use_restrictions: bool  # an AUP / Attachment A / prohibited-use policy applies
    restrictions_changeable: bool  # the licensor may change the restrictions unilaterally
    flow_down: bool  # restrictions must be passed on to derivatives / recipients
    improve_other_models: str | None  # e.g. "forbidden"; None if the licence has no clause
    output_restrictions: str | None
    naming_duty: str | None
    attribution: str | None
    field_of_use: str | None  # "research only", "non-production", "non-commercial", ...
    eu_restriction: str | None
    osi_approved: bool
    osaid_conformant: bool | None  # None where undecided
    art53_foss: str  # "yes" | "no" | "doubtful": AI Act Art. 53(2) free and open-source licence


@dataclass(frozen=True, slots=True)
class LicenseEntry:
    """One licence (one version of it), a use policy, or a family whose version is unknown."""

    id: str
    name: str
    version: str | None
    date: str | None  # ISO date of release / effect
    family: str
    kind: str  # "model" | "software" | "data" | "documentation" | "policy"
    spdx_id: str | None  # only real SPDX ids; None for Llama, Gemma, RAIL ...
    license_ref: str  # the SPDX id when there is one, else "LicenseRef-pellucid-<id>"
    hf_ids: tuple[str, ...]
    scancode_keys: tuple[str, ...]
    aliases: tuple[str, ...]
    policy: str | None  # id of the incorporated use policy entry, if any
    terms: Terms
    must: tuple[str, ...]
    must_not: tuple[str, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TextFacts:
    """What the text identifier needs to know about an entry beyond its terms.

    ``markers`` are short phrases of which at least one appears in every copy of the text and
    in none of its version siblings (e.g. "Built with Meta Llama 3" for Llama 3, not 3.1).
    ``fingerprint`` says where the reference fingerprint comes from: "scancode" (the text in
    ScanCode's licence data), "derived" (no published reference text: built from shared
    sibling shingles, named in ``derived_from``, plus the markers) or None (no text
    fingerprint).
    """

    markers: tuple[str, ...]
    fingerprint: str | None
    note: str | None
    derived_from: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Knowledge:
    version: str
    entries: tuple[LicenseEntry, ...]
    by_id: dict[str, LicenseEntry]
    names: dict[str, LicenseEntry]
    text: dict[str, TextFacts]


def entries() -> tuple[LicenseEntry, ...]:
    """Every entry of the knowledge base, in file order (grouped by family)."""
    return _knowledge().entries


def by_id(license_id: str) -> LicenseEntry | None:
    """The entry with exactly this pellucid id, or None."""
    return _knowledge().by_id.get(license_id)


def lookup(name: str) -> LicenseEntry | None:
    """The entry any spelling names: pellucid id, HF id, SPDX id, ScanCode key, LicenseRef or
    alias; case, space, underscore and dash do not matter. None when unknown: never a guess."""
    if not isinstance(name, str) or len(name) > 300:
        return None
    return _knowledge().names.get(_fold(name))


def kb_version() -> str:
    """Version of the knowledge base (the date of its last reviewed change)."""
    return _knowledge().version


def text_facts(license_id: str) -> TextFacts | None:
    """Marker phrases and fingerprint provenance of an entry (for the text identifier)."""
    return _knowledge().text.get(license_id)


def _fold(name: str) -> str:
    return _FOLD.sub("", name.strip().strip("\"'").casefold())


def _names_of(entry: LicenseEntry) -> list[str]:
    names = [entry.id, entry.license_ref, entry.name, *entry.hf_ids, *entry.scancode_keys]
    names += [f"LicenseRef-scancode-{key}" for key in entry.scancode_keys]
    names += list(entry.aliases)
    if entry.spdx_id is not None:
        names.append(entry.spdx_id)
    return names


def _entry(raw: dict[str, Any]) -> LicenseEntry:
    spdx_id = raw.get("spdx_id")
    return LicenseEntry(
        id=raw["id"],
        name=raw["name"],
        version=raw.get("version"),
        date=raw.get("date"),
        family=raw["family"],
        kind=raw["kind"],
        spdx_id=spdx_id,
        license_ref=spdx_id if spdx_id is not None else LICENSE_REF_PREFIX + raw["id"],
        hf_ids=tuple(raw.get("hf_ids", ())),
        scancode_keys=tuple(raw.get("scancode_keys", ())),
        aliases=tuple(raw.get("aliases", ())),
        policy=raw.get("policy"),
        terms=Terms(**raw["terms"]),
        must=tuple(raw.get("must", ())),
        must_not=tuple(raw.get("must_not", ())),
        sources=tuple(raw.get("sources", ())),
    )


@cache
def _knowledge() -> _Knowledge:
    raw = load_json(KB_FILE)
    loaded = tuple(_entry(item) for item in raw["entries"])
    names: dict[str, LicenseEntry] = {}
    for entry in loaded:
        for name in _names_of(entry):
            # Two entries claiming one spelling is a knowledge-base bug, caught by the tests;
            # the first claim stays so lookups stay deterministic.
            names.setdefault(_fold(name), entry)
    text = {
        item["id"]: TextFacts(
            markers=tuple(item.get("text", {}).get("markers", ())),
            fingerprint=item.get("text", {}).get("fingerprint"),
            note=item.get("text", {}).get("note"),
            derived_from=tuple(item.get("text", {}).get("derived_from", ())),
        )
        for item in raw["entries"]
    }
    return _Knowledge(
        version=raw["version"],
        entries=loaded,
        by_id={entry.id: entry for entry in loaded},
        names=names,
        text=text,
    )


def name_collisions() -> list[tuple[str, str, str]]:
    """Spellings claimed by two entries: (folded name, first id, second id). Empty when sound."""
    seen: dict[str, str] = {}
    clashes: list[tuple[str, str, str]] = []
    for entry in entries():
        for name in {_fold(n) for n in _names_of(entry)}:
            other = seen.setdefault(name, entry.id)
            if other != entry.id:
                clashes.append((name, other, entry.id))
    return clashes
