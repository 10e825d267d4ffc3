"""Derivatives and their bases: inherited licences and the duties a derivative breaks.

A folder names only its immediate parent (card ``base_model``, GGUF ``general.base_model``).
The licences of well-known parents come from a shipped, versioned table
(``data/base_models.json``) keyed by repository id prefix; unknown parents inherit nothing
here (the lineage analysis reports them). The checks: Llama naming and "Built with Llama"
duties, use restrictions that must flow down but were dropped, and a commercial-use claim
under a non-commercial licence in the chain.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from pellucid.data import load_json
from pellucid.formats.modelcard import ModelCard
from pellucid.licensing.knowledge import LicenseEntry, lookup
from pellucid.licensing.rules import (
    LLAMA_NAMING,
    LLAMA_NOTICE,
    NONCOMMERCIAL_CLAIM,
    RESTRICTIONS_DROPPED,
)
from pellucid.licensing.sources import BaseModelRef, LicenseEvidence
from pellucid.model import Evidence, FileKind, Finding
from pellucid.modelfiles import ModelFiles

BASE_TABLE = "base_models.json"
_HUB_URL = re.compile(r"^(?:https?://)?(?:www\.)?(?:huggingface\.co|hf\.co)/", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s_\-]+")
_TITLE_NOISE = re.compile(r"^(?:model\s+card\s+(?:for|of)\s+|meta[\s_\-]+)", re.IGNORECASE)
_COMMERCIAL_CLAIM = re.compile(
    r"(?<!non[- ])(?<!not for )\b(?:commercial use (?:is )?(?:allowed|permitted|ok)|"
    r"free for commercial|commercially usable|can be used commercially|"
    r"suitable for commercial|approved for commercial|commercial[- ]friendly)",
    re.IGNORECASE,
)
_WEIGHT_KINDS = frozenset(
    {
        FileKind.SAFETENSORS,
        FileKind.GGUF,
        FileKind.PICKLE,
        FileKind.TORCH_LEGACY,
        FileKind.ZIP,
        FileKind.ONNX,
        FileKind.HDF5,
        FileKind.NUMPY,
        FileKind.SAVED_MODEL,
        FileKind.TF_GRAPH,
    }
)
# Llama generations by knowledge-base version: the prefix a derivative's name must start
# with, and the notice its distributor must display (Llama 2 has neither duty).
_LLAMA_DUTIES = {
    "3": ("Llama 3", "Built with Meta Llama 3"),
    "3.1": ("Llama", "Built with Llama"),
    "3.2": ("Llama", "Built with Llama"),
    "3.3": ("Llama", "Built with Llama"),
    "4": ("Llama", "Built with Llama"),
}


@dataclass(frozen=True, slots=True)
class BaseLicense:
    """A parent the folder names and the licence the table knows for it (None: unknown)."""

    ref: BaseModelRef
    entry: LicenseEntry | None


def table_version() -> str:
    return str(load_json(BASE_TABLE)["version"])


def base_licenses(refs: Sequence[BaseModelRef]) -> list[BaseLicense]:
    """Resolve each named parent through the table; each repository once."""
    seen: set[str] = set()
    found = []
    for ref in refs:
        repo = _HUB_URL.sub("", ref.repo).strip("/")
        if repo.lower() in seen:
            continue
        seen.add(repo.lower())
        license_id = _table_license(repo)
        found.append(BaseLicense(ref, lookup(license_id) if license_id else None))
    return found


def _table_license(repo: str) -> str | None:
    best: tuple[int, str] | None = None
    for row in _table():
        prefix, license_id = row
        if _prefix_matches(prefix, repo.lower()) and (best is None or len(prefix) > best[0]):
            best = (len(prefix), license_id)
    return best[1] if best else None


def _prefix_matches(prefix: str, repo: str) -> bool:
    if prefix.endswith(("-", "/")):
        return repo.startswith(prefix)
    return repo == prefix or (repo.startswith(prefix) and repo[len(prefix)] in "-_.")


@cache
def _table() -> tuple[tuple[str, str], ...]:
    rows = load_json(BASE_TABLE)["bases"]
    return tuple((str(r["prefix"]).lower(), str(r["license"])) for r in rows)


def check_derivative(
    model: ModelFiles,
    evidence: LicenseEvidence,
    own: LicenseEntry | None,
    bases: Sequence[BaseLicense],
) -> list[Finding]:
    """Findings where the folder breaks the terms of its own or its bases' licences."""
    findings: list[Finding] = []
    chain = [b.entry for b in bases if b.entry is not None]
    llama = _llama_duty([*chain, *([own] if own else [])])
    if llama is not None:
        findings += _llama_name(model, evidence.card, llama[0])
        if bases and evidence.card is not None and _holds_weights(model):
            findings += _llama_notice(model, evidence, llama[1])
    for base in bases:
        if base.entry is not None and own is not None and _drops_restrictions(own, base.entry):
            findings.append(_dropped(base, own))
    findings += _commercial_claim(evidence.card, [*chain, *([own] if own else [])])
    return findings


