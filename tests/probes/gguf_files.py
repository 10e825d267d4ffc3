"""Tiny header-valid GGUF files for the backend tests, written with the gguf package."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def write_tiny_gguf(
    path: Path,
    *,
    arch: str = "llama",
    quantized: int = 2,
    metadata: Callable[[Any], None] | None = None,
) -> Path:
    """``quantized`` Q8_0 tensors and one F32 tensor; ``metadata(writer)`` adds key/values."""
    import gguf

    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(path), arch)
    if metadata is not None:
        metadata(writer)
    writer.add_tensor("output_norm.weight", np.ones(32, dtype=np.float32))
    q8 = gguf.GGMLQuantizationType.Q8_0
    for i in range(quantized):
        block = gguf.quants.quantize(np.ones((4, 32), dtype=np.float32), q8)
        writer.add_tensor(f"blk.{i}.attn_q.weight", block, raw_dtype=q8)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
