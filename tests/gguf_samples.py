"""GGUF files for tests: benign ones from the ``gguf`` package's writer, hostile ones by hand.

The hand-built files follow the GGUF layout byte for byte (little-endian, version 3 unless
asked otherwise) so each test can bend exactly one field.
"""

from __future__ import annotations

import struct
from pathlib import Path

STRING, ARRAY, UINT32, UINT8 = 8, 9, 4, 0


def write_benign(path: Path, templates: dict[str, str], *, big_endian: bool = False) -> Path:
    """A small valid model: F32, F16, Q8_0, BF16 and Q4_K tensors, metadata and chat templates."""
    import numpy as np
    from gguf import GGMLQuantizationType, GGUFEndian, GGUFWriter
    from gguf.quants import quantize

    endian = GGUFEndian.BIG if big_endian else GGUFEndian.LITTLE
    writer = GGUFWriter(path, "llama", endianess=endian)
    writer.add_name("tiny")
    writer.add_string("general.license", "apache-2.0")
    writer.add_uint32("llama.context_length", 128)
    writer.add_array("tokenizer.ggml.tokens", ["<s>", "</s>", "hello", "world"])
    writer.add_array("tokenizer.ggml.scores", [0.0, 0.0, -1.0, -2.0])
    if "default" in templates:
        writer.add_chat_template(templates["default"])
    for name, text in templates.items():
        if name != "default":
            writer.add_string(f"tokenizer.chat_template.{name}", text)
    rng = np.random.default_rng(0)
    writer.add_tensor("a.f32", rng.random((4, 8), dtype=np.float32))
    writer.add_tensor("b.f16", rng.random((2, 16)).astype(np.float16))
    for qtype, shape in ((GGMLQuantizationType.Q8_0, (2, 64)), (GGMLQuantizationType.BF16, (3, 5))):
        data = quantize(rng.random(shape, dtype=np.float32), qtype)
        writer.add_tensor(f"c.{qtype.name.lower()}", data, raw_dtype=qtype)
    # Q4_K has no quantizer in gguf-py: one zero block of 144 bytes holds 256 weights
    writer.add_tensor("d.q4_k", np.zeros((2, 144), np.uint8), raw_dtype=GGMLQuantizationType.Q4_K)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def gguf_string(text: str | bytes, length: int | None = None) -> bytes:
    data = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(data) if length is None else length) + data


def kv(key: str, vtype: int, payload: bytes) -> bytes:
    return gguf_string(key) + struct.pack("<I", vtype) + payload


def kv_str(key: str, value: str) -> bytes:
    return kv(key, STRING, gguf_string(value))


def tensor_info(name: str, dims: tuple[int, ...], ggml_type: int, offset: int) -> bytes:
    body = struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
    return gguf_string(name) + body + struct.pack("<IQ", ggml_type, offset)


def build(
    kvs: list[bytes],
    tensors: list[bytes],
    *,
    data: bytes = b"",
    version: int = 3,
    kv_count: int | None = None,
    tensor_count: int | None = None,
    alignment: int = 32,
) -> bytes:
    """A GGUF file; counts default to the lists' lengths, data follows the aligned infos."""
    head = b"GGUF" + struct.pack(
        "<IQQ", version,
        len(tensors) if tensor_count is None else tensor_count,
        len(kvs) if kv_count is None else kv_count,
    )  # fmt: skip
    body = head + b"".join(kvs) + b"".join(tensors)
    return body + b"\x00" * (-len(body) % alignment) + data


def f32_tensors(*spans: tuple[str, int, int]) -> tuple[list[bytes], bytes]:
    """Tensor infos of 1-D F32 tensors ``(name, elements, offset)`` and enough zero data."""
    infos = [tensor_info(name, (n,), 0, offset) for name, n, offset in spans]
    end = max((offset + 4 * n for _, n, offset in spans), default=0)
    return infos, b"\x00" * end
