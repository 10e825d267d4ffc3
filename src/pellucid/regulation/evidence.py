"""What a model folder shows, as evidence for the EU AI Act checklists.

A ``Folder`` bundles the model card, the facts read from files (config.json, the licence and
resources analyses) and the file names. A *check* is a list of signals from
``data/ai_act.json``; each signal looks at one kind of evidence and yields a ``Hit`` with a
status (found or partial) and the line that proves it. Nothing is guessed: no signal, no hit.

Signals: ``section`` (card headings containing a keyword, optionally ``not`` others),
``key`` (a non-empty front-matter key), ``pattern`` (a regex on a body line), ``file`` (a file
name, glob, or folder prefix ending in "/"), ``fact`` (a fact gathered from files or earlier
analyses), ``title`` (a level-1 heading). ``gives`` caps the status at "partial".
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

from pellucid.formats.modelcard import CardSection, ModelCard

RANK = {"missing": 0, "partial": 1, "found": 2}
LINE_LIMIT = 1000  # characters of a line matched against patterns: bounds any regex's work
PLACEHOLDER = re.compile(r"\[more information needed\]", re.IGNORECASE)
_LINK = re.compile(r"https?://\S+|\[[^\]\n]{0,200}\]\([^)\n]{0,500}\)")
_WORD = re.compile(r"[^\W\d_]{2,}")
_POINTER = re.compile(
    r"\b(see|refer to|described in|details (are )?in|available at|more information)\b",
    re.IGNORECASE,
)
SUBSTANTIVE_WORDS = 5  # fewer words of prose than this (outside links) is only a pointer


@dataclass(frozen=True, slots=True)
class Hit:
    """One piece of evidence: its status, where it is and what it says."""

    status: str  # "found" or "partial"
    file: str
    line: int | None
    text: str

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "file": self.file, "line": self.line, "text": self.text}

    def capped(self, gives: str | None) -> Hit:
        if gives == "partial" and self.status == "found":
            return Hit("partial", self.file, self.line, self.text)
        return self


@dataclass(frozen=True, slots=True)
class Text:
    """Lines prepared for pattern search: each cut to LINE_LIMIT characters (which bounds any
    pattern's work), template placeholder lines blanked, joined so that one C-level search
    covers them all. No pattern of the checklists crosses a line break."""

    file: str
    first_line: int  # 1-based line of the first joined line in ``file``
    joined: str

    @classmethod
    def of(cls, file: str, first_line: int, lines: Sequence[str]) -> Text:
        kept = ("" if PLACEHOLDER.search(line) else line[:LINE_LIMIT] for line in lines)
        return cls(file, first_line, "\n".join(kept))

    def first(self, regex: re.Pattern[str]) -> tuple[int, str] | None:
        """The first line matching ``regex``: its 1-based number and its text."""
        match = regex.search(self.joined)
        if match is None:
            return None
        start = self.joined.rfind("\n", 0, match.start()) + 1
        end = self.joined.find("\n", match.start())
        line = self.joined[start : end if end >= 0 else len(self.joined)]
        return self.first_line + self.joined.count("\n", 0, start), line.strip()[:200]


@dataclass(frozen=True)
class Folder:
    """The evidence of one model folder."""

    root: str
    card: ModelCard | None
    files: tuple[str, ...] = ()  # posix paths inside the folder
    facts: Mapping[str, Hit] = field(default_factory=dict)
    tokens: tuple[int, Hit] | None = None  # stated training tokens
    stated_flop: tuple[float, Hit] | None = None  # stated training compute
    memo: dict[str, Hit | None] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def body(self) -> Text | None:
        """The card body, ready for pattern search."""
        card = self.card
        if card is None:
            return None
        start = max(card.body_line - 1, 0)
        return Text.of(card.path, start + 1, card.lines[start:])


def best(hits: Iterable[Hit | None]) -> Hit | None:
    """The strongest hit, the first among equals."""
    chosen: Hit | None = None
    for hit in hits:
        if hit is not None and (chosen is None or RANK[hit.status] > RANK[chosen.status]):
            chosen = hit
    return chosen


def evaluate(folder: Folder, signals: list[dict[str, Any]]) -> Hit | None:
    """The strongest evidence any of ``signals`` finds in ``folder``."""
    return best(_signal(folder, s) for s in signals)


def evaluate_check(folder: Folder, name: str, checks: Mapping[str, Any]) -> Hit | None:
    """``evaluate`` for the named check, once per folder (items share checks)."""
    if name not in folder.memo:
        folder.memo[name] = evaluate(folder, checks[name])
    return folder.memo[name]


def _signal(folder: Folder, signal: Mapping[str, Any]) -> Hit | None:
    hit: Hit | None = None
    card = folder.card
    if "fact" in signal:
        hit = folder.facts.get(signal["fact"])
    elif "file" in signal:
        hit = _file(folder, signal["file"])
    elif card is None:
        return None
    elif "section" in signal:
        hit = _section(card, signal["section"], signal.get("not", []))
    elif "key" in signal:
        hit = _key(card, signal["key"])
    elif "pattern" in signal:
        found = folder.body.first(compiled(signal["pattern"])) if folder.body else None
        hit = Hit("found", card.path, found[0], found[1]) if found else None
    elif "title" in signal:
        title = next((s for s in card.sections if s.level == 1), None)
        hit = Hit("found", card.path, title.line, title.title[:200]) if title else None
    return hit.capped(signal.get("gives")) if hit is not None else None


@cache
def compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def body_lines(card: ModelCard) -> Iterator[tuple[int, str]]:
    """Body lines (1-based number, text cut to LINE_LIMIT), template placeholders skipped."""
    for index in range(max(card.body_line - 1, 0), len(card.lines)):
        line = card.lines[index][:LINE_LIMIT]
        if not PLACEHOLDER.search(line):
            yield index + 1, line


def _file(folder: Folder, names: list[str]) -> Hit | None:
    for wanted in names:
        low = wanted.lower()
        for path in folder.files:
            name = path.rsplit("/", 1)[-1].lower()
            if (low.endswith("/") and path.lower().startswith(low)) or fnmatch.fnmatchcase(
                name, low
            ):
                return Hit("found", f"{folder.root}/{path}", None, path)
    return None


def _key(card: ModelCard, key: str) -> Hit | None:
    value = card.metadata.get(key)
    if value is None or value == "" or value == [] or value == {}:
        return None
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value[:5]):
        shown: Any = ", ".join(str(v) for v in value[:5]) + (", ..." if len(value) > 5 else "")
    else:
        shown = value if isinstance(value, str | int | float) else type(value).__name__
    return Hit("found", card.path, card.metadata_line(key), f"{key}: {shown}"[:200])


def _section(card: ModelCard, keywords: list[str], excluded: list[str]) -> Hit | None:
    hits = []
    for position, section in enumerate(card.sections):
        title = section.title.lower()
        if any(k in title for k in keywords) and not any(x in title for x in excluded):
            status = content_status(_with_children(card.sections, position))
            if status is not None:
                hits.append(Hit(status, card.path, section.line, section.title[:200]))
    return best(hits)


def _with_children(sections: tuple[CardSection, ...], position: int) -> str:
    """A section's text followed by that of its subsections."""
    head = sections[position]
    parts = [head.text]
    for section in sections[position + 1 :]:
        if section.level <= head.level:
            break
        parts.append(section.title)
        parts.append(section.text)
    return "\n".join(parts)


def content_status(text: str) -> str | None:
    """ "found" for prose, "partial" for a bare link or pointer, None for nothing or a
    template placeholder."""
    # A template line whose value is a placeholder says nothing, its label included.
    text = "\n".join(line for line in text[:20_000].splitlines() if not PLACEHOLDER.search(line))
    has_link = _LINK.search(text) is not None
    words = _WORD.findall(_LINK.sub(" ", text))
    if not words and not has_link:
        return None
    if len(words) < SUBSTANTIVE_WORDS or (len(words) < 25 and _POINTER.search(text)):
        return "partial"
    return "found"
