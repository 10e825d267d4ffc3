"""The resource profile of a model folder: parameters, dtypes, bytes, memory to run it.

Everything comes from headers (safetensors JSON, GGUF tensor infos, torch ``data.pkl``
through the symbolic pickle VM, ONNX initializer protos); no tensor data is read. When the
folder holds the model in several formats, each is listed and one is chosen for the totals
(see ``weights``), and the notes say which.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from pellucid.budget import DEFAULT_BUDGET, Budget
from pellucid.model import Finding, JsonValue, Rule
from pellucid.modelanalysis import SectionResult
from pellucid.modelfiles import ModelFiles
from pellucid.provenance.consistency import HEADERS_DISAGREE, config_findings, gguf_findings
from pellucid.provenance.sizing import (
    MEMORY_RULE,
    count,
    fits_line,
    index_notes,
    machine_memory,
    memory,
)
from pellucid.provenance.weights import WeightSet, chosen, collect


@dataclass(frozen=True, slots=True)
class ResourceProfile:
    """What the weights of one model folder take. ``parameters`` counts shared tensors once
    (``parameters_total`` as often as they appear); None when no weights were found."""

    parameters: int | None
    parameters_total: int | None
    tensors: int
    dtypes: Mapping[str, int]  # parameters per dtype
    weight_files: tuple[str, ...]  # the files the totals come from
    bytes_on_disk: int
    memory: Mapping[str, int]  # as_stored, fp32, bf16, fp16, int8, int4 (bytes)
    machine_memory: int | None
    fits: bool | None  # as_stored <= machine_memory
    source: str  # the format the totals come from, or "" when none
    complete: bool  # every header of the chosen files was read in full
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ResourceAnalyzer:
    """Counts parameters and estimates memory from weight-file headers (id "resources")."""

    id: ClassVar[str] = "resources"
    rules: ClassVar[Sequence[Rule]] = (HEADERS_DISAGREE,)
    machine_memory: int | None = field(default_factory=machine_memory)
    budget: Budget = DEFAULT_BUDGET

    def analyze(self, model: ModelFiles, earlier: Mapping[str, SectionResult]) -> SectionResult:
        collected = collect(model, self.budget)
        pipeline = bool(model.named("model_index.json"))
        used = chosen(collected.sets, pipeline)
        profile = self.profile(model, collected.sets, used, list(collected.skipped))
        findings: list[Finding] = []
        inventories = [inv for s in used for inv in s.inventories]
        if not pipeline and used and not used[0].directory:
            findings.extend(config_findings(model, inventories))
        for inventory in inventories:
            if inventory.format == "gguf":
                findings.extend(gguf_findings(inventory))
        data = _data(profile, collected.sets, used)
        return SectionResult(data, tuple(findings), profile)

    def profile(
        self,
        model: ModelFiles,
        sets: Sequence[WeightSet],
        used: list[WeightSet],
        notes: list[str],
    ) -> ResourceProfile:
        inventories = [inv for s in used for inv in s.inventories]
        complete = all(inv.complete for inv in inventories)
        for weight_set in used:
            index, whole = index_notes(model, weight_set)
            notes.extend(index)
            complete = complete and whole
        notes.extend(note for inv in inventories for note in inv.notes)
        if not used:
            notes.insert(0, "no weight files found (safetensors, GGUF, torch, ONNX)")
            return ResourceProfile(None, None, 0, {}, (), 0, {}, self.machine_memory, None,
                                   "", False, tuple(notes))  # fmt: skip
        notes.insert(0, _choice_note(sets, used))
        counted = count(inventories)
        estimates = memory(counted.parameters, counted.stored_bytes)
        fits = None if self.machine_memory is None else counted.stored_bytes <= self.machine_memory
        notes.extend((fits_line(counted.stored_bytes, self.machine_memory), MEMORY_RULE))
        unknown = counted.tensors == 0 and not complete  # unreadable, not empty
        return ResourceProfile(
            parameters=None if unknown else counted.parameters,
            parameters_total=counted.parameters_total,
            tensors=counted.tensors,
            dtypes=dict(sorted(counted.dtypes.items())),
            weight_files=tuple(sorted(inv.file for inv in inventories)),
            bytes_on_disk=sum(inv.size for inv in inventories),
            memory=estimates,
            machine_memory=self.machine_memory,
            fits=fits,
            source=" + ".join(sorted({s.format for s in used})),
            complete=complete,
            notes=tuple(notes),
        )


def _choice_note(sets: Sequence[WeightSet], used: list[WeightSet]) -> str:
    labels = ", ".join(f"{s.label} ({s.format})" for s in used)
    others = [s for s in sets if not any(s is u for u in used)]
    if not others:
        return f"totals from {labels}"
    also = ", ".join(f"{s.label} ({s.format})" for s in others[:8])
    return f"totals from {labels}; also present and not counted: {also}"


def _data(profile: ResourceProfile, sets: Sequence[WeightSet], used: list[WeightSet]) -> JsonValue:
    per_set = []
    for weight_set in sorted(sets, key=lambda s: s.label):
        counted = count(weight_set.inventories)
        per_set.append(
            {
                "set": weight_set.label,
                "format": weight_set.format,
                "files": sorted(inv.file for inv in weight_set.inventories),
                "tensors": counted.tensors,
                "parameters": counted.parameters,
                "bytes_on_disk": sum(inv.size for inv in weight_set.inventories),
                "bytes_per_dtype": dict(sorted(counted.dtype_bytes.items())),
                "used": any(weight_set is u for u in used),
            }
        )
    return {
        "parameters": profile.parameters,
        "parameters_total": profile.parameters_total,
        "tensors": profile.tensors,
        "dtypes": dict(profile.dtypes),
        "weight_files": per_set,
        "bytes_on_disk": profile.bytes_on_disk,
        "memory": dict(profile.memory),
        "machine_memory": profile.machine_memory,
        "fits": profile.fits,
        "source": profile.source,
        "complete": profile.complete,
        "notes": list(profile.notes),
    }
