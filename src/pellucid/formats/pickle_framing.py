"""Formats that interleave pickles with raw bytes: joblib arrays and legacy torch storages.

A joblib file is one pickle whose ``NumpyArrayWrapper`` objects are each followed, right after
their BUILD, by the array's raw bytes (or, for object arrays, by a nested pickle). A legacy
``torch.save`` file is five pickles (magic, protocol, sys_info, data, storage keys) followed by
each storage as an 8-byte element count and its bytes. Both are walked with their own framing,
so gigabytes of tensor data are skipped by arithmetic instead of being salvaged.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pellucid.budget import Budget
from pellucid.formats.pickle_machine import PickleError
from pellucid.formats.pickle_streams import PickleAnalysis, salvage, walk_streams
from pellucid.formats.pickle_values import Call, Global, Mutation, Opaque, PDict, global_root

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
_MAX_NESTED = 4
_DTYPE = re.compile(r"[<>|=]?([?bBhHiIlLqQpPefdgFDGSaUVOmMuc])(\d*)")
_ITEM_SIZES = {"?": 1, "b": 1, "B": 1, "h": 2, "H": 2, "e": 2, "f": 4, "d": 8, "g": 16}
_STORAGE_SIZES = {
    "DoubleStorage": 8, "FloatStorage": 4, "HalfStorage": 2, "BFloat16Storage": 2,
    "LongStorage": 8, "IntStorage": 4, "ShortStorage": 2, "CharStorage": 1, "ByteStorage": 1,
    "BoolStorage": 1, "ComplexDoubleStorage": 16, "ComplexFloatStorage": 8,
    "QInt8Storage": 1, "QUInt8Storage": 1, "QInt32Storage": 4, "QUInt4x2Storage": 1,
    "QUInt2x4Storage": 1, "UntypedStorage": 1, "ByteTensor": 1,
}  # fmt: skip


def joblib_hook(analysis: PickleAnalysis) -> Callable[[Any, Any, int], int]:
    """A BUILD hook that skips the raw array after each joblib ``NumpyArrayWrapper``."""
    vm = analysis.vm
    depth = [0]

    def after_build(target: Any, state: Any, nxt: int) -> int:
        if not _is_array_wrapper(target):
            return nxt
        if vm.frame_end > nxt:  # joblib reads the array from the file, not from the frame
            raise PickleError(nxt - 1, "joblib array wrapper inside an unfinished FRAME")
        fields = _fields(state)
        dtype = fields.get("dtype")
        if _is_object_dtype(dtype):
            if depth[0] >= _MAX_NESTED:
                raise PickleError(nxt, "joblib object arrays nested too deeply")
            depth[0] += 1
            try:
                inner = vm.run_nested(nxt)
            finally:
                depth[0] -= 1
            if not inner.stopped:
                raise PickleError(inner.end, f"joblib object array: {inner.error or inner.budget}")
            vm.stack[-1] = Opaque("ndarray of objects")
            analysis.arrays += 1
            return inner.end
        # pickle.load (not joblib.load) would read the array bytes as opcodes: look at them so.
        vm.run_nested(nxt)
        size = _array_bytes(fields, _item_size(dtype, vm.builds))
        if size is None:
            raise PickleError(nxt - 1, "joblib array wrapper with unreadable shape or dtype")
        pos = nxt
        if fields.get("numpy_array_alignment_bytes") is not None:
            vm.need(nxt, pos + 1)
            pos += 1 + vm.data[pos]  # one byte saying how many padding bytes follow
        vm.need(nxt, pos + size)
        vm.stack[-1] = Opaque(f"ndarray of {size} bytes")
        analysis.arrays += 1
        return pos + size

    return after_build


def _is_array_wrapper(target: Any) -> bool:
    if not isinstance(target, Call):
        return False
    root = global_root(target.func)
    if root is not None and root.key == ("copyreg", "_reconstructor"):
        args = target.args
        root = args[0] if isinstance(args, tuple) and args and isinstance(args[0], Global) else None
    return (
        root is not None
        and root.qualname == "NumpyArrayWrapper"
        and root.module.endswith("joblib.numpy_pickle")
    )


def _fields(state: Any) -> dict[str, Any]:
    if not isinstance(state, PDict):
        return {}
    return {key: value for key, value in state if isinstance(key, str)}


def _dtype_spec(dtype: Any) -> str | None:
    if isinstance(dtype, Call) and isinstance(dtype.args, tuple) and dtype.args:
        first = dtype.args[0]
        return first if isinstance(first, str) else None
    return None


def _is_object_dtype(dtype: Any) -> bool:
    spec = _dtype_spec(dtype)
    return spec is not None and spec.lstrip("<>|=").startswith("O")


def _item_size(dtype: Any, builds: list[Mutation]) -> int | None:
    for event in reversed(builds[-64:]):  # numpy's dtype BUILD carries elsize at index 5
        if event.target is dtype and isinstance(event.state, tuple) and len(event.state) > 5:
            elsize = event.state[5]
            if isinstance(elsize, int) and elsize > 0:
                return elsize
            break
    spec = _dtype_spec(dtype)
    found = _DTYPE.fullmatch(spec or "")
    if found is None:
        return None
    kind, digits = found.groups()
    if digits:
        return int(digits) * (4 if kind == "U" else 1)
    return _ITEM_SIZES.get(kind)


def _array_bytes(fields: dict[str, Any], item_size: int | None) -> int | None:
    shape = fields.get("shape")
    if item_size is None or not isinstance(shape, tuple):
        return None
    count = 1
    for dim in shape:
        if not isinstance(dim, int) or dim < 0:
            return None
        count *= dim
    return count * item_size


def walk_legacy_torch(analysis: PickleAnalysis, budget: Budget) -> None:
    """Magic, protocol, sys_info, data and keys pickles, then the storages; report the rest."""
    vm = analysis.vm
    pos = walk_streams(analysis, 0, vm.size, budget, expect=5)
    if pos is None:
        return
    if len(analysis.streams) < 5:
        analysis.note("legacy", pos, f"legacy torch file has {len(analysis.streams)} of 5 pickles")
        return
    magic, protocol, _, _, keys = (s.value for s in analysis.streams[-5:])
    if magic != LEGACY_MAGIC or protocol != LEGACY_PROTOCOL:
        analysis.note("legacy", 0, f"legacy torch header is {magic!r}/{protocol!r}")
    sizes = _storage_sizes(vm.persids)
    if not isinstance(keys, list):
        analysis.note("legacy", analysis.streams[-1].start, "storage key list is not a list")
        salvage(analysis, pos, vm.size, budget)
        return
    for key in keys:
        size = sizes.get(key) if isinstance(key, str) else None
        if size is None or pos + 8 > vm.size:
            analysis.note("legacy", pos, f"cannot frame storage {key!r}; rest salvaged")
            salvage(analysis, pos, vm.size, budget)
            return
        count = int.from_bytes(vm.data[pos : pos + 8], "little")
        pos += 8 + count * size
        if pos > vm.size:
            analysis.note("malformed", vm.size, f"storage {key!r} runs past the end of the file")
            return
    if pos < vm.size:
        analysis.note("trailing", pos, f"{vm.size - pos} bytes after the last storage")
        walk_streams(analysis, pos, vm.size, budget)


def _storage_sizes(persids: list[tuple[int, Any]]) -> dict[str, int]:
    """Storage key -> element size, from ``('storage', torch.XStorage, key, location, n)``."""
    sizes: dict[str, int] = {}
    for _, pid in persids:
        if not (isinstance(pid, tuple) and len(pid) >= 3 and pid[0] == "storage"):
            continue
        kind, key = pid[1], pid[2]
        if isinstance(kind, Global) and isinstance(key, str) and kind.module.startswith("torch"):
            size = _STORAGE_SIZES.get(kind.qualname)
            if size is not None:
                sizes[key] = size
    return sizes
