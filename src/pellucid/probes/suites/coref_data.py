"""Reading Winogender's ``all_sentences.tsv`` and WinoBias's pro/anti files in their upstream
layouts into sentences to resolve; a malformed row is a ProbeError naming its file and line."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pellucid.probes.base import ProbeError


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence to resolve: its candidates, the correct one, and its bias condition."""

    id: str
    text: str  # brackets removed
    pronoun: str
    gender: str
    choices: tuple[str, str]
    answer: int  # index into choices
    condition: str  # winogender: the answer's role; winobias: "pro" or "anti"
    pair: str = ""  # winobias: id of the same sentence in the other condition


PRONOUNS = {
    "male": ("he", "him", "his", "himself"),
    "female": ("she", "her", "hers", "herself"),
    "neutral": ("they", "them", "their", "theirs", "themselves"),
}
GENDER_OF = {p: g for g, forms in PRONOUNS.items() for p in forms}
WORD = re.compile(r"[A-Za-z]+")
BRACKET = re.compile(r"\[([^\[\]]*)\]")
LEADING_NUMBER = re.compile(r"^\d+\s+")
ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)
WINOBIAS_FILE = re.compile(r"^(pro|anti)_stereotyped_(type[12])\.txt\.\w+$")


def _read(path: Path, suite: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProbeError(f"{suite}: cannot read {path}: {exc}") from None


def read_winogender(path: Path) -> tuple[list[Sentence], int]:
    """The sentences of an upstream ``all_sentences.tsv`` and the count of rows whose pronoun
    could not be found; ProbeError names the file and line of a malformed row."""
    rows = _read(path, "winogender").splitlines()
    if not rows or rows[0].rstrip().split("\t") != ["sentid", "sentence"]:
        raise ProbeError(f"winogender: {path.name} lacks the header sentid<TAB>sentence")
    sentences, skipped = [], 0
    for number, row in enumerate(rows[1:], start=2):
        if not row.strip():
            continue
        fields = row.rstrip("\r\n").split("\t")
        parts = fields[0].strip().split(".")
        if len(fields) != 2 or len(parts) != 5 or parts[4] != "txt" or not all(parts[:2]):
            raise ProbeError(
                f"winogender: {path.name} line {number}: expected "
                "occupation.participant.answer.gender.txt<TAB>sentence"
            )
        if parts[2] not in ("0", "1") or parts[3] not in PRONOUNS:
            raise ProbeError(f"winogender: {path.name} line {number}: bad answer or gender")
        text, gender = fields[1].strip(), parts[3]
        pronoun = next((w for w in WORD.findall(text) if GENDER_OF.get(w.lower()) == gender), None)
        if pronoun is None:
            skipped += 1  # a row whose pronoun is not of its stated gender cannot be prompted
            continue
        answer = int(parts[2])
        choices = (parts[0].replace("_", " "), parts[1].replace("_", " "))
        role = ("occupation", "participant")[answer]
        sentences.append(Sentence(fields[0].strip(), text, pronoun, gender, choices, answer, role))
    return sentences, skipped


@dataclass(frozen=True, slots=True)
class _Line:
    id: str
    condition: str
    text: str  # brackets removed
    referent: str  # without its article
    span: tuple[int, int]  # of the referent (without article) in text
    pronoun: str
    key: str  # text with the pronoun masked: pairs pro with anti


def read_winobias(files: Sequence[Path]) -> tuple[dict[str, list[Sentence]], dict[str, int]]:
    """Sentences per type (pro and anti paired by text, interleaved) and unparseable lines
    per type; ProbeError for a file whose name is not an upstream one."""
    lines: dict[str, list[_Line]] = {}
    skipped = {"type1": 0, "type2": 0}
    for path in files:
        match = WINOBIAS_FILE.match(path.name)
        if match is None:
            raise ProbeError(
                f"winobias: {path.name} is not a {{pro,anti}}_stereotyped_type1/2 file"
            )
        condition, kind = match.groups()
        for number, raw in enumerate(_read(path, "winobias").splitlines(), start=1):
            line = _parse_line(f"{path.name}:{number}", condition, raw) if raw.strip() else None
            skipped[kind] += bool(raw.strip()) and line is None
            lines.setdefault(kind, []).extend([line] if line else [])
    names = sorted({ln.referent.lower() for group in lines.values() for ln in group}, key=len)
    occupations = re.compile(
        r"\bthe (" + "|".join(re.escape(n) for n in reversed(names)) + r")\b", re.IGNORECASE
    )
    by_type: dict[str, list[Sentence]] = {}
    for kind, group in sorted(lines.items()):
        resolved = [(line.key, _resolve(line, occupations)) for line in group]
        skipped[kind] += sum(s is None for _, s in resolved)
        by_type[kind] = _pair([(key, s) for key, s in resolved if s is not None])
    if not any(by_type.values()):
        raise ProbeError("winobias: no parseable sentence in the files read")
    return {k: v for k, v in by_type.items() if v}, skipped


def _parse_line(line_id: str, condition: str, raw: str) -> _Line | None:
    """One bracketed referent and one or more bracketed pronouns of one gender (upstream
    brackets every mention of the entity: "[she] needed to prove [her] strength"), or None.
    The first pronoun is the one asked about."""
    text = LEADING_NUMBER.sub("", raw.strip(), count=1)
    spans = list(BRACKET.finditer(text))
    pronouns = [m for m in spans if m.group(1).strip().lower() in GENDER_OF]
    referents = [m for m in spans if m not in pronouns]
    genders = {GENDER_OF[m.group(1).strip().lower()] for m in pronouns}
    if len(referents) != 1 or len(genders) != 1 or set("[]") & set(BRACKET.sub("", text)):
        return None
    [referent], pronoun = referents, pronouns[0]
    phrase = referent.group(1)
    name = ARTICLE.sub("", phrase.strip())
    if not name:
        return None
    before = sum(m.start() < referent.start() for m in spans)  # brackets removed before it
    start = referent.start() - 2 * before + phrase.index(name)
    clean = BRACKET.sub(lambda m: m.group(1), text)
    masked = {m.start() for m in pronouns}
    key = BRACKET.sub(lambda m: "\0" if m.start() in masked else m.group(1), text)
    span = (start, start + len(name))
    return _Line(line_id, condition, clean, name, span, pronoun.group(1).strip(), key.lower())


def _resolve(line: _Line, occupations: re.Pattern[str]) -> Sentence | None:
    """The sentence with its distractor: the one other occupation written 'the <occupation>'."""
    found: dict[str, tuple[int, str]] = {}
    for match in occupations.finditer(line.text):
        start, end = match.span(1)
        name = match.group(1)
        outside = end <= line.span[0] or start >= line.span[1]
        if outside and name.lower() != line.referent.lower():
            found.setdefault(name.lower(), (start, name))
    if len(found) != 1:
        return None
    [(start, distractor)] = found.values()
    first = line.span[0] < start
    choices = (line.referent, distractor) if first else (distractor, line.referent)
    gender = GENDER_OF[line.pronoun.lower()]
    return Sentence(
        line.id, line.text, line.pronoun, gender, choices, 0 if first else 1, line.condition
    )


def _pair(keyed: Sequence[tuple[str, Sentence]]) -> list[Sentence]:
    """Pro sentences each followed by its anti twin (same text, pronoun masked), then the anti
    sentences left unmatched: matched on text because the files' line orders differ."""
    anti: dict[str, list[Sentence]] = {}
    for key, s in keyed:
        anti.setdefault(key, []).extend([s] if s.condition == "anti" else [])
    out: list[Sentence] = []
    for key, s in keyed:
        twins = anti.get(key) if s.condition == "pro" else None
        if twins:
            twin = twins.pop(0)
            out += [replace(s, pair=twin.id), replace(twin, pair=s.id)]
        elif s.condition == "pro":
            out.append(s)
    return out + [s for group in anti.values() for s in group]


# Upstream's occupations-stats.tsv: occupation, bergsma_pct_female, bls_pct_female, bls_year.
STATS_COLUMNS = ("occupation", "bls_pct_female")
MAJORITY = 50.0  # percent female above which an occupation is majority-female (upstream: > 50)


def read_occupation_stats(path: Path) -> dict[str, float]:
    """Occupation -> percent female in the U.S. Bureau of Labor Statistics figures, from
    upstream's ``occupations-stats.tsv``; ProbeError names the file and line of a bad row."""
    rows = _read(path, "winogender").splitlines()
    header = rows[0].rstrip("\r\n").split("\t") if rows else []
    if not all(column in header for column in STATS_COLUMNS):
        raise ProbeError(f"winogender: {path.name} lacks the columns {' and '.join(STATS_COLUMNS)}")
    name, value = (header.index(column) for column in STATS_COLUMNS)
    shares: dict[str, float] = {}
    for number, row in enumerate(rows[1:], start=2):
        fields = row.rstrip("\r\n").split("\t")
        if not row.strip():
            continue
        try:
            share = float(fields[value])
        except (IndexError, ValueError):
            share = float("nan")
        if len(fields) != len(header) or not fields[name].strip() or not 0 <= share <= 100:
            raise ProbeError(
                f"winogender: {path.name} line {number}: expected an occupation and a "
                "bls_pct_female between 0 and 100"
            )
        shares[_occupation_key(fields[name])] = share
    return shares


def _occupation_key(name: str) -> str:
    return name.strip().lower().replace(" ", "_")


def occupation(sentence: Sentence) -> str:
    """The occupation field of a Winogender sentid, as occupations-stats.tsv spells it."""
    return _occupation_key(sentence.id.split(".", 1)[0])


def is_gotcha(sentence: Sentence, pct_female: float) -> bool | None:
    """Whether the occupation's BLS majority gender points to the wrong referent: a
    female/male pronoun that refers to the occupation and is not its majority gender, or
    refers to the participant and is. None for neutral pronouns (no majority to go against).
    The four cases of upstream's gotcha rule (rudinger/winogender-schemas), written as one."""
    if sentence.gender not in ("male", "female"):
        return None
    majority = "female" if pct_female > MAJORITY else "male"
    return (sentence.gender == majority) == (sentence.answer == 1)
