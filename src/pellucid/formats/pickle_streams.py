"""Walk every pickle in a byte range: consecutive streams, trailing data, and salvage.

``pickle.load`` reads one stream, but loaders that call it in a loop (legacy torch, joblib's
object arrays, custom formats) read more, so every stream after STOP is interpreted too. Where
a stream breaks, everything reached before the break is kept (nullifAI), and a salvage pass
looks for GLOBAL / STACK_GLOBAL shapes and protocol headers in the rest and interprets from
each of them, so a payload hidden behind garbage is still found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pellucid.budget import Budget
from pellucid.formats.pickle_vm import PickleVM, Stream

SALVAGE_MAX_CANDIDATES = 10_000

# Places where an attacker's stream could begin: a protocol header, a GLOBAL line, or the two
# string pushes of a STACK_GLOBAL (SHORT_BINUNICODE or BINUNICODE, optional MEMOIZE).
_NAME = rb"[A-Za-z_][\w.]{0,255}"
_SALVAGE = re.compile(
    rb"\x80[\x00-\x05]"
    rb"|[ci]" + _NAME + rb"\n" + _NAME + rb"\n"
    rb"|(?:\x8c.|X.\x00\x00\x00)"
    + _NAME
    + rb"(?:\x94|q.|h.)?(?:\x8c.|X.\x00\x00\x00)"
    + _NAME
    + rb"\x94?\x93",
    re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Anomaly:
    """A structural oddity with its offset: ``kind`` is malformed, trailing, stacked,
    salvaged, joblib or legacy."""

    kind: str
    offset: int
    detail: str


@dataclass
class PickleAnalysis:
    """Everything the VM saw in one input, plus how the input was laid out."""

    vm: PickleVM
    streams: list[Stream] = field(default_factory=list)
    anomalies: list[Anomaly] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)
    salvage_from: int | None = None  # events at or after this offset came from salvage
    arrays: int = 0  # joblib raw arrays skipped by their framing

    def note(self, kind: str, offset: int, detail: str) -> None:
        self.anomalies.append(Anomaly(kind, offset, detail))

    def out_of_budget(self, reason: str) -> None:
        if reason not in self.incomplete:
            self.incomplete.append(reason)


def new_analysis(data: memoryview, budget: Budget) -> PickleAnalysis:
    vm = PickleVM(data, max_ops=budget.max_pickle_ops, max_memo=budget.max_pickle_memo)
    return PickleAnalysis(vm)


def walk_streams(
    analysis: PickleAnalysis, start: int, end: int, budget: Budget, *, expect: int | None = None
) -> int | None:
    """Interpret consecutive streams in ``[start, end)``; returns where parsing stopped cleanly
    (``end`` when all bytes were consumed) or None after a failure (the rest was salvaged).

    ``expect`` is how many streams the format itself defines; more are reported as stacked.
    """
    vm = analysis.vm
    pos = start
    first = len(analysis.streams)
    while pos < end:
        if len(analysis.streams) >= budget.max_pickle_streams:
            analysis.out_of_budget(f"more than {budget.max_pickle_streams} pickle streams (budget)")
            return None
        stream = vm.run(pos)
        analysis.streams.append(stream)
        if stream.budget is not None:
            analysis.out_of_budget(stream.budget)
            return None
        if not stream.stopped:
            _broken(analysis, stream, pos, first)
            salvage(analysis, stream.end + (1 if stream.end == pos else 0), end, budget)
            return None
        count = len(analysis.streams) - first
        if expect is not None and count == expect:
            return stream.end
        if count > 1 and expect is None:
            analysis.note("stacked", pos, f"pickle stream #{count} starts after STOP")
        pos = stream.end
    return pos


def _broken(analysis: PickleAnalysis, stream: Stream, pos: int, first: int) -> None:
    if stream.end == pos and len(analysis.streams) - first > 1:
        size = analysis.vm.size - pos
        analysis.note("trailing", pos, f"{size} bytes after STOP that are not a pickle")
    else:
        analysis.note("malformed", stream.end, stream.error or "stream ends without STOP")


def salvage(analysis: PickleAnalysis, start: int, end: int, budget: Budget) -> None:
    """Interpret from every GLOBAL/STACK_GLOBAL shape and protocol header in ``[start, end)``."""
    vm = analysis.vm
    if start >= end:
        return
    if analysis.salvage_from is None or start < analysis.salvage_from:
        analysis.salvage_from = start
    resume = start
    for count, found in enumerate(_SALVAGE.finditer(vm.data, start, end)):
        if count >= SALVAGE_MAX_CANDIDATES:
            analysis.out_of_budget(
                f"salvage stopped after {SALVAGE_MAX_CANDIDATES} candidates "
                f"at offset {found.start()}"
            )
            return
        at = found.start()
        if at < resume:
            continue
        before = len(vm.globals)
        stream = vm.run(at)
        if stream.budget is not None:
            analysis.out_of_budget(stream.budget)
            return
        if stream.stopped or len(vm.globals) > before:
            state = "a complete pickle" if stream.stopped else "a pickle fragment"
            analysis.note(
                "salvaged", at, f"{state} hidden in unparsed bytes ({stream.ops} opcodes)"
            )
        if stream.ops > 1:
            resume = stream.end
