"""Hugging Face model cards: YAML front matter and markdown sections, with line numbers.

The front matter is parsed with ``yaml.safe_load`` (plain data only: no tags that build
objects), within a size budget; a card whose YAML is broken still yields its body, and the
error is kept for a finding. Sections are split on ATX headings (``#`` ... ``######``) outside
fenced code blocks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pellucid.modelfiles import ModelFiles

CARD_NAMES = ("README.md", "MODEL_CARD.md", "model_card.md", "README.markdown", "README")
MAX_FRONT_MATTER = 256 * 1024
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True, slots=True)
class CardSection:
    """A markdown section: its heading and the text up to the next heading of any level."""

    title: str
    level: int
    line: int  # 1-based line of the heading in the whole file
    text: str


@dataclass(frozen=True, slots=True)
class ModelCard:
    path: str
    metadata: Mapping[str, Any]  # the YAML front matter; {} when absent or broken
    metadata_error: str | None  # why the front matter could not be read, with its line
    body: str
    body_line: int  # 1-based line where the body starts
    sections: tuple[CardSection, ...]
    lines: tuple[str, ...]  # the whole file, for evidence

    def section(self, *keywords: str) -> CardSection | None:
        """The first section whose title contains one of ``keywords`` (case-insensitive)."""
        wanted = [k.lower() for k in keywords]
        for section in self.sections:
            title = section.title.lower()
            if any(k in title for k in wanted):
                return section
        return None

    def find_line(self, pattern: str | re.Pattern[str]) -> tuple[int, str] | None:
        """The first line (1-based number, text) matching ``pattern`` (case-insensitive)."""
        regex = re.compile(pattern, re.IGNORECASE) if isinstance(pattern, str) else pattern
        for number, line in enumerate(self.lines, 1):
            if regex.search(line):
                return number, line.strip()
        return None

    def metadata_line(self, key: str) -> int | None:
        """The line of a top-level front-matter key, for evidence."""
        regex = re.compile(rf"^{re.escape(key)}\s*:")
        for number, line in enumerate(self.lines[: self.body_line], 1):
            if regex.match(line):
                return number
        return None


def parse_card(text: str, path: str = "README.md") -> ModelCard:
    """Split a card into front matter (parsed) and body sections; never raises."""
    lines = tuple(text.splitlines())
    metadata: Mapping[str, Any] = {}
    error: str | None = None
    body_start = 0
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
        if end is None:
            error = "front matter opened with --- on line 1 is never closed"
        else:
            metadata, error = _front_matter("\n".join(lines[1:end]))
            body_start = end + 1
    body = "\n".join(lines[body_start:])
    return ModelCard(
        path, metadata, error, body, body_start + 1, _sections(lines, body_start), lines
    )


def find_card(model: ModelFiles) -> ModelCard | None:
    """The model card of a folder: README.md (or a usual alternative) at the top level."""
    for name in CARD_NAMES:
        for file in model.named(name):
            text = model.text(file)
            if text is not None:
                return parse_card(text, file.path)
    return None


def _front_matter(source: str) -> tuple[Mapping[str, Any], str | None]:
    if len(source) > MAX_FRONT_MATTER:
        return {}, f"front matter larger than {MAX_FRONT_MATTER} bytes not read"
    import yaml

    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        return {}, f"front matter is not valid YAML{where}: {problem}"
    except RecursionError:
        return {}, "front matter nested too deeply"
    if data is None:
        return {}, None
    if not isinstance(data, dict):
        return {}, f"front matter is a {type(data).__name__}, not a mapping"
    return {str(k): v for k, v in data.items()}, None


def _sections(lines: tuple[str, ...], start: int) -> tuple[CardSection, ...]:
    found: list[tuple[str, int, int]] = []  # title, level, index
    fenced = False
    for index in range(start, len(lines)):
        line = lines[index]
        if _FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else _HEADING.match(line)
        if match:
            found.append((match.group(2).strip(), len(match.group(1)), index))
    sections = []
    for position, (title, level, index) in enumerate(found):
        stop = found[position + 1][2] if position + 1 < len(found) else len(lines)
        sections.append(CardSection(title, level, index + 1, "\n".join(lines[index + 1 : stop])))
    return tuple(sections)
