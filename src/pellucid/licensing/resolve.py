"""Each licence statement to the licences it names: identifiers through the knowledge base,
texts through the text matcher. What neither recognises is reported, never guessed."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from pellucid.licensing import rules
from pellucid.licensing.knowledge import LicenseEntry, lookup
from pellucid.licensing.sources import LicenseEvidence, LicenseStatement
from pellucid.model import Evidence, Finding

_EXPRESSION = re.compile(r"\s+(?:AND|OR)\s+|[()]", re.IGNORECASE)
_WITH = re.compile(r"\s+WITH\s+", re.IGNORECASE)
_UNDER = re.compile(  # "released under the Apache 2.0 license": the phrase up to punctuation
    r"\b(?:under|licen[cs]ed as|licen[cs]e:)\s+(?:the\s+)?"
    r"((?:[^.,;:()\[\]\n*`]|\.(?=\d)){2,80})",
    re.IGNORECASE,
)
_BACKTICK = re.compile(r"`([^`\n]{2,80})`")
_LINK = re.compile(r"\[([^\]\n]{2,120})\]\(([^)\s]{1,300})\)")
_LICENSE_WORD = re.compile(r"\s+(?:licen[cs]e|agreement)\s*$", re.IGNORECASE)
_NO_CLAIM = frozenset({"other", "unknown", "none", "n/a", "noassertion", "see license"})
_QUALIFIERS = (
    ("code", ("CODE", "SOFTWARE", "SRC")),
    ("data", ("DATA", "DATASET", "DATASETS")),
    ("documentation", ("DOC", "DOCS", "DOCUMENTATION")),
    ("weights", ("MODEL", "MODELS", "WEIGHTS")),
)


@dataclass(frozen=True, slots=True)
class FoundLicense:
    """A licence identified from one statement. ``span`` is [start, end) in the statement's
    text, None for identifier statements; ``score`` is the match quality in [0, 1] (1.0 for
    an identifier the knowledge base knows)."""

    id: str
    spdx_id: str | None
    source: str
    score: float
    span: tuple[int, int] | None
    file: str
    line: int | None
    scope: str
    modified: bool = False
    name: str = ""
    rel: str = ""  # for files: the path inside the model folder


@dataclass(slots=True)
class Resolved:
    found: list[FoundLicense] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    unrecognised: int = 0


def file_scope(path: str) -> str:
    """The part of the model a licence file covers, from the words in its name and folders
    (LICENSE-CODE, data/LICENSE, LICENSE-MODEL); unqualified files cover the weights."""
    words = set(re.split(r"[^A-Z]+", path.upper()))
    for scope, markers in _QUALIFIERS:
        if words & set(markers):
            return scope
    return "weights"


def scope_of(statement: LicenseStatement) -> str:
    if statement.source == "code:header":
        return "code"
    if statement.source == "file:LICENSE":
        return file_scope(statement.rel or statement.file)
    return "weights"


def resolve(evidence: LicenseEvidence) -> Resolved:
    """Identify every statement; one entry per (licence, source, file)."""
    result = Resolved()
    for statement in evidence.statements:
        if statement.kind in ("id", "name"):
            _identifier(statement, result)
        elif statement.kind == "link":
            _link(statement, result)
        else:
            _text(statement, result)
    _other_without_name(evidence, result)
    seen: set[tuple[str, str, str]] = set()
    unique = []
    for found in result.found:
        key = (found.id, found.source, found.file if found.source != "code:header" else "")
        if key not in seen:
            seen.add(key)
            unique.append(found)
    result.found = unique
    return result


def _found(
    statement: LicenseStatement,
    entry: LicenseEntry,
    name: str,
    *,
    score: float = 1.0,
    span: tuple[int, int] | None = None,
    line: int | None = None,
    modified: bool = False,
) -> FoundLicense:
    return FoundLicense(
        id=entry.id,
        spdx_id=entry.spdx_id,
        source=statement.source,
        score=score,
        span=span,
        file=statement.file,
        line=statement.line if line is None else line,
        scope=scope_of(statement),
        modified=modified,
        name=name.strip()[:200],
        rel=statement.rel,
    )


def _identifier(statement: LicenseStatement, result: Resolved) -> None:
    names = _terms(statement.text) if statement.kind == "id" else [statement.text]
    for name in names:
        if name.strip().casefold() in _NO_CLAIM:
            continue
        entry = lookup(name)
        if entry is not None:
            result.found.append(_found(statement, entry, name))
            continue
        result.unrecognised += 1
        where = Evidence(statement.file, offset=statement.offset, line=statement.line,
                         snippet=f"{statement.source}: {name}"[:200])  # fmt: skip
        detail = f"{statement.source} names {name!r}, which no known licence is called"
        result.findings.append(rules.UNKNOWN_ID.finding(where, detail))


def _other_without_name(evidence: LicenseEvidence, result: Resolved) -> None:
    """``license: other`` must come with ``license_name`` or ``license_link``."""
    sources = {s.source for s in evidence.statements}
    if "card:license_name" in sources or "card:license_link" in sources:
        return
    for statement in evidence.statements:
        if statement.source == "card:license" and statement.text.strip().casefold() == "other":
            where = Evidence(statement.file, line=statement.line, snippet="license: other")
            detail = "the card declares a licence outside the Hub's list but does not name it"
            result.findings.append(rules.OTHER_WITHOUT_NAME.finding(where, detail))
            result.unrecognised += 1


def _terms(expression: str) -> list[str]:
    """The licence ids of an SPDX expression; exceptions after WITH are not licences."""
    terms = []
    for part in _EXPRESSION.split(expression):
        licence = _WITH.split(part.strip())[0].strip()
        if licence:
            terms.append(licence)
    return terms


def _link(statement: LicenseStatement, result: Resolved) -> None:
    """A link names a licence only when the URL or its file name is a known spelling;
    otherwise it points at a text, read as a file where it is one (no finding here)."""
    stem = posixpath.basename(statement.text.rstrip("/")).rsplit(".", 1)[0]
    for name in (statement.text, stem):
        entry = lookup(name)
        if entry is not None:
            result.found.append(_found(statement, entry, statement.text, score=0.9))
            return


def _text(statement: LicenseStatement, result: Resolved) -> None:
    from pellucid.licensing.matcher import identify_text

    matches = identify_text(statement.text)
    kept: list[tuple[int, int]] = []
    for match in sorted(matches, key=lambda m: -m.score):
        entry = lookup(match.id)
        if entry is None or any(match.start < end and start < match.end for start, end in kept):
            continue  # a candidate that lost the match is not a licence of this folder
        kept.append((match.start, match.end))
        line = _line(statement, match.start_line)
        span = (match.start, match.end)
        score = _unit(match.score)
        found = _found(statement, entry, entry.name, score=score, span=span, line=line,
                       modified=match.modified)  # fmt: skip
        result.found.append(found)
        if match.modified:
            snippet = str(match.detail or "")[:200]
            detail = f"{statement.file} is a modified copy of {entry.id}: {match.detail}"
            where = Evidence(statement.file, line=line, snippet=snippet)
            result.findings.append(rules.TEXT_MODIFIED.finding(where, detail))
    if kept:
        return
    if statement.source == "readme:section":
        _mention(statement, result)
    elif statement.source == "file:LICENSE" and statement.kind == "text":
        result.unrecognised += 1
        first = next((ln.strip() for ln in statement.text.splitlines() if ln.strip()), "")
        where = Evidence(statement.file, line=1, snippet=first[:200])
        detail = f"{statement.file} matches no known licence text"
        result.findings.append(rules.UNKNOWN_TEXT.finding(where, detail))


def _line(statement: LicenseStatement, start_line: int | None) -> int | None:
    if statement.line is None or start_line is None:
        return statement.line
    if statement.source == "file:LICENSE":
        return start_line
    return statement.line + start_line  # sections and prompts start below their key/heading


def _unit(score: float) -> float:
    return round(score / 100 if score > 1 else score, 4)


def _mention(statement: LicenseStatement, result: Resolved) -> None:
    """A licence section that is no licence text usually names one ("released under the
    Apache 2.0 license"): look its phrases up, first known one wins."""
    text = statement.text
    candidates: list[tuple[str, int, int]] = []
    for pattern, group in ((_BACKTICK, 1), (_LINK, 1), (_LINK, 2), (_UNDER, 1)):
        candidates += [
            (m.group(group), m.start(group), m.end(group)) for m in pattern.finditer(text)
        ]
    stripped = text.strip()
    if len(stripped) <= 100:
        candidates.append((stripped, text.find(stripped), text.find(stripped) + len(stripped)))
    for phrase, start, end in sorted(candidates, key=lambda c: c[1]):
        for name in (phrase.strip(), _LICENSE_WORD.sub("", phrase.strip())):
            entry = lookup(name)
            if entry is not None:
                line = _line(statement, text.count("\n", 0, start) + 1)
                found = _found(statement, entry, phrase, score=0.8, span=(start, end), line=line)
                result.found.append(found)
                return
