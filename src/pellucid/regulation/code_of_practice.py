"""The GPAI Code of Practice (Transparency chapter) and the training-content summary template.

The Model Documentation Form fields are checked like the Annex items (``annexes.checklist``).
The public summary of training content (Art. 53(1)(d), AI Office template of 24 July 2025)
is looked for as a file (``*training*summary*`` ...) or a card section; its main headings are
then looked for inside it. Without a summary, the headings are looked for in the card body
and can reach only "partial": the information exists but not as the summary the Act asks for.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from pellucid.modelfiles import ModelFiles
from pellucid.regulation.annexes import checklist, knowledge
from pellucid.regulation.evidence import Folder, Text, compiled

SUMMARY_SUFFIXES = (".md", ".txt", ".markdown", ".rst", ".html")


@dataclass(frozen=True, slots=True)
class Summary:
    """A public summary of training content: where it is and its lines."""

    file: str
    first_line: int  # 1-based line of ``lines[0]`` in ``file``
    lines: tuple[str, ...]


def documentation_form(folder: Folder) -> list[dict[str, Any]]:
    """The Model Documentation Form fields with status and evidence."""
    return checklist(folder, "code_of_practice")


def find_summary(model: ModelFiles | None, folder: Folder) -> Summary | None:
    """The training-content summary of the folder: a file, else a card section."""
    spec = knowledge()["training_summary"]
    for file in model.files if model is not None else ():
        name = file.name.lower()
        if ("." not in name or name.endswith(SUMMARY_SUFFIXES)) and any(
            fnmatch.fnmatchcase(name, pattern) for pattern in spec["files"]
        ):
            text = model.text(file) if model is not None else None
            if text:
                return Summary(file.path, 1, tuple(text.splitlines()))
    card = folder.card
    if card is None:
        return None
    for section in card.sections:
        if any(k in section.title.lower() for k in spec["sections"]):
            return Summary(card.path, section.line, (section.title, *section.text.splitlines()))
    return None


def training_summary(folder: Folder, summary: Summary | None) -> dict[str, Any]:
    """Is there a public summary of training content, and which template headings it covers."""
    spec = knowledge()["training_summary"]
    if summary is not None:
        text, cap = Text.of(summary.file, summary.first_line, summary.lines), "found"
    else:
        text, cap = folder.body or Text(folder.root, 1, ""), "partial"
    headings = [_heading(h, text, cap) for h in spec["headings"]]
    return {
        "reference": spec["reference"],
        "present": summary is not None,
        "source": None if summary is None else {"file": summary.file, "line": summary.first_line},
        "headings": headings,
        "covered": sum(1 for h in headings if h["status"] != "missing"),
        "total": len(headings),
    }


def _heading(heading: dict[str, str], text: Text, cap: str) -> dict[str, Any]:
    found = text.first(compiled(heading["pattern"]))
    if found is None:
        return {**_named(heading), "status": "missing", "evidence": None}
    evidence = {"file": text.file, "line": found[0], "text": found[1]}
    return {**_named(heading), "status": cap, "evidence": evidence}


def _named(heading: dict[str, str]) -> dict[str, str]:
    return {"id": heading["id"], "heading": heading["heading"]}
