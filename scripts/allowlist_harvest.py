"""Read the globals out of pickles that real writers produced (a dev-time helper).

Nothing is ever unpickled: every stream goes through ``pickletools.genops`` and a shadow stack
that names STACK_GLOBAL operands. Writers: ``torch.save`` (zip and legacy formats),
``pickle.dumps`` at three protocols, ``joblib.dump``, and whole output directories that a
framework wrote itself (Trainer checkpoints, accelerate states, Lightning ``.ckpt``).
"""

from __future__ import annotations

import importlib
import io
import pickle
import pickletools
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

# File suffixes a framework output directory may hold pickles under.
# torch.serialization.MAGIC_NUMBER, little-endian, as pickled by the legacy format.
LEGACY_MAGIC = (0x1950A86A20F9469CFC6C).to_bytes(10, "little")
# pickle writes a chunk shorter than this without a FRAME header (pickle._Framer._FRAME_SIZE_MIN).
_FRAME_SIZE_MIN = 4
PICKLE_SUFFIXES = frozenset({".bin", ".pt", ".pth", ".tar", ".ckpt", ".pkl", ".pickle", ".joblib"})


def globals_in(data: bytes) -> Iterator[str]:
    """Every ``module:qualname`` a pickle stream imports (GLOBAL, INST and STACK_GLOBAL)."""
    states: list[tuple[list[str | None], dict[int, Any]]] = [([], {})]
    for name, arg in _ops(data):
        if name == "PROTO":  # joblib nests whole pickles (object arrays): a fresh memo
            states.append(([], {}))
        yield from _step(name, arg, *states[-1])
        if name == "STOP" and len(states) > 1:
            states.pop()


def _ops(data: bytes) -> Iterator[tuple[str, Any]]:
    """Opcodes of a stream that may hold raw bytes between frames.

    joblib commits the current frame and then writes an array's bytes (or a nested pickle)
    straight into the file; the outer pickle resumes at a later FRAME. Ops past the last whole
    frame are raw bytes that happened to parse and are dropped (they would shift the memo and
    misname later STACK_GLOBALs), unless they are the short unframed tail pickle writes last.
    """
    offset = 0
    while 0 <= offset < len(data):
        ops: list[tuple[str, Any, int]] = []
        frame_end = -1
        failed = False
        try:
            for op, arg, pos in pickletools.genops(io.BytesIO(data[offset:])):
                ops.append((op.name, arg, offset + pos))
                if op.name == "FRAME" and frame_end in {-1, offset + pos}:
                    frame_end = offset + pos + 9 + int(arg)
        except ValueError:
            failed = True
        end = ops[-1][2] + 1 if ops else offset  # just past the STOP
        if not failed and (frame_end < 0 or end - frame_end < _FRAME_SIZE_MIN):
            yield from ((n, a) for n, a, _ in ops)
            offset = _next_start(data, end) if ops else -1
        else:
            yield from ((n, a) for n, a, at in ops if at < frame_end)
            offset = _next_start(data, frame_end) if frame_end >= 0 else -1


def _next_start(data: bytes, start: int) -> int:
    """The next FRAME (or nested PROTO + FRAME) whose length lands on a plausible boundary."""
    at = data.find(b"\x95", start)
    while at >= 0:
        end = at + 9 + int.from_bytes(data[at + 1 : at + 9], "little")
        if end == len(data) or (end < len(data) and _boundary(data, end)):
            nested = at >= 2 and data[at - 2] == 0x80 and at - 2 >= start
            return at - 2 if nested else at
        at = data.find(b"\x95", at + 1)
    return -1


def _boundary(data: bytes, at: int) -> bool:
    """A frame, a nested pickle, or joblib's array padding (a length byte, then 0xff bytes)."""
    pad = data[at]
    return pad in {0x95, 0x80} or (pad <= 16 and data[at + 1 : at + 1 + pad] == b"\xff" * pad)


