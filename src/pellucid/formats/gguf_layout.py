"""Checks of a GGUF header as a whole: keys, alignment, tensor shapes, types and data layout.

These run on what ``read_gguf`` parsed, without touching tensor data. Each kind of problem
is reported for at most ``MAX_PER_KIND`` tensors, the last one saying how many there were.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator, Iterator

from pellucid.formats.gguf import (
    DEFAULT_ALIGNMENT,
    TEMPLATE_KEY,
    GgufHeader,
    GgufProblem,
    TensorInfo,
)
from pellucid.formats.gguf_types import (
    GGML_MAX_NAME,
    GGML_TYPES,
    INT64_MAX,
    ValueType,
    tensor_nbytes,
)

MAX_PER_KIND = 20


def check_layout(header: GgufHeader, file_size: int) -> tuple[list[GgufProblem], int]:
    """Problems beyond what the reader saw, and the alignment in force."""
    problems = list(_key_problems(header))
    alignment, problem = _alignment(header)
    if problem is not None:
        problems.append(problem)
    if header.data_offset is not None:
        data_start = -(-header.data_offset // alignment) * alignment
        problems.extend(_tensor_problems(header.tensors, alignment, data_start, file_size))
    return _capped(problems), alignment


def _key_problems(header: GgufHeader) -> Iterator[GgufProblem]:
    seen: set[str] = set()
    for kv in header.kvs:
        if kv.key in seen:
            yield GgufProblem(
                "duplicate-key",
                kv.offset,
                kv.key,
                f"metadata key {kv.key!r} "
                "appears more than once; readers disagree on which one counts",
            )
        seen.add(kv.key)
        if (
            kv.key.startswith(TEMPLATE_KEY)
            and kv.type is not ValueType.STRING
            and (kv.key != "tokenizer.chat_templates")
        ):
            yield GgufProblem(
                "bad-value-type",
                kv.offset,
                f"{kv.key}: {kv.type.name}",
                f"{kv.key!r} should be a string, not {kv.type.name}",
            )
    names = Counter(t.name for t in header.tensors)
    for tensor in header.tensors:
        if names[tensor.name] > 1:
            names[tensor.name] = 0  # report each name once
            yield GgufProblem(
                "duplicate-tensor",
                tensor.info_offset,
                tensor.name,
                f"tensor name {tensor.name!r} appears more than once",
            )


def _alignment(header: GgufHeader) -> tuple[int, GgufProblem | None]:
    kv = header.kv("general.alignment")
    if kv is None:
        return DEFAULT_ALIGNMENT, None
    value = kv.value
    if (
        kv.type is ValueType.UINT32
        and isinstance(value, int)
        and value > 0
        and (value & (value - 1) == 0)
    ):
        return value, None
    shown = f"{kv.type.name} {value!r}"
    return DEFAULT_ALIGNMENT, GgufProblem(
        "bad-alignment",
        kv.offset,
        f"general.alignment = {shown}",
        f"general.alignment is {shown}; ggml needs a UINT32 power of two (and aborts otherwise)",
    )


def _tensor_problems(
    tensors: list[TensorInfo], alignment: int, data_start: int, file_size: int
) -> Iterator[GgufProblem]:
    spans: list[tuple[int, int, TensorInfo]] = []
    for tensor in tensors:
        nbytes = yield from _shape_problems(tensor)
        if tensor.offset % alignment:
            yield _problem(
                "misaligned",
                tensor,
                f"data offset {tensor.offset} is not a multiple of the alignment {alignment}",
            )
        if nbytes is None:
            continue
        end = data_start + tensor.offset + nbytes
        if end > file_size:
            yield _problem(
                "out-of-bounds",
                tensor,
                f"data [{data_start + tensor.offset}, "
                f"{end}) lies beyond the end of the file ({file_size} bytes)",
            )
        if nbytes:
            spans.append((tensor.offset, tensor.offset + nbytes, tensor))
    yield from _overlaps(spans)


def _shape_problems(tensor: TensorInfo) -> Generator[GgufProblem, None, int | None]:
    """Yields shape and type problems; returns the tensor's byte size when it is well formed."""
    if tensor.name_bytes >= GGML_MAX_NAME:
        yield _problem(
            "long-name",
            tensor,
            f"name is {tensor.name_bytes} bytes; ggml keeps {GGML_MAX_NAME - 1}",
        )
    dims = tensor.dims or (1,)
    if any(d <= 0 or d > INT64_MAX for d in dims):
        yield _problem(
            "bad-dim", tensor, f"dimensions {list(dims)} include zero or a value beyond int64"
        )
        return None
    count = 1
    for d in dims:
        count *= d
    if count > INT64_MAX:
        yield _problem(
            "size-overflow", tensor, f"{' x '.join(map(str, dims))} elements overflow int64"
        )
        return None
    ggml = GGML_TYPES.get(tensor.ggml_type)
    if ggml is None or ggml.removed:
        kind = "unknown-type" if ggml is None else "removed-type"
        label = "unknown" if ggml is None else f"removed ({ggml.name})"
        yield _problem(kind, tensor, f"ggml type {tensor.ggml_type} is {label}")
        return None
    if dims[0] % ggml.block:
        yield _problem(
            "block-mismatch",
            tensor,
            f"first dimension {dims[0]} is not a "
            f"multiple of the {ggml.name} block size {ggml.block}",
        )
        return None
    nbytes = tensor_nbytes(dims, ggml)
    if nbytes > INT64_MAX:
        yield _problem("size-overflow", tensor, f"{nbytes} bytes overflow int64")
        return None
    return nbytes


def _problem(kind: str, tensor: TensorInfo, detail: str) -> GgufProblem:
    return GgufProblem(kind, tensor.info_offset, tensor.name, f"tensor {tensor.name!r}: {detail}")


def _overlaps(spans: list[tuple[int, int, TensorInfo]]) -> Iterator[GgufProblem]:
    """Tensors whose data ranges (relative to the data section) share bytes."""
    spans.sort(key=lambda span: (span[0], span[1]))
    furthest, owner = -1, None
    for start, end, tensor in spans:
        if start < furthest and owner is not None:
            yield _problem(
                "overlap",
                tensor,
                f"data [{start}, {end}) overlaps tensor {owner.name!r} (ends at {furthest})",
            )
        if end > furthest:
            furthest, owner = end, tensor


def _capped(problems: list[GgufProblem]) -> list[GgufProblem]:
    counts = Counter(p.kind for p in problems)
    kept: list[GgufProblem] = []
    seen: Counter[str] = Counter()
    for problem in problems:
        seen[problem.kind] += 1
        if seen[problem.kind] < MAX_PER_KIND or counts[problem.kind] == MAX_PER_KIND:
            kept.append(problem)
        elif seen[problem.kind] == MAX_PER_KIND:
            more = counts[problem.kind] - MAX_PER_KIND + 1
            kept.append(
                GgufProblem(
                    problem.kind,
                    problem.offset,
                    problem.snippet,
                    f"{problem.detail} (and {more - 1} more like it)",
                )
            )
    return kept
