"""What a model card says about the MOF components: included in the card, or only linked.

A card that carries evaluation results (``model-index``), a training-data section or a usage
example *includes* that component (the text is in the folder). A card that names datasets,
links a paper or points to a training repository only *references* it: the component exists
somewhere else, under terms the folder does not state.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from pellucid.formats.modelcard import ModelCard

INCLUDED, REFERENCED = "included", "referenced"
_ARXIV = re.compile(r"arxiv\.org/(?:abs|pdf)/\d{4}\.\d{4,5}|\barxiv:\s?\d{4}\.\d{4,5}", re.I)
_DOI = re.compile(r"\bdoi\.org/10\.\d{4,9}/|\bdoi:\s?10\.\d{4,9}/", re.I)
_REPORT = re.compile(r"technical report|tech(?:nical)?\.? report|system card", re.I)
_FENCE = re.compile(r"^\s*(```|~~~)")
_USAGE = re.compile(r"from_pretrained\(|pipeline\(|\.generate\(|llama[-_.]cli|ollama run", re.I)
_REPO = re.compile(r"https?://(?:github\.com|gitlab\.com|codeberg\.org)/[\w.-]+/[\w.-]+", re.I)
_TRAIN_WORDS = re.compile(r"\b(?:train(?:ing)?|fine-?tun\w*|pre-?train\w*|recipe)\b", re.I)
_EVAL_TOOLS = re.compile(r"lm-evaluation-harness|lm_eval|\bopencompass\b|\bhelm\b", re.I)
_INTERMEDIATE = re.compile(
    r"\b(?:intermediate|training)\s+checkpoints?\b|\bcheckpoints?\b.{0,60}\b(?:step|branch|revision)",
    re.I,
)
_PLACEHOLDER = "[more information needed]"
_DATA_TITLES = ("training data", "dataset", "data card", "datasheet", "training corpus", "data")
_EVAL_TITLES = ("evaluation", "results", "benchmark", "performance")
_SAMPLE_TITLES = ("sample output", "example output", "samples", "generations")
MIN_SECTION = 200  # characters of real text for a section to document a component


@dataclass(frozen=True, slots=True)
class Clue:
    """Evidence that component ``cid`` is included in the folder or referenced from it."""

    cid: int
    status: str
    file: str
    line: int | None
    snippet: str


def card_clues(card: ModelCard) -> Iterator[Clue]:
    """Every component the card includes or references, with the line that shows it."""
    yield Clue(13, INCLUDED, card.path, 1, "model card")
    yield from _metadata_clues(card)
    yield from _section_clues(card)
    yield from _line_clues(card)


def is_substantive(text: str) -> bool:
    """A section with real text: long enough and not the template's placeholder."""
    body = text.strip()
    return len(body) >= MIN_SECTION and _PLACEHOLDER not in body.lower()


def _metadata_clues(card: ModelCard) -> Iterator[Clue]:
    meta = card.metadata
    if meta.get("model-index"):
        yield Clue(12, INCLUDED, card.path, card.metadata_line("model-index"), "model-index")
        for name in _model_index_datasets(meta["model-index"])[:5]:
            yield Clue(19, REFERENCED, card.path, card.metadata_line("model-index"), name)
    datasets = meta.get("datasets")
    names = [datasets] if isinstance(datasets, str) else datasets
    if isinstance(names, list):
        for name in names[:5]:
            yield Clue(15, REFERENCED, card.path, card.metadata_line("datasets"), str(name))
    if meta.get("library_name"):
        line = card.metadata_line("library_name")
        yield Clue(22, REFERENCED, card.path, line, f"library_name: {meta['library_name']}")
    tags = meta.get("tags")
    for tag in tags if isinstance(tags, list) else []:
        if isinstance(tag, str) and tag.lower().startswith("arxiv:"):
            yield Clue(21, REFERENCED, card.path, card.metadata_line("tags"), tag)


def _model_index_datasets(index: object) -> list[str]:
    found: list[str] = []
    for entry in index if isinstance(index, list) else []:
        results = entry.get("results") if isinstance(entry, dict) else None
        for result in results if isinstance(results, list) else []:
            dataset = result.get("dataset") if isinstance(result, dict) else None
            if isinstance(dataset, dict) and (dataset.get("type") or dataset.get("name")):
                name = str(dataset.get("type") or dataset.get("name"))
                if name not in found:
                    found.append(name)
    return found


def _section_clues(card: ModelCard) -> Iterator[Clue]:
    for section in card.sections:
        title = section.title.lower()
        if not is_substantive(section.text):
            continue
        if any(word in title for word in _DATA_TITLES):
            yield Clue(14, INCLUDED, card.path, section.line, section.title)
        if any(word in title for word in _EVAL_TITLES) and "|" in section.text:
            yield Clue(12, INCLUDED, card.path, section.line, section.title)
        if any(word in title for word in _SAMPLE_TITLES):
            yield Clue(20, INCLUDED, card.path, section.line, section.title)
        if "architecture" in title or "model details" in title:
            yield Clue(9, REFERENCED, card.path, section.line, section.title)


def _line_clues(card: ModelCard) -> Iterator[Clue]:
    fenced = False
    for number, line in enumerate(card.lines, 1):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        snippet = line.strip()[:200]
        if fenced:
            if _USAGE.search(line):
                yield Clue(8, INCLUDED, card.path, number, snippet)
            continue
        if _ARXIV.search(line) or _DOI.search(line):
            cid = 11 if _REPORT.search(line) else 21
            yield Clue(cid, REFERENCED, card.path, number, snippet)
        if _REPO.search(line) and _TRAIN_WORDS.search(line):
            yield Clue(7, REFERENCED, card.path, number, snippet)
        if _EVAL_TOOLS.search(line):
            yield Clue(18, REFERENCED, card.path, number, snippet)
        if _INTERMEDIATE.search(line):
            yield Clue(24, REFERENCED, card.path, number, snippet)