def _step(name: str, arg: Any, pushed: list[str | None], memo: dict[int, Any]) -> Iterator[str]:
    """Track just enough of the stack to name STACK_GLOBAL operands (strings, or None)."""
    if name in {"GLOBAL", "INST"}:
        module, qualname = str(arg).split(" ", 1)
        yield f"{module}:{qualname}"
    elif name == "STACK_GLOBAL":
        module, qualname = pushed[-2:] if len(pushed) > 1 else (None, None)
        if module is None or qualname is None:
            raise ValueError("STACK_GLOBAL operands are not strings the shadow stack knows")
        yield f"{module}:{qualname}"
    if isinstance(arg, str) and "UNICODE" in name:
        pushed.append(arg)
    elif name == "MEMOIZE":
        memo[len(memo)] = pushed[-1] if pushed else None
    elif name in {"BINPUT", "LONG_BINPUT", "PUT"}:
        memo[int(arg)] = pushed[-1] if pushed else None
    elif name in {"BINGET", "LONG_BINGET", "GET"}:
        pushed.append(memo.get(int(arg)))
    elif name not in {"FRAME", "PROTO", "STOP", "MARK", "POP", "POP_MARK"}:
        pushed.append(None)


def pickles_in_torch_zip(data: bytes) -> Iterator[bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.endswith(".pkl"):
                yield archive.read(name)


def _legacy_streams(data: bytes) -> Iterator[bytes]:
    """The legacy torch file: five pickles (magic, protocol, sys_info, object, storage keys)
    and then raw storage bytes, which are never parsed."""
    legacy = io.BytesIO(data)
    for _ in range(5):
        start = legacy.tell()
        for op, _arg, _pos in pickletools.genops(legacy):
            if op.name == "STOP":
                break
        yield data[start : legacy.tell()]


def _is_legacy_torch(data: bytes) -> bool:
    """The first pickle of a legacy torch file is the magic number as a LONG1."""
    return data.startswith(b"\x80\x02\x8a\x0a") and data[4:14] == LEGACY_MAGIC


def file_globals(data: bytes) -> Iterator[str]:
    """Globals of one file as a framework wrote it: torch zip or legacy, pickle or joblib."""
    if data[:2] == b"PK":
        for stream in pickles_in_torch_zip(data):
            yield from globals_in(stream)
    elif _is_legacy_torch(data):
        for stream in _legacy_streams(data):
            yield from globals_in(stream)
    elif data[:1] == b"\x80":
        yield from globals_in(data)  # a pickle, or a joblib dump with raw array frames
    else:
        raise ValueError(f"not a pickle, joblib or torch file: {data[:8]!r}")


def torch_saved(obj: object) -> Iterator[str]:
    """Globals of ``torch.save(obj)`` in the zip format and in the legacy format."""
    import torch

    for zipped in (True, False):
        buffer = io.BytesIO()
        torch.save(obj, buffer, _use_new_zipfile_serialization=zipped)
        yield from file_globals(buffer.getvalue())


def pickled(obj: object) -> Iterator[str]:
    for protocol in (2, pickle.DEFAULT_PROTOCOL, pickle.HIGHEST_PROTOCOL):
        yield from globals_in(pickle.dumps(obj, protocol=protocol))


def joblib_dumped(obj: object) -> Iterator[str]:
    import joblib

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.joblib"
        joblib.dump(obj, path)
        yield from globals_in(path.read_bytes())


def directory_written(write: Callable[[Path], object]) -> Iterator[str]:
    """Globals of every pickle file a framework writes into a fresh directory."""
    with tempfile.TemporaryDirectory() as tmp:
        write(Path(tmp))
        files = sorted(p for p in Path(tmp).rglob("*") if p.is_file())
        found = [p for p in files if p.suffix in PICKLE_SUFFIXES]
        if not found:
            raise RuntimeError(f"the writer left no pickle files: {[p.name for p in files]}")
        for path in found:
            yield from file_globals(path.read_bytes())


WRITERS: dict[str, Callable[[Any], Iterator[str]]] = {
    "torch": torch_saved,
    "pickle": pickled,
    "joblib": joblib_dumped,
    "files": directory_written,
}


def torch_weights_only(skipped: Iterable[str]) -> set[str]:
    """PyTorch's own allowlist plus every dtype, layout, memory format and qscheme object."""
    import torch
    import torch._dynamo  # registers its own safe globals on import: same list every run
    from torch import _weights_only_unpickler as wou

    names = {_colon(n) for n in wou._get_allowed_globals()}
    names |= {_colon(n) for n in wou._get_user_allowed_globals()}
    kinds = (torch.dtype, torch.layout, torch.memory_format, torch.qscheme)
    names |= {f"torch:{n}" for n, v in vars(torch).items() if isinstance(v, kinds)}
    return names - set(skipped)


def _colon(dotted: str) -> str:
    """Split a weights_only key at the module: the longest importable prefix."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        return f"{'.'.join(parts[:cut])}:{'.'.join(parts[cut:])}"
    raise ValueError(dotted)
