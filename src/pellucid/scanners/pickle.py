"""The pickle scanner: plain pickles, joblib files and legacy ``torch.save`` files.

Every stream in the file is interpreted by the symbolic VM (nothing is ever unpickled); each
imported name is judged allowlist-first, and structural tricks (broken streams, data after
STOP, computed names, writes into imported objects, nested pickles) have rules of their own.
Nested pickles are handed back as members so the pipeline scans them like any other pickle.
"""

from __future__ import annotations

from typing import ClassVar

from pellucid.formats.pickle_framing import joblib_hook, walk_legacy_torch
from pellucid.formats.pickle_nested import NestedPickle, find_nested
from pellucid.formats.pickle_streams import PickleAnalysis, new_analysis, walk_streams
from pellucid.model import Artifact, FileKind, Rule
from pellucid.scanners.base import Member, ScanContext, ScanResult
from pellucid.scanners.pickle_rules import NESTED_PICKLE, RULES
from pellucid.scanners.pickle_verdict import Verdict
from pellucid.source import ByteSource

NESTED_PREFIX = "nested-pickle@"
_MAX_NESTED_MEMBERS = 64


class PickleScanner:
    """Symbolic analysis of pickle streams (``FileKind.PICKLE`` and ``TORCH_LEGACY``)."""

    id: ClassVar[str] = "pickle"
    rules: ClassVar[tuple[Rule, ...]] = RULES

    def accepts(self, kind: FileKind) -> bool:
        return kind in (FileKind.PICKLE, FileKind.TORCH_LEGACY)

    def scan(self, artifact: Artifact, source: ByteSource, ctx: ScanContext) -> ScanResult:
        analysis = analyze(source, artifact.kind, ctx)
        verdict = Verdict(artifact, ctx.policy)
        verdict.judge(analysis)
        vm = analysis.vm
        nested = find_nested(vm.data, vm.blobs, ctx.budget.max_member_bytes)
        members, incomplete = self._nested(artifact, nested, ctx, verdict)
        notes = [f"{len(analysis.streams)} pickle stream(s), {vm.ops_total} opcodes"]
        if analysis.arrays:
            notes.append(f"{analysis.arrays} joblib array(s) skipped by their framing")
        if vm.out_of_band:
            notes.append(f"{vm.out_of_band} out-of-band buffer(s) referenced (NEXT_BUFFER)")
        return ScanResult(
            findings=tuple(verdict.findings()),
            members=tuple(members),
            incomplete=tuple(analysis.incomplete + incomplete),
            notes=tuple(notes),
        )

    def _nested(
        self, artifact: Artifact, nested: list[NestedPickle], ctx: ScanContext, verdict: Verdict
    ) -> tuple[list[Member], list[str]]:
        members: list[Member] = []
        incomplete: list[str] = []
        depth = sum(name.startswith(NESTED_PREFIX) for name in artifact.member)
        for item in nested:
            wrapping = "+".join(item.encoding) or "raw"
            verdict.add(
                NESTED_PICKLE,
                wrapping,
                item.offset,
                f"<{wrapping} pickle of {len(item.data)} bytes>",
                f"a literal holds a pickle ({wrapping}); scanned as member "
                f"{NESTED_PREFIX}{item.offset}",
            )
            if depth >= ctx.budget.max_nested_pickle_depth:
                incomplete.append(
                    f"pickle nested deeper than {ctx.budget.max_nested_pickle_depth} "
                    f"at offset {item.offset} not scanned (budget)"
                )
            elif len(members) >= _MAX_NESTED_MEMBERS:
                incomplete.append(
                    f"more than {_MAX_NESTED_MEMBERS} nested pickles; rest not scanned"
                )
                break
            else:
                members.append(
                    Member(
                        f"{NESTED_PREFIX}{item.offset}",
                        ByteSource(item.data),
                        note=f"pickle in a {wrapping} literal",
                        kind=FileKind.PICKLE,
                        unpacked=True,
                    )
                )
        return members, incomplete


def analyze(source: ByteSource, kind: FileKind, ctx: ScanContext) -> PickleAnalysis:
    """Run the VM over every stream of ``source`` with the framing its kind implies."""
    analysis = new_analysis(source.view(), ctx.budget)
    analysis.vm.after_build = joblib_hook(analysis)
    if kind is FileKind.TORCH_LEGACY:
        walk_legacy_torch(analysis, ctx.budget)
    else:
        walk_streams(analysis, 0, source.size, ctx.budget)
    return analysis
