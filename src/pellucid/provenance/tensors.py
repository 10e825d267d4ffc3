"""Header-only tensor inventories of weight files: names, dtypes, shapes, sizes; never data.

Each reader returns an ``Inventory`` of ``TensorRecord``s from what the format declares
(safetensors JSON header, GGUF tensor infos; torch and ONNX live in ``checkpoints``). Dtypes
are named as safetensors names them (``F32``, ``BF16`` ...), quantised GGUF types by their
ggml names (``Q4_K`` ...). Hostile or broken headers become notes and ``complete = False``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pellucid.budget import Budget
from pellucid.formats.gguf import read_gguf
from pellucid.formats.gguf_layout import check_layout
from pellucid.formats.gguf_types import GGML_TYPES, tensor_nbytes
from pellucid.formats.safetensors import DTYPE_BITS, parse_header
from pellucid.source import ByteSource

MAX_NOTES = 5  # per file: the first few problems say enough
MAX_ELEMENTS = 1 << 63  # a tensor declaring more elements than int64 is absurd, not counted

BITS: dict[str, int] = {**DTYPE_BITS, "C128": 128, "U4": 4, "I4": 4}
"""Bits per element of the plain (unquantised) dtypes, by safetensors-style name."""


@dataclass(frozen=True, slots=True)
class TensorRecord:
    """One tensor as declared. ``storage`` and ``span`` (bytes within that storage) tell
    tensors that share memory (tied weights, views) apart from distinct ones."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    elements: int
    nbytes: int | None  # as stored; None when the dtype's size is unknown
    storage: str = ""
    span: tuple[int, int] | None = None


@dataclass(slots=True)
class Inventory:
    """The tensors of one weight file, with what could not be read."""

    file: str
    format: str  # safetensors, gguf, torch, onnx
    size: int = 0  # bytes of the file on disk
    tensors: list[TensorRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    complete: bool = True
    storage_bytes: dict[str, int] = field(default_factory=dict)  # torch: storage key -> bytes
    metadata: dict[str, str | int | float] = field(default_factory=dict)  # GGUF scalar keys

    def note(self, text: str, *, partial: bool = True) -> None:
        """Record a problem; ``partial``: some tensors may be missing from the inventory."""
        if len(self.notes) < MAX_NOTES:
            self.notes.append(f"{self.file}: {text}"[:300])
        if partial:
            self.complete = False

    @property
    def parameters(self) -> int:
        return sum(t.elements for t in self.tensors)


def element_count(shape: tuple[int, ...]) -> int | None:
    """The product of ``shape``, or None when it is absurd (over int64)."""
    count = 1
    for dim in shape:
        count *= dim
        if count > MAX_ELEMENTS:
            return None
    return count


def plain_nbytes(dtype: str, elements: int) -> int | None:
    bits = BITS.get(dtype)
    return None if bits is None else -(-elements * bits // 8)


def safetensors_inventory(source: ByteSource, display: str, budget: Budget) -> Inventory:
    """Tensors of a safetensors file, from its JSON header (validated by ``parse_header``)."""
    inventory = Inventory(display, "safetensors")
    header = parse_header(source, budget.max_header_bytes)
    for reason in header.incomplete:
        inventory.note(reason)
    for problem in header.problems:
        # Layout problems (gaps, overlaps) leave the declared tensors countable.
        partial = problem.code in ("unparsable", "entry", "duplicate")
        inventory.note(f"header {problem.code}: {problem.message}", partial=partial)
    for entry in header.tensors:
        count = element_count(entry.shape)
        if count is None:
            inventory.note(f"tensor {entry.name[:60]!r} has an absurd shape; not counted")
            continue
        inventory.tensors.append(
            TensorRecord(
                entry.name,
                entry.dtype,
                entry.shape,
                count,
                entry.end - entry.begin,
                display,
                (entry.begin, entry.end),
            )
        )
    return inventory


def gguf_inventory(source: ByteSource, display: str, budget: Budget) -> Inventory:
    """Tensors of a GGUF file from its tensor infos; sizes from the ggml type table."""
    inventory = Inventory(display, "gguf")
    header = read_gguf(source, max_header_bytes=budget.max_header_bytes, keep_text=0)
    if not header.complete:
        reason = header.budget_hit or "; ".join(p.detail for p in header.problems[:1])
        inventory.note(f"GGUF header unreadable past a point: {reason}")
    for kv in header.kvs:  # strings up to 256 bytes are decoded: names, URLs, ids
        if kv.value is not None and not kv.key.startswith("tokenizer."):
            inventory.metadata.setdefault(kv.key, kv.value)
    problems, _alignment = check_layout(header, source.size)
    for problem in problems:
        if problem.kind in ("bad-dim", "size-overflow", "unknown-type", "removed-type"):
            inventory.note(problem.detail)
    for info in header.tensors:
        ggml = GGML_TYPES.get(info.ggml_type)
        dims = info.dims or (1,)  # ggml treats a 0-dimensional tensor as one element
        count = element_count(dims)
        if ggml is None or ggml.removed or count is None or not all(dims):
            continue  # reported above
        nbytes = tensor_nbytes(dims, ggml) if dims[0] % ggml.block == 0 else None
        span = None if nbytes is None else (info.offset, info.offset + nbytes)
        inventory.tensors.append(
            TensorRecord(info.name, ggml.name, info.dims, count, nbytes, display, span)
        )
    return inventory
