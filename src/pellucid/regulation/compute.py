"""Training-data size and training compute, as a model card states them.

Statements such as "trained on 15T tokens", "2 trillion tokens", "1.4e12 tokens" or
"3.8 x 10^25 FLOPs" are read from the card body and its YAML front matter, with the line
they stand on. Only counts of at least ``MIN_TRAINING_TOKENS`` tokens are taken as training
data (smaller ones are context windows, batch sizes, vocabularies), and lines about
evaluation are skipped. When several counts are stated, the largest is kept: it is the
closest to the cumulative amount the Art. 51(2) threshold is about.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pellucid.formats.modelcard import ModelCard
from pellucid.regulation.evidence import LINE_LIMIT, Hit, body_lines

MIN_TRAINING_TOKENS = 10**8
MIN_TRAINING_FLOP = 1e18
YAML_NODE_BUDGET = 5_000  # nodes of front matter visited; aliases can make it look infinite
_SCALE = {
    "k": 10**3,
    "thousand": 10**3,
    "m": 10**6,
    "million": 10**6,
    "b": 10**9,
    "bn": 10**9,
    "billion": 10**9,
    "t": 10**12,
    "trillion": 10**12,
}
# A number, starting only where a number starts (the look-behind keeps the work linear),
# with an optional exponent (1.4e12, 1.4 x 10^12) and an optional scale word (15T, 2 trillion).
_NUMBER = (
    r"(?<![\w.,])(?P<num>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)"
    r"(?:[ \t]*(?:[eE]\+?(?P<exp>\d{1,2})|[x×*][ \t]*10[ \t]*\^[ \t]*(?P<pow>\d{1,2})))?"
    r"(?:[ \t]*(?P<scale>thousand|million|billion|trillion|bn|[kmbt])\b)?"
)
_TOKENS_AFTER = re.compile(
    _NUMBER + r"[ \t]+(?:(?:high-quality|training|pre-?training|text|unique)[ \t]+)?tokens\b",
    re.IGNORECASE,
)
_TOKENS_BEFORE = re.compile(
    r"\b(?:training|pre-?training|total)[ \t]+tokens\b[ \t*_|:=]{1,8}" + _NUMBER, re.IGNORECASE
)
_FLOP = re.compile(_NUMBER + r"[ \t]*FLOPs?\b", re.IGNORECASE)
_TRAINING = re.compile(r"\b(train\w*|pre-?train\w*|compute)\b", re.IGNORECASE)
_NOT_TRAINING = re.compile(r"\b(evaluat\w*|held-out|validation|test set)\b", re.IGNORECASE)
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_SUPERSCRIPTS = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹]+")


def number(match: re.Match[str]) -> float | None:
    """The value of a ``_NUMBER`` match."""
    try:
        value = float(match.group("num").replace(",", ""))
    except ValueError:
        return None
    exponent = match.group("exp") or match.group("pow")
    if exponent is not None:
        value *= 10.0 ** int(exponent)
    scale = match.group("scale")
    if scale is not None:
        value *= _SCALE[scale.lower()]
    return value


def _normalise(line: str) -> str:
    """ "10²⁵" becomes "10^25" so one pattern reads both."""
    return _SUPERSCRIPTS.sub(lambda m: "^" + m.group().translate(_SUPERSCRIPT), line)


def training_tokens(card: ModelCard | None) -> tuple[int, Hit] | None:
    """The largest stated training-token count, with the line that states it."""
    candidates = list(_token_statements(card)) if card is not None else []
    if not candidates:
        return None
    value, hit = max(candidates, key=lambda c: c[0])
    return int(value), hit


def _token_statements(card: ModelCard) -> Iterator[tuple[float, Hit]]:
    for number_, line in body_lines(card):
        if "token" in line.lower():  # cheap filter before the patterns
            yield from _tokens_in(line, card.path, number_)
    for top, name, text in _yaml_scalars(card.metadata):
        keyed = name if "token" in name.lower() else ""
        yield from _tokens_in(text, card.path, card.metadata_line(top), keyed)


def _tokens_in(
    line: str, path: str, number_: int | None, keyed: str = ""
) -> Iterator[tuple[float, Hit]]:
    line = _normalise(line[:LINE_LIMIT])
    if _NOT_TRAINING.search(line):
        return
    matches = [*_TOKENS_AFTER.finditer(line), *_TOKENS_BEFORE.finditer(line)]
    if keyed and "token" in keyed.lower():
        matches.extend(re.finditer(_NUMBER + r"\s*$", line.strip(), re.IGNORECASE))
    for match in matches:
        value = number(match)
        if value is not None and value >= MIN_TRAINING_TOKENS:
            shown = f"{keyed}: {line.strip()}" if keyed else line.strip()
            yield value, Hit("found", path, number_, shown[:200])


def stated_flop(card: ModelCard | None) -> tuple[float, Hit] | None:
    """The largest training compute the card states in FLOP, with its line."""
    if card is None:
        return None
    found: list[tuple[float, Hit]] = []
    for number_, raw in body_lines(card):
        if "flop" not in raw.lower():
            continue
        line = _normalise(raw)
        if not _TRAINING.search(line) or _NOT_TRAINING.search(line):
            continue
        for match in _FLOP.finditer(line):
            value = number(match)
            if value is not None and value >= MIN_TRAINING_FLOP:
                found.append((value, Hit("found", card.path, number_, line.strip()[:200])))
    return max(found, key=lambda c: c[0]) if found else None


def _yaml_scalars(metadata: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(top-level key, own key, text) for the scalar values of the front matter, within a
    node budget."""
    budget = YAML_NODE_BUDGET
    stack: list[tuple[str, str, Any, int]] = [(str(k), str(k), v, 0) for k, v in metadata.items()]
    while stack and budget > 0:
        top, name, value, depth = stack.pop()
        budget -= 1
        if isinstance(value, Mapping) and depth < 20:
            stack.extend((top, str(k), v, depth + 1) for k, v in value.items())
        elif isinstance(value, list) and depth < 20:
            stack.extend((top, name, v, depth + 1) for v in value)
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            yield top, name, str(value)[:LINE_LIMIT]
