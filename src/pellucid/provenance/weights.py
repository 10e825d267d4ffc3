"""Which files of a model folder hold its weights, how they group, and which copy counts.

A folder often holds one model several times: safetensors beside ``pytorch_model.bin``,
``original/consolidated.00.pth`` beside the Hub files, GGUF files in several quantisations,
``*.fp16.safetensors`` variants, intermediate ``checkpoint-*/`` folders. Files that belong
together (shards of one ``-0000i-of-0000n`` series) form a ``WeightSet``; sets are
alternatives, and one is chosen for the totals: safetensors first, then torch, GGUF, ONNX,
the shallowest and unsuffixed first. A diffusers pipeline (``model_index.json``) is the sum
of its components, each chosen the same way.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass

from pellucid.budget import Budget
from pellucid.model import FileKind
from pellucid.modelfiles import ModelFile, ModelFiles
from pellucid.provenance.checkpoints import onnx_inventory, torch_inventory
from pellucid.provenance.tensors import Inventory, gguf_inventory, safetensors_inventory
from pellucid.source import ByteSource, open_source

PREFERENCE = ("safetensors", "torch", "gguf", "onnx")
_SHARD = re.compile(
    r"^(?P<stem>.+?)[-.]\d{1,6}-of-\d{1,6}(?P<ext>\.[^.]+)?$"
    r"|^(?P<stem2>consolidated)\.\d{1,3}(?P<ext2>\.pth?)$"  # Meta's original checkpoints
)
_TRAINING_DIR = re.compile(r"^(?:checkpoint|global_step|step|epoch)[-_]?\d+$", re.IGNORECASE)
_TRAINING_STATE = re.compile(
    r"^(?:optimizer|scheduler|training_args|trainer_state|rng_state.*|scaler)\.(?:pt|pth|bin)$"
)
_UNRECOGNISED = (FileKind.UNKNOWN, FileKind.EMPTY, FileKind.TEXT, FileKind.JSON, FileKind.ZIP)
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf", ".onnx")


@dataclass(frozen=True, slots=True)
class WeightSet:
    """Files of one format that together hold one copy of (part of) a model."""

    directory: str  # inside the model folder; "" for the top level
    format: str
    stem: str  # the file name without shard numbering, e.g. "model.safetensors"
    inventories: tuple[Inventory, ...]

    @property
    def sort_key(self) -> tuple[int, int, bool, str]:
        depth = self.directory.count("/") + bool(self.directory)
        variant = self.stem.count(".") > 1  # model.fp16.safetensors
        rank = PREFERENCE.index(self.format) if self.format in PREFERENCE else len(PREFERENCE)
        return (rank, depth, variant, self.stem)

    @property
    def label(self) -> str:
        return posixpath.join(self.directory, self.stem)


@dataclass(frozen=True, slots=True)
class Collected:
    sets: tuple[WeightSet, ...]
    skipped: tuple[str, ...]  # notes on files not counted (training state, LFS pointers)


def collect(model: ModelFiles, budget: Budget) -> Collected:
    """Read the header of every weight file and group them into sets."""
    groups: dict[tuple[str, str, str], list[Inventory]] = {}
    skipped: list[str] = []
    for file in model:
        reason = _skip_reason(file)
        if reason:
            skipped.append(f"{file.path}: {reason}")
            continue
        inventory = read_inventory(file, budget)
        if inventory is None:
            if file.name.lower().endswith(_WEIGHT_SUFFIXES) and file.kind in _UNRECOGNISED:
                skipped.append(f"{file.path}: named like weights, but no weight format found")
            continue
        directory = posixpath.dirname(file.rel)
        key = (directory, inventory.format, shard_stem(file.name))
        groups.setdefault(key, []).append(inventory)
    sets = [WeightSet(d, fmt, stem, tuple(invs)) for (d, fmt, stem), invs in groups.items()]
    return Collected(tuple(sorted(sets, key=lambda s: s.sort_key)), tuple(skipped))


def _skip_reason(file: ModelFile) -> str:
    parts = file.rel.split("/")
    if any(_TRAINING_DIR.match(part) for part in parts[:-1]):
        if file.name.lower().endswith(_WEIGHT_SUFFIXES):
            return "intermediate training checkpoint, not counted"
        return ""
    if _TRAINING_STATE.match(file.name):
        return "training state, not weights; not counted"
    if file.kind is FileKind.LFS_POINTER and file.name.lower().endswith(_WEIGHT_SUFFIXES):
        return "Git LFS pointer: the weights are not downloaded"
    return ""


def shard_stem(name: str) -> str:
    """``model-00001-of-00004.safetensors`` -> ``model.safetensors``."""
    match = _SHARD.match(name)
    if match is None:
        return name
    return (match["stem"] or match["stem2"]) + (match["ext"] or match["ext2"] or "")


def read_inventory(file: ModelFile, budget: Budget) -> Inventory | None:
    """The inventory of a weight file, or None when the file holds no weights."""
    readers: dict[FileKind, Callable[[ByteSource], Inventory | None]] = {
        FileKind.SAFETENSORS: lambda s: safetensors_inventory(s, file.path, budget),
        FileKind.GGUF: lambda s: gguf_inventory(s, file.path, budget),
        FileKind.ZIP: lambda s: torch_inventory(s, file.path, budget),
        FileKind.TORCH_LEGACY: lambda s: torch_inventory(s, file.path, budget, legacy=True),
        FileKind.ONNX: lambda s: onnx_inventory(s, file.path),
    }
    reader = readers.get(file.kind)
    if reader is None:
        return None
    try:
        with open_source(file.disk_path) as source:
            inventory = reader(source)
    except OSError as exc:
        inventory = Inventory(file.path, "unreadable")
        inventory.note(f"cannot read: {exc}")
    if inventory is not None:
        inventory.size = file.size
    return inventory


def chosen(sets: tuple[WeightSet, ...], pipeline: bool) -> list[WeightSet]:
    """The sets the totals come from: the best one, or the best per diffusers component."""
    # A set whose headers yielded no tensor at all (broken, truncated) loses to any other.
    usable = [s for s in sets if s.format in PREFERENCE]
    usable.sort(key=lambda s: not any(inv.tensors for inv in s.inventories))
    if not pipeline:
        return usable[:1]
    best: dict[str, WeightSet] = {}
    for weight_set in usable:  # already in preference order
        component = weight_set.directory.split("/")[0]
        best.setdefault(component, weight_set)
    return [best[c] for c in sorted(best)]
