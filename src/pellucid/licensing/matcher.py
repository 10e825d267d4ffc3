"""Identify licence texts by their shingle fingerprints, version siblings included.

Model licences have no SPDX texts and pellucid ships no licence texts, only fingerprints
(``data/license_fingerprints.json``, built by ``scripts/build_license_fingerprints.py``): the
hashed token 5-grams of each reference text. For an input text, every reference whose shingles
occur in it is a candidate; its score is **containment**, the share of the reference's distinct
shingles found in one window of the input (at most 1.5 times the reference's length, so an
added clause still fits). The matched span runs from the first to the last shared shingle.

- A candidate counts only at ``THRESHOLD`` (0.75) or above and with ``MIN_SHARED`` shingles in
  common: a heading, a notice sentence or 30 % of a licence is no match.
- Version siblings share most of their text (Llama 3.1 / 3.2 / 3.3, the two Gemma terms,
  CC BY / BY-NC, BSD-2 / BSD-3, GPL / AGPL). Overlapping candidates are ranked by the balance
  of containment and precision (the share of the span's shingles that are the reference's),
  so a text that adds a sibling's clauses loses; and an entry with marker phrases in the
  knowledge base (e.g. "Llama 3.1 Community License", "Built with Meta Llama 3") is vetoed
  where none of them is in or just before its span.
- The best candidate is taken, the others that touch its span search the rest of the text
  again (a sibling's window may straddle two licences in one file), and so on.
- ``modified``: recognised, but below ``EXACT`` (0.98) containment, or the span holds more
  text that no reference shingle covers than formatting explains (an added clause).
- Meta Llama 3 has no reference text in ScanCode: its fingerprint is derived (the shingles
  its 3.x siblings share), so its thresholds for ``modified`` are looser.
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass
from functools import cache

from pellucid.data import load_json
from pellucid.licensing import knowledge
from pellucid.licensing.match_window import Window, best_window, cut
from pellucid.licensing.normalize import (
    SHINGLE,
    Tokens,
    normalize_phrase,
    shingle_hashes,
    tokenize,
)

FINGERPRINT_FILE = "license_fingerprints.json"
THRESHOLD = 0.75  # containment needed to call a text a licence
EXACT = 0.98  # at or above: the reference text, reformatted at most
DERIVED_EXACT = 0.9  # derived fingerprints (Llama 3) hold only the sibling-shared shingles
MIN_SHARED = 15  # shared shingles below which nothing is a match, whatever the ratio
MAX_CHARS = 4 * 1024 * 1024  # longer input is cut: licence files are at most a few 100 kB
MAX_MATCHES = 12  # licences reported per text
_MAX_VETOES = 3  # windows of a reference set aside for missing markers before giving up
MARKER_LOOKBACK = 40  # tokens before a span searched for a marker (title, version line)
_EXTRA_BASE = 8  # uncovered tokens tolerated in a span (a changed URL or copyright line) ...
_EXTRA_SHARE = 0.005  # ... plus this share of the reference's length
_DERIVED_EXTRA = (60, 0.02)  # derived fingerprints miss the version's own wording by design


@dataclass(frozen=True, slots=True)
class TextMatch:
    """One licence recognised in a text."""

    id: str
    score: float  # 0..1 containment of the reference's shingles
    start: int  # character span in the input text
    end: int
    start_line: int  # 1-based
    end_line: int
    modified: bool  # recognised, but differs from the reference beyond formatting
    detail: str  # one line: why this id (and not its sibling versions)


@dataclass(frozen=True, slots=True)
class _Reference:
    id: str
    hashes: frozenset[int]
    tokens: int
    derived: bool
    markers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Candidate:
    ref: _Reference
    window: Window
    score: float
    precision: float  # share of the span's distinct shingles that are in the reference
    marker: str | None
    first: int  # first token of the span (a marker before the shingles moves it back)
    extra: int  # tokens of the span no shared shingle covers
    vetoed: bool  # the entry has version markers and none is in the span

    @property
    def last(self) -> int:
        return self.window.last + SHINGLE - 1

    def rank(self) -> tuple[float, float, int]:
        """Balanced fit first: a sibling that contains the reference but adds its own clauses
        (CC BY-NC over CC BY, BSD-3 over BSD-2) loses on precision, not on containment."""
        fit = 2 * self.score * self.precision / (self.score + self.precision)
        return (round(fit, 6), self.score, -self.extra)


def identify_text(text: str) -> list[TextMatch]:
    """Non-overlapping best licence matches in ``text``, best first; [] means unrecognised."""
    if not isinstance(text, str) or not text:
        return []
    text = text[:MAX_CHARS]
    tokens = tokenize(text)
    hashes = shingle_hashes(tokens.words)
    seen: list[_Candidate] = []  # every candidate considered, for the explanations
    segments: dict[_Reference, list[list[int]]] = {}
    pending: dict[_Reference, _Candidate | None] = {}
    for ref, positions in _hits(hashes).items():
        pending[ref], segments[ref] = _search(ref, [positions], tokens, hashes, seen)
    chosen: list[_Candidate] = []
    while len(chosen) < MAX_MATCHES:
        live = [c for c in pending.values() if c is not None]
        if not live:
            break
        best = max(live, key=_Candidate.rank)
        if not any(_overlap(best, other) for other in chosen):
            chosen.append(best)
        # Every reference that wanted this part of the text searches the rest of it again:
        # a sibling's window may have reached into it from the next licence in the file.
        for ref, candidate in pending.items():
            if candidate is not None and _touches(candidate, best):
                rest = cut(segments[ref], best.first, best.last)
                pending[ref], segments[ref] = _search(ref, rest, tokens, hashes, seen)
    return [_match(c, seen, text, tokens) for c in chosen]


def _search(
    ref: _Reference,
    segments: list[list[int]],
    tokens: Tokens,
    hashes: list[int],
    seen: list[_Candidate],
) -> tuple[_Candidate | None, list[list[int]]]:
    """The best candidate of ``ref`` in its remaining hits, and the hits left to search.

    A window without the reference's version markers is a sibling's text: it is set aside
    (and remembered for the explanation) and the rest of the text is searched.
    """
    size = len(ref.hashes)
    need = max(MIN_SHARED, THRESHOLD * size)
    for _ in range(_MAX_VETOES):
        window = best_window(segments, hashes, size, _window_length(ref), need)
        candidate = None if window is None else _candidate(ref, window, tokens, hashes)
        if window is None or candidate is None:
            return None, segments
        seen.append(candidate)
        if not candidate.vetoed:
            return candidate, segments
        segments = cut(segments, window.first, window.last)
    return None, segments


def _window_length(ref: _Reference) -> int:
    return int(ref.tokens * 1.5) + 40


def _hits(hashes: list[int]) -> dict[_Reference, list[int]]:
    """Token positions of every shingle a reference shares with the input, per reference."""
    refs, index = _index()
    found: dict[int, list[int]] = {}
    for position, value in enumerate(hashes):
        owners = index.get(value)
        if owners is None:
            continue
        for owner in owners:
            found.setdefault(owner, []).append(position)
    out: dict[_Reference, list[int]] = {}
    for owner, positions in found.items():
        ref = refs[owner]
        distinct = len({hashes[p] for p in positions})
        if distinct >= max(MIN_SHARED, THRESHOLD * len(ref.hashes)):
            out[ref] = positions
    return out


def _candidate(
    ref: _Reference, window: Window, tokens: Tokens, hashes: list[int]
) -> _Candidate | None:
    score = window.distinct / len(ref.hashes)
    if score < THRESHOLD or window.distinct < MIN_SHARED:
        return None
    span = set(hashes[window.first : window.last + 1])
    precision = len(span & ref.hashes) / len(span)
    first = window.first
    marker = None
    if ref.markers:
        marker, marker_at = _find_marker(ref.markers, tokens.words, window)
        first = min(first, marker_at)
    extra = max(0, (window.last + SHINGLE - first) - window.covered)
    vetoed = bool(ref.markers) and marker is None
    return _Candidate(ref, window, score, precision, marker, first, extra, vetoed)


def _find_marker(
    markers: tuple[str, ...], words: list[str], window: Window
) -> tuple[str | None, int]:
    """The first marker phrase present in the span (or just before it) and its token index."""
    lo = max(0, window.first - MARKER_LOOKBACK)
    hi = window.last + SHINGLE
    region = words[lo:hi]
    joined = " " + " ".join(region) + " "
    for marker in markers:
        at = joined.find(" " + marker + " ")
        if at >= 0:
            return marker, lo + joined.count(" ", 0, at)
    return None, window.first


def _resolve(candidates: list[_Candidate]) -> list[_Candidate]:
    """Greedy choice of the best candidates whose spans do not overlap, best first."""
    chosen: list[_Candidate] = []
    for candidate in sorted(candidates, key=_Candidate.rank, reverse=True):
        if all(not _overlap(candidate, other) for other in chosen):
            chosen.append(candidate)
    return chosen


def _touches(a: _Candidate, b: _Candidate) -> bool:
    return a.first <= b.last and b.first <= a.last


def _overlap(a: _Candidate, b: _Candidate) -> bool:
    shared = min(a.last, b.last) - max(a.first, b.first) + 1
    smaller = min(a.last - a.first, b.last - b.first) + 1
    return shared > 0.2 * smaller


def _is_modified(c: _Candidate) -> bool:
    exact = DERIVED_EXACT if c.ref.derived else EXACT
    base, share = _DERIVED_EXTRA if c.ref.derived else (_EXTRA_BASE, _EXTRA_SHARE)
    return c.score < exact or c.extra > base + share * c.ref.tokens


def _match(c: _Candidate, everyone: list[_Candidate], text: str, tokens: Tokens) -> TextMatch:
    start, end = tokens.starts[c.first], tokens.ends[min(c.last, len(tokens.ends) - 1)]
    return TextMatch(
        id=c.ref.id,
        score=round(c.score, 4),
        start=start,
        end=end,
        start_line=text.count("\n", 0, start) + 1,
        end_line=text.count("\n", 0, end) + 1,
        modified=_is_modified(c),
        detail=_detail(c, everyone),
    )


def _detail(c: _Candidate, everyone: list[_Candidate]) -> str:
    parts = [f"{c.score:.1%} of the {c.ref.id} reference shingles"]
    if c.ref.derived:
        parts[0] += " (derived: text shared by its sibling versions)"
    if c.marker is not None:
        parts.append(f'marker "{c.marker}"')
    rivals = [o for o in everyone if o.ref.id != c.ref.id and _overlap(o, c)]
    fitting = [o for o in rivals if not o.vetoed]
    if fitting:
        best = max(fitting, key=_Candidate.rank)
        parts.append(f"closest other: {best.ref.id} {best.score:.1%}")
    vetoed = sorted({o.ref.id for o in rivals if o.vetoed})
    if vetoed:
        parts.append("version markers absent for " + ", ".join(vetoed))
    if c.extra:
        parts.append(f"{c.extra} tokens not in the reference")
    return "; ".join(parts)


@cache
def _index() -> tuple[tuple[_Reference, ...], dict[int, tuple[int, ...]]]:
    """The references and an inverted index from shingle hash to reference numbers."""
    raw = load_json(FINGERPRINT_FILE)
    refs: list[_Reference] = []
    for license_id, record in raw["entries"].items():
        facts = knowledge.text_facts(license_id)
        packed = base64.b64decode(record["hashes"])
        values = struct.unpack(f">{len(packed) // 4}I", packed)
        refs.append(
            _Reference(
                id=license_id,
                hashes=frozenset(values),
                tokens=int(record["tokens"]),
                derived=facts is not None and facts.fingerprint == "derived",
                markers=_markers(facts),
            )
        )
    index: dict[int, list[int]] = {}
    for number, ref in enumerate(refs):
        for value in ref.hashes:
            index.setdefault(value, []).append(number)
    return tuple(refs), {value: tuple(owners) for value, owners in index.items()}


def _markers(facts: knowledge.TextFacts | None) -> tuple[str, ...]:
    return tuple(normalize_phrase(m) for m in facts.markers) if facts else ()
