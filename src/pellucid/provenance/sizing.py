"""Counting what a weight set holds: shared memory once, shards against their index, and the
memory the weights need at a given precision.

Tied weights and views point into the same storage (torch) or the same byte range
(safetensors, GGUF); each byte of a storage counts once, and a tensor's parameters count in
proportion to the bytes it adds. Memory estimates are parameters x bytes per parameter: what
the weights alone take, with no KV cache, activations or runtime overhead.
"""

from __future__ import annotations

import json
import os
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

from pellucid.modelfiles import ModelFiles
from pellucid.provenance.tensors import Inventory, TensorRecord
from pellucid.provenance.weights import WeightSet

GiB = 1024**3
HALF_BYTES_PER_PARAMETER: dict[str, int] = {"fp32": 8, "bf16": 4, "fp16": 4, "int8": 2, "int4": 1}
MEMORY_RULE = (
    "memory estimates are parameters x bytes per parameter (fp32 4, bf16/fp16 2, int8 1, "
    "int4 0.5), for the weights alone: no KV cache, activations or runtime overhead; "
    "quantisation scales add a few percent to int8/int4"
)


@dataclass(frozen=True, slots=True)
class Counted:
    """Totals of some inventories, each shared byte counted once."""

    tensors: int
    parameters_total: int  # every tensor, shared ones as often as they appear
    parameters: int  # shared memory counted once
    dtypes: dict[str, int]  # parameters (counted once) per dtype
    dtype_bytes: dict[str, int]  # bytes (counted once) per dtype
    stored_bytes: int  # what loading allocates: unique tensor bytes, or whole torch storages


def count(inventories: Iterable[Inventory]) -> Counted:
    inventories = list(inventories)
    dtypes: dict[str, int] = {}
    dtype_bytes: dict[str, int] = {}
    tensors = total = 0
    for record, elements, nbytes in _unique_shares(inventories):
        tensors += 1
        total += record.elements
        dtypes[record.dtype] = dtypes.get(record.dtype, 0) + elements
        dtype_bytes[record.dtype] = dtype_bytes.get(record.dtype, 0) + nbytes
    stored = sum(dtype_bytes.values())
    storages = [inv for inv in inventories if inv.storage_bytes]
    if storages:  # torch.load allocates every storage whole, even when a view uses part of it
        others = [inv for inv in inventories if not inv.storage_bytes]
        stored = sum(sum(inv.storage_bytes.values()) for inv in storages)
        stored += sum(n for _, _, n in _unique_shares(others))
    return Counted(tensors, total, sum(dtypes.values()), dtypes, dtype_bytes, stored)


def _unique_shares(inventories: list[Inventory]) -> list[tuple[TensorRecord, int, int]]:
    """(tensor, parameters it adds, bytes it adds) with overlapping spans counted once."""
    shares: list[tuple[TensorRecord, int, int]] = []
    groups: dict[tuple[str, str], list[TensorRecord]] = {}
    for inventory in inventories:
        for record in inventory.tensors:
            if record.span is None:
                shares.append((record, record.elements, record.nbytes or 0))
            else:
                groups.setdefault((inventory.file, record.storage), []).append(record)
    for records in groups.values():
        cursor: int | None = None
        for record in sorted(records, key=lambda r: r.span or (0, 0)):
            start, end = record.span or (0, 0)
            added = end - start if cursor is None else max(0, end - max(start, cursor))
            length = end - start
            elements = record.elements if length <= 0 else record.elements * added // length
            nbytes = (record.nbytes or 0) if length <= 0 else added
            shares.append((record, elements, nbytes))
            cursor = end if cursor is None else max(cursor, end)
    return shares


def memory(parameters: int, stored: int) -> dict[str, int]:
    estimates = {"as_stored": stored}
    for name, halves in HALF_BYTES_PER_PARAMETER.items():
        estimates[name] = -(-parameters * halves // 2)  # int4: half bytes, rounded up
    return estimates


def machine_memory() -> int | None:
    """Physical memory of this machine (os.sysconf), or None where it is not available."""
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
    return pages * size if pages > 0 and size > 0 else None


def fits_line(stored: int, machine: int | None) -> str:
    text = f"the weights need {human(stored)} as stored (KV cache and activations extra)"
    if machine is None:
        return text + "; this machine's memory is unknown"
    return text + f"; this machine has {human(machine)} of memory"


def human(size: int) -> str:
    for unit, scale in (("GiB", GiB), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:.2f} {unit}"
    return f"{size} B"


def index_notes(model: ModelFiles, weight_set: WeightSet) -> tuple[list[str], bool]:
    """Check a sharded set against its ``<stem>.index.json``: (notes, all shards present)."""
    wanted = posixpath.join(weight_set.directory, weight_set.stem + ".index.json")
    file = next((f for f in model if f.rel == wanted), None)
    if file is None:
        return [], True
    text = model.text(file)
    try:
        document = json.loads(text or "")
    except (ValueError, RecursionError):
        return [f"{file.path}: not valid JSON; shards not checked"], True
    weight_map = document.get("weight_map") if isinstance(document, dict) else None
    if not isinstance(weight_map, dict):
        return [f"{file.path}: no weight_map; shards not checked"], True
    present = {posixpath.basename(inv.file) for inv in weight_set.inventories}
    shards = {v for v in weight_map.values() if isinstance(v, str)}
    missing = sorted(shards - present)
    if missing:
        shown = ", ".join(missing[:5])
        note = f"{file.path}: {len(missing)} shard(s) missing ({shown}); totals are partial"
        return [note], False
    notes: list[str] = []
    if weight_set.format != "safetensors":
        return notes, True  # torch tensor names and sizes are not kept from data.pkl
    found = {t.name for inv in weight_set.inventories for t in inv.tensors}
    absent = [name for name in weight_map if name not in found]
    if absent:
        notes.append(f"{file.path}: {len(absent)} tensor(s) listed but in no shard")
    meta = document.get("metadata")
    declared = meta.get("total_size") if isinstance(meta, dict) else None
    actual = sum(t.nbytes or 0 for inv in weight_set.inventories for t in inv.tensors)
    if isinstance(declared, int) and declared != actual:
        notes.append(f"{file.path}: total_size {declared} but the shards hold {actual} bytes")
    return notes, True
