"""GGUF value types and ggml tensor types with their block and type sizes (from ggml.h/ggml.c).

Kept as literal tables so pellucid never imports ``gguf`` or ``ggml`` bindings; a test
cross-checks them against the ``gguf`` package.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

GGML_MAX_DIMS = 4
GGML_MAX_NAME = 64  # ggml's char name[64], terminating NUL included
INT64_MAX = (1 << 63) - 1
MIN_KV_BYTES = 8 + 4 + 1  # key length, value type, smallest value (v1: 4-byte key length)
MIN_TENSOR_BYTES = 8 + 4 + 4 + 8  # name length, n_dims, type, offset (v1: 4-byte name length)


class ValueType(enum.IntEnum):
    """Metadata value types of GGUF (all versions)."""

    UINT8 = 0
    INT8 = 1
    UINT16 = 2
    INT16 = 3
    UINT32 = 4
    INT32 = 5
    FLOAT32 = 6
    BOOL = 7
    STRING = 8
    ARRAY = 9
    UINT64 = 10
    INT64 = 11
    FLOAT64 = 12


SCALAR_FORMATS: dict[ValueType, str] = {
    ValueType.UINT8: "B", ValueType.INT8: "b", ValueType.UINT16: "H", ValueType.INT16: "h",
    ValueType.UINT32: "I", ValueType.INT32: "i", ValueType.FLOAT32: "f", ValueType.BOOL: "?",
    ValueType.UINT64: "Q", ValueType.INT64: "q", ValueType.FLOAT64: "d",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class GgmlType:
    """A tensor type: ``block`` elements are stored in ``size`` bytes."""

    name: str
    block: int
    size: int
    removed: bool = False  # once valid, now rejected by ggml; sizes unknown (0)


def _t(name: str, block: int, size: int, removed: bool = False) -> GgmlType:
    return GgmlType(name, block, size, removed)


# Ids 4/5 (Q4_2, Q4_3) and 31-33, 36-38 (repacked ARM layouts) were removed from ggml; files
# using them no longer load, and their sizes are not checked (block 0). Other sizes are
# sizeof(block_*) in ggml-common.h.
GGML_TYPES: dict[int, GgmlType] = {
    0: _t("F32", 1, 4), 1: _t("F16", 1, 2), 2: _t("Q4_0", 32, 18), 3: _t("Q4_1", 32, 20),
    4: _t("Q4_2", 0, 0, True), 5: _t("Q4_3", 0, 0, True),
    6: _t("Q5_0", 32, 22), 7: _t("Q5_1", 32, 24), 8: _t("Q8_0", 32, 34), 9: _t("Q8_1", 32, 36),
    10: _t("Q2_K", 256, 84), 11: _t("Q3_K", 256, 110), 12: _t("Q4_K", 256, 144),
    13: _t("Q5_K", 256, 176), 14: _t("Q6_K", 256, 210), 15: _t("Q8_K", 256, 292),
    16: _t("IQ2_XXS", 256, 66), 17: _t("IQ2_XS", 256, 74), 18: _t("IQ3_XXS", 256, 98),
    19: _t("IQ1_S", 256, 50), 20: _t("IQ4_NL", 32, 18), 21: _t("IQ3_S", 256, 110),
    22: _t("IQ2_S", 256, 82), 23: _t("IQ4_XS", 256, 136), 24: _t("I8", 1, 1),
    25: _t("I16", 1, 2), 26: _t("I32", 1, 4), 27: _t("I64", 1, 8), 28: _t("F64", 1, 8),
    29: _t("IQ1_M", 256, 56), 30: _t("BF16", 1, 2),
    31: _t("Q4_0_4_4", 0, 0, True), 32: _t("Q4_0_4_8", 0, 0, True),
    33: _t("Q4_0_8_8", 0, 0, True), 34: _t("TQ1_0", 256, 54), 35: _t("TQ2_0", 256, 66),
    36: _t("IQ4_NL_4_4", 0, 0, True), 37: _t("IQ4_NL_4_8", 0, 0, True),
    38: _t("IQ4_NL_8_8", 0, 0, True), 39: _t("MXFP4", 32, 17), 40: _t("NVFP4", 64, 36),
    41: _t("Q1_0", 128, 18),
}  # fmt: skip


def tensor_nbytes(dims: tuple[int, ...], ggml: GgmlType) -> int:
    """Bytes of a tensor as ggml_nbytes computes them (first dimension divisible by block)."""
    total = dims[0] // ggml.block * ggml.size if dims else ggml.size
    for dim in dims[1:]:
        total *= dim
    return total
