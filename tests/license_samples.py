"""Model folders for the licence tests. Licence texts come from ScanCode's data files, found
with ``find_spec`` (never importing licensedcode's code); tests that need one skip without it."""

from __future__ import annotations

import importlib.util
import json
import struct
from pathlib import Path

import pytest


def scancode_text(key: str) -> str:
    """The text of ScanCode licence ``key`` without its YAML header, or skip the test."""
    spec = importlib.util.find_spec("licensedcode")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("scancode-toolkit (licence texts) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "licenses"
    path = path / f"{key}.LICENSE"
    if not path.exists():
        pytest.skip(f"ScanCode has no licence text {key}")
    return path.read_text(encoding="utf-8").split("---", 2)[-1].lstrip()


def card(front_matter: str, body: str = "# Model\n\nA model.\n") -> str:
    return f"---\n{front_matter.strip()}\n---\n{body}"


def write_safetensors(path: Path, metadata: dict[str, str] | None = None) -> Path:
    """A valid one-tensor safetensors file with optional ``__metadata__``."""
    header: dict[str, object] = {"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}
    if metadata is not None:
        header["__metadata__"] = metadata
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + bytes(16))
    return path


def write_gguf(path: Path, strings: dict[str, str]) -> Path:
    """A small GGUF file written by the ``gguf`` package with the given string metadata."""
    import numpy as np
    from gguf import GGUFWriter

    writer = GGUFWriter(path, "llama")
    for key, value in strings.items():
        writer.add_string(key, value)
    writer.add_tensor("w", np.zeros((2, 4), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def folder(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``files`` (relative path -> text or bytes) under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return root
