"""Licence text normalisation: the token and shingle form that survives reformatting.

A licence copied into a model card is re-wrapped, turned into markdown, given smart quotes and
headings; none of that changes its terms, so none of it may change its fingerprint. Tokens are
runs of letters and digits, NFKC-normalised and case-folded: punctuation, quotes, dashes,
markdown markup (``#``, ``*``, ``_``, ``>``, bullets) and line breaks are separators and
vanish. The target of a markdown link (``[text](url)``) is dropped, since the plain text shows
the URL once. A version number keeps its dots ("3.1" is one token), so "Llama 3" and
"Llama 3.1" never share the token that tells them apart. Shingles are 5 consecutive tokens,
hashed to 32 bits with BLAKE2b, so fingerprints are stable across processes and platforms.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from hashlib import blake2b

SHINGLE = 5
HASH_NAME = "blake2b-32"
# Soft hyphens and zero-width characters inside a word are not word breaks.
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_TOKEN = re.compile(rf"[^\W_]+(?:[{_INVISIBLE}]+[^\W_]+)*(?:\.[0-9]+)*")
_LINK_TARGET = re.compile(
    r"\]\(\s*<?[^()\s<>]*(?:\([^()\s]*\)[^()\s<>]*)*>?(?:\s+\"[^\"]*\")?\s*\)"
)
_STRIP_INVISIBLE = str.maketrans("", "", _INVISIBLE)


@dataclass(frozen=True, slots=True)
class Tokens:
    """Normalised tokens of a text with the character span of each in the original."""

    words: list[str]
    starts: list[int]
    ends: list[int]


def tokenize(text: str) -> Tokens:
    """Normalised tokens of ``text``, skipping markdown link targets."""
    words: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    skip = _link_targets(text)
    next_skip = skip.pop() if skip else None
    for match in _TOKEN.finditer(text):
        start = match.start()
        while next_skip is not None and start >= next_skip[1]:
            next_skip = skip.pop() if skip else None
        if next_skip is not None and next_skip[0] <= start:
            continue
        words.append(_normal(match.group()))
        starts.append(start)
        ends.append(match.end())
    return Tokens(words, starts, ends)


def normalize_phrase(phrase: str) -> str:
    """A phrase in token form: its normalised tokens joined by single spaces."""
    return " ".join(tokenize(phrase).words)


def shingle_hashes(words: list[str]) -> list[int]:
    """The 32-bit hash of every run of ``SHINGLE`` consecutive tokens, in text order."""
    out: list[int] = []
    append = out.append
    for i in range(len(words) - SHINGLE + 1):
        data = " ".join(words[i : i + SHINGLE]).encode("utf-8")
        append(int.from_bytes(blake2b(data, digest_size=4).digest(), "big"))
    return out


def _normal(word: str) -> str:
    if word.isascii():
        return word.lower()
    return unicodedata.normalize("NFKC", word.translate(_STRIP_INVISIBLE)).casefold()


def _link_targets(text: str) -> list[tuple[int, int]]:
    """Character spans of ``](target)`` parts of markdown links, last first (a stack)."""
    if "](" not in text:
        return []
    spans = [(m.start(), m.end()) for m in _LINK_TARGET.finditer(text)]
    spans.reverse()
    return spans