def _llama_duty(chain: Sequence[LicenseEntry]) -> tuple[str, str] | None:
    for entry in chain:
        if entry.family.lower().startswith("llama") and entry.version in _LLAMA_DUTIES:
            return _LLAMA_DUTIES[entry.version]
    return None


def model_name(model: ModelFiles, card: ModelCard | None) -> tuple[str, str, int | None]:
    """The name the model is published under: card ``model_name``, the model-index name,
    the card's first top-level heading, else the folder name. (name, file, line)."""
    if card is not None:
        named = card.metadata.get("model_name")
        if isinstance(named, str) and named.strip():
            return named.strip(), card.path, card.metadata_line("model_name")
        index = card.metadata.get("model-index")
        if isinstance(index, list) and index and isinstance(index[0], dict):
            name = index[0].get("name")
            if isinstance(name, str) and name.strip():
                return name.strip(), card.path, card.metadata_line("model-index")
        title = next((s for s in card.sections if s.level == 1), None)
        if title is not None:
            return title.title, card.path, title.line
    return posixpath.basename(model.root.rstrip("/")), model.root, None


def _llama_name(model: ModelFiles, card: ModelCard | None, prefix: str) -> list[Finding]:
    name, file, line = model_name(model, card)
    folded = _SEPARATORS.sub("", _TITLE_NOISE.sub("", name).casefold())
    if folded.startswith(_SEPARATORS.sub("", prefix.casefold())):
        return []
    evidence = Evidence(file, line=line, snippet=name[:200])
    detail = f"model name {name!r} does not begin with {prefix!r}, which the Llama licence requires"
    return [LLAMA_NAMING.finding(evidence, detail)]


def _holds_weights(model: ModelFiles) -> bool:
    return any(f.kind in _WEIGHT_KINDS for f in model)


def _llama_notice(model: ModelFiles, evidence: LicenseEvidence, notice: str) -> list[Finding]:
    assert evidence.card is not None
    texts = ["\n".join(evidence.card.lines)]
    texts += [s.text for s in evidence.statements if s.kind == "notice"]
    wanted = _SEPARATORS.sub(" ", notice.casefold())
    if any(wanted in _SEPARATORS.sub(" ", text.casefold()) for text in texts):
        return []
    where = Evidence(evidence.card.path, snippet=f"no {notice!r} in the card or a NOTICE file")
    detail = f"the folder redistributes Llama-derived weights without the notice {notice!r}"
    return [LLAMA_NOTICE.finding(where, detail)]


def _drops_restrictions(own: LicenseEntry, base: LicenseEntry) -> bool:
    if own.family == base.family or own.terms.use_restrictions:
        return False
    return base.terms.flow_down and base.terms.use_restrictions


def _dropped(base: BaseLicense, own: LicenseEntry) -> Finding:
    ref, entry = base.ref, base.entry
    assert entry is not None
    evidence = Evidence(ref.file, line=ref.line, snippet=f"base_model: {ref.repo}"[:200])
    detail = (
        f"base model {ref.repo} is under {entry.id}, whose use restrictions must flow down to "
        f"derivatives; this model is offered under {own.id}, which has none"
    )
    return RESTRICTIONS_DROPPED.finding(evidence, detail)


def _commercial_claim(card: ModelCard | None, chain: Sequence[LicenseEntry]) -> list[Finding]:
    blocked = [e for e in chain if e.terms.commercial_use == "no"]
    if card is None or not blocked:
        return []
    claim = card.find_line(_COMMERCIAL_CLAIM)
    if claim is None:
        tags = card.metadata.get("tags")
        if not (isinstance(tags, list) and "commercial" in [str(t).lower() for t in tags]):
            return []
        claim = (card.metadata_line("tags") or 1, "tags: commercial")
    line, text = claim
    ids = ", ".join(sorted({e.id for e in blocked}))
    detail = f"the card claims commercial use, but {ids} in the licence chain forbids it"
    return [NONCOMMERCIAL_CLAIM.finding(Evidence(card.path, line=line, snippet=text[:200]), detail)]
