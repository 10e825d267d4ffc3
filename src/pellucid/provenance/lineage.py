"""Lineage of a model folder: its base models, how it derives from them, and disagreements.

Links come from ``lineage_sources``. The bases are the names the strong sources give (the
``_name_or_path`` hints only when nothing else names a parent), parents before grandparents.
The relation is the card's ``base_model_relation`` when stated, else inferred from the files
(adapter_config.json, a merge config, quantised tensors), as the Hub infers it. Obligations
inherited from the bases are the licence analysis's business; this only builds the chain.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from itertools import combinations
from typing import ClassVar

from pellucid.formats.modelcard import find_card
from pellucid.model import Confidence, Evidence, Finding, JsonValue, Rule, Severity
from pellucid.modelanalysis import SectionResult
from pellucid.modelfiles import ModelFiles
from pellucid.provenance.lineage_relation import structural_relation
from pellucid.provenance.lineage_sources import (
    Ancestor,
    card_links,
    gguf_links,
    json_links,
    mergekit_links,
    normal_name,
)

__all__ = ["Ancestor", "Lineage", "LineageAnalyzer"]

_HF_CARD = "https://huggingface.co/docs/hub/model-cards#specifying-a-base-model"
_GGUF_SPEC = "https://github.com/ggml-org/ggml/blob/master/docs/gguf.md"

SOURCES_DISAGREE = Rule(
    id="PCL-PRV-001",
    title="Lineage sources disagree",
    severity=Severity.MEDIUM,
    cwe=None,
    description=(
        "Two places in the model folder name different parent models, or the card states a "
        "relation (fine-tune, adapter, quantisation) that the files contradict. Licence "
        "obligations and known risks are inherited from the parent, so a wrong parent hides "
        "them; one of the statements is stale or false."
    ),
    remediation=(
        "Find out which base the weights really come from (ask the publisher, compare with "
        "the upstream release) and correct the card's base_model and base_model_relation."
    ),
    references=(_HF_CARD, _GGUF_SPEC),
    confidence=Confidence.MEDIUM,
)
BASE_NOT_NAMED = Rule(
    id="PCL-PRV-002",
    title="Derived model names no base model",
    severity=Severity.INFO,
    cwe=None,
    description=(
        "The folder holds an adapter or quantised weights, which only exist relative to a "
        "base model, yet no card field, adapter config or GGUF key names that base. Its "
        "licence and documentation cannot be traced, and an adapter cannot be loaded."
    ),
    remediation=(
        "Add base_model (and base_model_relation) to the card's front matter, or "
        "base_model_name_or_path to adapter_config.json."
    ),
    references=(_HF_CARD,),
    confidence=Confidence.HIGH,
)


@dataclass(frozen=True, slots=True)
class Lineage:
    """The parents of a model: ``bases`` without repeats (parents first) and ``relation``."""

    bases: tuple[Ancestor, ...]
    relation: str | None  # adapter, merge, quantized, finetune; None when nothing says
    relation_source: str = ""  # "card", or "inferred: <evidence>"
    links: tuple[Ancestor, ...] = ()  # every statement, repeats included
    conflicts: tuple[str, ...] = ()


class LineageAnalyzer:
    """Builds the base-model chain of a model folder (id "lineage")."""

    id: ClassVar[str] = "lineage"
    rules: ClassVar[Sequence[Rule]] = (SOURCES_DISAGREE, BASE_NOT_NAMED)

    def analyze(self, model: ModelFiles, earlier: Mapping[str, SectionResult]) -> SectionResult:
        links, stated, notes = _links(model)
        strong = [link for link in links if not link.hint]
        bases = _unique(strong or links)
        structure = structural_relation(model, earlier, links)
        relation, relation_source = stated, "card" if stated else ""
        if relation is None and structure is not None:
            relation, relation_source = structure[0], f"inferred: {structure[1]}"
        elif relation is None and bases:
            relation, relation_source = "finetune", "inferred: a base model is named"
        conflicts, findings = _base_conflicts(links)
        if stated is not None and structure is not None and _contradicts(stated, structure[0]):
            conflicts.append(f"card says {stated}; {structure[1]}")
            findings.append(_relation_finding(stated, structure, links, model.root))
        if not bases and relation in ("adapter", "quantized"):
            findings.append(_unnamed_base(relation, relation_source, model.root))
        value = Lineage(tuple(bases), relation, relation_source, tuple(links), tuple(conflicts))
        return SectionResult(_data(value, notes), tuple(findings), value)


def _links(model: ModelFiles) -> tuple[list[Ancestor], str | None, list[str]]:
    links: list[Ancestor] = []
    notes: list[str] = []
    stated = None
    card = find_card(model)
    if card is not None:
        found, stated, card_notes = card_links(card)
        links.extend(found)
        notes.extend(card_notes)
        if card.metadata_error:
            notes.append(f"{card.path}: {card.metadata_error}")
    card_names = {normal_name(link.name) for link in links}
    for link in gguf_links(model):
        # A GGUF's base_model keys copy the card of the model it was converted from; when
        # the folder's card names another parent, they describe that parent's parents.
        known = any(_same(normal_name(link.name), name) for name in card_names)
        if card_names and link.generation == 1 and link.relation != "quantized" and not known:
            link = replace(link, generation=2)
        links.append(link)
    found, json_notes = json_links(model)
    links.extend(found)
    notes.extend(json_notes)
    links.extend(mergekit_links(model))
    return links, stated, notes


def _same(a: str, b: str) -> bool:
    if a == b:
        return True
    return ("/" not in a or "/" not in b) and a.rsplit("/", 1)[-1] == b.rsplit("/", 1)[-1]


def _unique(links: list[Ancestor]) -> list[Ancestor]:
    seen: list[str] = []
    unique = []
    for link in sorted(links, key=lambda link: link.generation):
        name = normal_name(link.name)
        if not any(_same(name, other) for other in seen):
            seen.append(name)
            unique.append(link)
    return unique


def _base_conflicts(links: list[Ancestor]) -> tuple[list[str], list[Finding]]:
    """Pairs of sources naming disjoint parents at the same generation."""
    groups: dict[tuple[str, str, int], list[Ancestor]] = {}
    for link in links:
        groups.setdefault((link.source, link.file, link.generation), []).append(link)
    conflicts: list[str] = []
    findings: list[Finding] = []
    for (key_a, group_a), (key_b, group_b) in combinations(groups.items(), 2):
        hints = group_a[0].hint + group_b[0].hint
        if key_a[2] != key_b[2] or hints == 2 or _overlap(group_a, group_b):
            continue
        text = f"{_says(group_a)}, but {_says(group_b)}"
        conflicts.append(text)
        severity = Severity.MEDIUM if hints == 0 else Severity.LOW
        confidence = Confidence.MEDIUM if hints == 0 else Confidence.LOW
        evidence = _evidence(group_a[0], f"{_short(group_a)} vs {_short(group_b)}")
        detail = f"{text}. Which of them is the real parent cannot be told from the folder."
        findings.append(
            SOURCES_DISAGREE.finding(evidence, detail, severity=severity, confidence=confidence)
        )
    return conflicts, findings


def _overlap(a: list[Ancestor], b: list[Ancestor]) -> bool:
    names = [normal_name(link.name) for link in b]
    return any(_same(normal_name(link.name), other) for link in a for other in names)


def _says(group: list[Ancestor]) -> str:
    first = group[0]
    where = first.file + (f":{first.line}" if first.line else "")
    names = ", ".join(link.name for link in group[:4])
    return f"{where} ({first.key}) names {names}"


def _short(group: list[Ancestor]) -> str:
    first = group[0]
    names = ", ".join(link.name for link in group[:4])
    return f"{posixpath.basename(first.file)} {first.key}: {names}"


def _evidence(link: Ancestor, snippet: str) -> Evidence:
    return Evidence(link.file, line=link.line, offset=link.offset, snippet=snippet[:200])


def _contradicts(stated: str, structural: str) -> bool:
    # Only contradictions the files prove: adapter weights, or quantised tensors in a
    # folder whose card calls it a plain fine-tune.
    if structural == "adapter":
        return stated != "adapter"
    return structural == "quantized" and stated == "finetune"


def _relation_finding(
    stated: str, structure: tuple[str, str], links: list[Ancestor], root: str
) -> Finding:
    card = next((link for link in links if link.source == "card"), None)
    text = f"card: base_model_relation {stated}; files: {structure[1]}"
    evidence = Evidence(card.file, line=card.line, snippet=text) if card else Evidence(root)
    detail = f"The card calls this model a {stated} of its base, but {structure[1]}."
    return SOURCES_DISAGREE.finding(
        evidence, detail, severity=Severity.LOW, title="Card relation contradicts the files"
    )


def _unnamed_base(relation: str, why: str, root: str) -> Finding:
    what = "an adapter" if relation == "adapter" else "quantised weights"
    detail = f"The folder holds {what} ({why}), and nothing in it names the base model."
    return BASE_NOT_NAMED.finding(Evidence(root, snippet=why[:200]), detail)


def _data(value: Lineage, notes: list[str]) -> JsonValue:
    return {
        "bases": [asdict(link) for link in value.bases],
        "relation": value.relation,
        "relation_source": value.relation_source,
        "links": sorted(
            (asdict(link) for link in value.links),
            key=lambda d: (d["generation"], d["source"], d["file"], d["name"]),
        ),
        "conflicts": sorted(value.conflicts),
        "notes": notes,
    }
