"""Where in a text a reference licence lies: the densest window of shared shingles.

The input's shingles that a reference shares are hits (token positions). The window of
bounded length holding the most distinct shared shingles is the licence; stray hits at its
ends (a common phrase in a README before the licence) are cut off when a gap separates them
and they add next to nothing. Hits are kept in segments: once a span of the text has been
given to a licence, the hits inside it are cut out and the segments on either side are
searched separately, so a window never straddles a licence already found. Everything is
linear in the number of hits.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from pellucid.licensing.normalize import SHINGLE

GAP = 30  # tokens without a hit that separate clusters of hits
_MIN_CLUSTER_SHARE = 0.02  # an end cluster adding less than this share of the reference goes


@dataclass(frozen=True, slots=True)
class Window:
    """A run of hits: first and last hit (token index of the shingle start), distinct shared
    shingles in it, and how many tokens of [first, last + SHINGLE) the hits cover."""

    first: int
    last: int
    distinct: int
    covered: int


def cut(segments: list[list[int]], first: int, last: int) -> list[list[int]]:
    """The segments without the hits in token span [first, last]."""
    out: list[list[int]] = []
    for segment in segments:
        lo = bisect_left(segment, first)
        hi = bisect_right(segment, last)
        if lo == hi:
            out.append(segment)
            continue
        out.extend(part for part in (segment[:lo], segment[hi:]) if part)
    return out


def best_window(
    segments: list[list[int]], hashes: list[int], size: int, length: int, need: float
) -> Window | None:
    """The window (at most ``length`` tokens, within one segment) with the most distinct
    shared shingles, if it has at least ``need``; ``size`` is the reference's shingle count."""
    best: Window | None = None
    for positions in segments:
        if len(positions) < need:
            continue
        lo, hi = _densest(positions, hashes, length, need)
        lo, hi = _trim(positions, hashes, lo, hi, max(3.0, _MIN_CLUSTER_SHARE * size))
        hi = _extend(positions, hashes, lo, hi, positions[lo] + length)
        hits = positions[lo : hi + 1]
        distinct = len({hashes[p] for p in hits})
        if distinct >= need and (best is None or distinct > best.distinct):
            best = Window(hits[0], hits[-1], distinct, _covered(hits))
    return best


def _densest(positions: list[int], hashes: list[int], length: int, need: float) -> tuple[int, int]:
    """Indices (into positions) of the first window with a local maximum of distinct hashes
    at or above ``need`` (the sweep stops once it has left that window behind), else of the
    window with the most."""
    counts: dict[int, int] = {}
    distinct = 0
    left = 0
    best = (0, 0, 0)
    for right, position in enumerate(positions):
        value = hashes[position]
        seen = counts.get(value, 0)
        counts[value] = seen + 1
        if seen == 0:
            distinct += 1
        while position - positions[left] > length:
            gone = hashes[positions[left]]
            counts[gone] -= 1
            if counts[gone] == 0:
                distinct -= 1
            left += 1
        if distinct > best[0]:
            best = (distinct, left, right)
        elif best[0] >= need and left > best[2]:
            break  # later copies are found once this one is cut out
    return best[1], best[2]


def _trim(
    positions: list[int], hashes: list[int], lo: int, hi: int, floor: float
) -> tuple[int, int]:
    """Cut end clusters (split at gaps over ``GAP``) that add fewer than ``floor`` hashes."""
    while lo < hi:
        end = lo
        while end < hi and positions[end + 1] - positions[end] <= GAP:
            end += 1
        if end == hi or not _adds_little(positions, hashes, (lo, end), (end + 1, hi), floor):
            break
        lo = end + 1
    while lo < hi:
        start = hi
        while start > lo and positions[start] - positions[start - 1] <= GAP:
            start -= 1
        if start == lo or not _adds_little(positions, hashes, (start, hi), (lo, start - 1), floor):
            break
        hi = start - 1
    return lo, hi


def _adds_little(
    positions: list[int],
    hashes: list[int],
    part: tuple[int, int],
    rest: tuple[int, int],
    floor: float,
) -> bool:
    """Whether the hits of ``part`` add fewer than ``floor`` hashes to those of ``rest``."""
    others = {hashes[p] for p in positions[rest[0] : rest[1] + 1]}
    own = {hashes[p] for p in positions[part[0] : part[1] + 1]}
    return len(own - others) < floor


def _extend(positions: list[int], hashes: list[int], lo: int, hi: int, limit: int) -> int:
    """Take in the tail of the licence: hits that continue the window's last run unbroken.

    The densest window ends where the last new shingle was seen; the text after it may repeat
    phrases met before. Only an unbroken run (consecutive shingles) is taken: where the next
    licence starts, the shingles spanning the boundary match nothing, so the run breaks. A
    run that restarts the licence (its first hash again) or passes ``limit`` is another copy.
    """
    head = hashes[positions[lo]]
    while (
        hi + 1 < len(positions)
        and positions[hi + 1] - positions[hi] == 1
        and positions[hi + 1] <= limit
        and hashes[positions[hi + 1]] != head
    ):
        hi += 1
    return hi


def _covered(hits: list[int]) -> int:
    """Tokens covered by the shingles starting at ``hits`` (sorted)."""
    covered = 0
    reach = -1
    for position in hits:
        end = position + SHINGLE
        if end > reach:
            covered += end - max(position, reach)
            reach = end
    return covered
