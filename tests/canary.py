"""Harmless canary payloads and hand-built hostile pickles for tests.

A payload only creates a marker file under CANARY_DIR. Tests that prove a sample is *really*
malicious run the real loader in a subprocess with a separate marker directory (see
``fires_in_subprocess``); the suite-wide marker directory must stay empty.
"""

from __future__ import annotations

import hashlib
import os
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

CANARY_DIR = Path(tempfile.gettempdir()) / f"pellucid-canary-{os.getpid()}"


@dataclass(frozen=True)
class Canary:
    marker: Path

    @classmethod
    def for_test(cls, name: str) -> Canary:
        tag = hashlib.sha256(name.encode()).hexdigest()[:12]
        return cls(CANARY_DIR / f"fired-{tag}")

    @property
    def shell(self) -> str:
        """A shell command that creates the marker."""
        return f"touch {self.marker}"

    @property
    def python(self) -> str:
        """Python source that creates the marker."""
        return f"open({str(self.marker)!r}, 'w').close()"


PROTO4 = b"\x80\x04"
MARK, TUPLE, REDUCE, STOP, STACK_GLOBAL, MEMOIZE = b"(", b"t", b"R", b".", b"\x93", b"\x94"


def s(text: str) -> bytes:
    """SHORT_BINUNICODE (BINUNICODE past 255 bytes)."""
    data = text.encode()
    if len(data) < 256:
        return b"\x8c" + bytes([len(data)]) + data
    return b"X" + struct.pack("<I", len(data)) + data


def call(module: str, qualname: str, *args: str) -> bytes:
    """Opcodes (no header, no STOP) that push ``module.qualname(*args)``."""
    return global_op(module, qualname) + MARK + b"".join(s(a) for a in args) + TUPLE + REDUCE


def global_op(module: str, name: str, protocol: int = 4) -> bytes:
    """Push ``module.name``: GLOBAL for protocol < 4, STACK_GLOBAL otherwise."""
    if protocol < 4:
        return b"c" + module.encode() + b"\n" + name.encode() + b"\n"
    return s(module) + s(name) + b"\x93"


def call_pickle(module: str, name: str, *args: str, protocol: int = 4) -> bytes:
    """A complete pickle that calls ``module.name(*args)`` with string arguments."""
    head = b"\x80" + bytes([protocol]) if protocol >= 2 else b""
    body = (
        global_op(module, name, protocol)
        + b"("
        + b"".join(s(a) if protocol >= 4 else _text_string(a) for a in args)
    )
    return head + body + b"tR."


def _text_string(text: str) -> bytes:
    return b"V" + text.encode("raw_unicode_escape") + b"\n"


def fires_in_subprocess(code: str, marker: Path, timeout: float = 60) -> bool:
    """Run ``code`` (which loads a sample with the real loader) in a child process and report
    whether it created ``marker``. ``marker`` must lie outside CANARY_DIR."""
    assert CANARY_DIR not in marker.parents
    subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=timeout, check=False)
    return marker.exists()
