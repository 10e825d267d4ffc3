"""Tensor inventories of torch checkpoints (from data.pkl) and ONNX models (initializers).

torch: ``data.pkl`` is interpreted by the symbolic pickle VM (nothing is loaded); every
``torch._utils._rebuild_tensor_v2/_v3`` call names its storage through a persistent id
``('storage', <storage type>, key, location, numel)`` and carries offset, shape and stride.
Tensors with the same storage key share memory (tied weights, views). The legacy
(pre-zip) format is the same pickle as the fourth of its stacked streams.
ONNX: ``graph.initializer`` TensorProtos are walked for dims and data_type; payloads are
stepped over.
"""

from __future__ import annotations

import struct
from typing import Any

from pellucid.budget import Budget
from pellucid.formats.compression import decode_method
from pellucid.formats.pickle_values import Call, Global, PersId
from pellucid.formats.pickle_vm import PickleVM
from pellucid.formats.protobuf import LEN, VARINT, Field, ProtobufError, fields, read_varint
from pellucid.formats.zip import ZipError, read_directory
from pellucid.provenance.tensors import (
    BITS,
    Inventory,
    TensorRecord,
    element_count,
    plain_nbytes,
)
from pellucid.source import ByteSource

MAX_PICKLE_OPS = 5_000_000  # a state dict of 10k tensors needs ~300k opcodes
MAX_DIMS = 64
LEGACY_STREAMS = 4  # magic number, protocol version, sys info, the object itself

REBUILDERS = frozenset(
    ("torch._utils", name)
    for name in ("_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_tensor_v3")
)
STORAGE_DTYPES: dict[str, str] = {
    "FloatStorage": "F32", "DoubleStorage": "F64", "HalfStorage": "F16",
    "BFloat16Storage": "BF16", "LongStorage": "I64", "IntStorage": "I32", "ShortStorage": "I16",
    "CharStorage": "I8", "ByteStorage": "U8", "BoolStorage": "BOOL",
    "ComplexFloatStorage": "C64", "ComplexDoubleStorage": "C128", "QInt8Storage": "I8",
    "QUInt8Storage": "U8", "QInt32Storage": "I32", "UntypedStorage": "U8",
}  # fmt: skip
TORCH_DTYPES: dict[str, str] = {
    "float32": "F32", "float": "F32", "float64": "F64", "double": "F64", "float16": "F16",
    "half": "F16", "bfloat16": "BF16", "int64": "I64", "long": "I64", "int32": "I32",
    "int": "I32", "int16": "I16", "short": "I16", "int8": "I8", "uint8": "U8", "bool": "BOOL",
    "uint16": "U16", "uint32": "U32", "uint64": "U64", "complex64": "C64",
    "complex128": "C128", "float8_e4m3fn": "F8_E4M3", "float8_e5m2": "F8_E5M2",
    "float8_e4m3fnuz": "F8_E4M3FNUZ", "float8_e5m2fnuz": "F8_E5M2FNUZ",
    "float8_e8m0fnu": "F8_E8M0",
}  # fmt: skip


def torch_inventory(
    source: ByteSource, display: str, budget: Budget, *, legacy: bool = False
) -> Inventory | None:
    """Tensors of a torch.save file; None when a zip holds no ``data.pkl`` (not torch)."""
    inventory = Inventory(display, "torch")
    data = source.view() if legacy else _data_pkl(source, inventory, budget)
    if data is None:
        return inventory if inventory.notes else None
    vm = PickleVM(data, max_ops=min(budget.max_pickle_ops, MAX_PICKLE_OPS), max_memo=100_000)
    position = 0
    for _ in range(LEGACY_STREAMS if legacy else 1):
        stream = vm.run(position)
        if not stream.stopped:
            problem = stream.budget or stream.error or "no STOP"
            inventory.note(f"pickle stops at offset {stream.end}: {problem}")
            break
        position = stream.end
    for call in vm.calls:
        func = call.func
        if isinstance(func, Global) and func.key in REBUILDERS:
            _add_tensor(call, inventory)
    return inventory


def _data_pkl(source: ByteSource, inventory: Inventory, budget: Budget) -> memoryview | None:
    try:
        directory = read_directory(source.view(), budget.max_members)
    except (ZipError, ValueError, IndexError, struct.error):
        return None  # not a torch checkpoint; the caller notes weight-like names
    for entry in directory.entries:
        parts = entry.name.split("/")
        if parts[-1] != "data.pkl" or len(parts) > 2 or entry.data_offset < 0:
            continue
        raw = source.view(entry.data_offset, entry.compressed_size)
        if entry.method == 0:
            return raw
        limit = min(entry.size, budget.max_member_bytes)
        result = decode_method(raw, entry.method, entry.size, limit, budget)
        if isinstance(result, str) or result.problem:
            problem = result if isinstance(result, str) else result.problem
            inventory.note(f"{entry.name}: {problem}")
            return None
        return memoryview(result.data)
    return None


def _ints(value: Any) -> tuple[int, ...] | None:
    if not isinstance(value, tuple) or len(value) > MAX_DIMS:
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value):
        return None
    return value


