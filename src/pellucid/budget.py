"""Resource limits for hostile input. Hitting one makes an artifact "incomplete", never "clean"."""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Budget:
    """Limits applied to every file; documented in docs/budgets.md."""

    max_depth: int = 6  # nesting of archives inside archives
    max_member_bytes: int = 512 * MiB  # one decompressed member held in memory
    max_unpacked_bytes: int = 2048 * MiB  # all decompressed bytes under one file on disk
    max_ratio: float = 200.0  # decompressed / compressed, checked past the first MiB
    max_members: int = 100_000  # entries in one archive
    max_pickle_ops: int = 10_000_000  # opcodes interpreted in one pickle member
    max_pickle_memo: int = 1_000_000  # memo entries / stack depth in the pickle VM
    max_pickle_streams: int = 10_000  # consecutive pickle streams in one file (stacked pickles)
    max_nested_pickle_depth: int = 4  # pickles found inside pickles (bytes, base64, zlib)
    max_text_bytes: int = 16 * MiB  # JSON, Python and template text parsed
    max_header_bytes: int = 100 * MiB  # safetensors / GGUF metadata

    def ratio_exceeded(self, unpacked: int, packed: int) -> bool:
        return unpacked > MiB and unpacked > self.max_ratio * max(packed, 1)


DEFAULT_BUDGET = Budget()