def _add_tensor(call: Call, inventory: Inventory) -> None:
    args = call.args
    at = f"offset {call.offset}"
    if not isinstance(args, tuple) or len(args) < 4 or not isinstance(args[0], PersId):
        inventory.note(f"tensor rebuilt at {at} without a storage persistent id")
        return
    pid = args[0].pid
    if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
        inventory.note(f"tensor at {at}: persistent id is not ('storage', ...)")
        return
    storage_type, key, numel = pid[1], str(pid[2])[:100], pid[4]
    storage_dtype = STORAGE_DTYPES.get(getattr(storage_type, "qualname", ""))
    dtype = storage_dtype
    if call.func.qualname == "_rebuild_tensor_v3" and len(args) >= 7:
        dtype = TORCH_DTYPES.get(getattr(args[6], "qualname", ""))
    shape, stride, offset = _ints(args[2]), _ints(args[3]), args[1]
    if dtype is None or storage_dtype is None:
        inventory.note(f"tensor at {at}: unknown dtype or storage type")
        return
    if shape is None or stride is None or not isinstance(offset, int) or offset < 0:
        inventory.note(f"tensor at {at}: shape, stride or offset is not a list of integers")
        return
    count = element_count(shape)
    if count is None or not isinstance(numel, int) or numel < 0:
        inventory.note(f"tensor at {at}: absurd shape or storage size; not counted")
        return
    inventory.storage_bytes[key] = plain_nbytes(storage_dtype, numel) or 0
    itemsize = BITS[dtype] // 8 or 1
    steps = zip(shape, stride, strict=False)
    extent = 0 if 0 in shape else 1 + sum((size - 1) * step for size, step in steps)
    span = (offset * itemsize, (offset + extent) * itemsize)
    inventory.tensors.append(
        TensorRecord(
            f"#{len(inventory.tensors)}", dtype, shape, count, plain_nbytes(dtype, count), key, span
        )
    )


ONNX_DTYPES: dict[int, str] = {
    1: "F32", 2: "U8", 3: "I8", 4: "U16", 5: "I16", 6: "I32", 7: "I64", 8: "STRING", 9: "BOOL",
    10: "F16", 11: "F64", 12: "U32", 13: "U64", 14: "C64", 15: "C128", 16: "BF16",
    17: "F8_E4M3", 18: "F8_E4M3FNUZ", 19: "F8_E5M2", 20: "F8_E5M2FNUZ", 21: "U4", 22: "I4",
    23: "F4",
}  # fmt: skip
MAX_INITIALIZERS = 1_000_000


def onnx_inventory(source: ByteSource, display: str) -> Inventory:
    """The main graph's initializers: name, data_type and dims of each TensorProto."""
    inventory = Inventory(display, "onnx")
    buf = source.view()
    external = 0
    try:
        graphs = [f for f in fields(buf) if f.number == 7 and f.wire_type == LEN]
        for graph in graphs[-1:]:  # protobuf merges repeats; the last graph's fields win
            for item in fields(buf, graph.value, graph.value + graph.length):
                if item.number != 5 or item.wire_type != LEN:
                    continue
                if len(inventory.tensors) >= MAX_INITIALIZERS:
                    inventory.note(f"more than {MAX_INITIALIZERS} initializers (budget)")
                    break
                record, is_external = _initializer(buf, item)
                external += is_external
                if record.elements < 0:
                    inventory.note(f"initializer {record.name[:60]!r} has an absurd shape")
                else:
                    inventory.tensors.append(record)
    except ProtobufError as exc:
        inventory.note(f"protobuf structure broken: {exc}")
    if external:
        inventory.note(f"{external} initializers keep their data in external files", partial=False)
    return inventory


def _initializer(buf: memoryview, msg: Field) -> tuple[TensorRecord, bool]:
    dims: list[int] = []
    data_type, name, external = 0, "", False
    for f in fields(buf, msg.value, msg.value + msg.length):
        if f.number == 1 and f.wire_type == VARINT:
            dims.append(f.value)
        elif f.number == 1 and f.wire_type == LEN:
            pos, end = f.value, f.value + f.length
            while pos < end and len(dims) <= MAX_DIMS:
                value, pos = read_varint(buf, pos, end)
                dims.append(value)
        elif f.number == 2 and f.wire_type == VARINT:
            data_type = f.value
        elif f.number == 8 and f.wire_type == LEN:
            name = bytes(buf[f.value : f.value + min(f.length, 200)]).decode("utf-8", "replace")
        elif f.number == 14 and f.wire_type == VARINT:
            external = f.value == 1
    shape = tuple(dims[:MAX_DIMS])
    count = element_count(shape) if len(dims) <= MAX_DIMS else None
    if count is None:  # marked for the caller to report
        return TensorRecord(name, "", shape, -1, None), external
    dtype = ONNX_DTYPES.get(data_type, f"onnx-type-{data_type}")
    return TensorRecord(name, dtype, shape, count, plain_nbytes(dtype, count)), external
