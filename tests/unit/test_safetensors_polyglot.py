"""Red-team regression: a file that identify takes for safetensors but that is a pickle too."""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import torch
from safetensors.torch import save

from canary import Canary, call_pickle, fires_in_subprocess
from pellucid.audit import AuditOptions, run_audit
from pellucid.identify import identify
from pellucid.model import Artifact, FileKind
from pellucid.scanners.base import ScanContext
from pellucid.scanners.safetensors import SafetensorsScanner
from pellucid.source import ByteSource


def binbytes_polyglot(command: str) -> bytes:
    """BINBYTES ('B', 4-byte length) swallows the 8-byte length field and the '{' at offset 8,
    so the sniffed header length is 0x42 + 256 * n; POP drops the bytes and the payload runs."""
    n = 16
    head = b"B" + struct.pack("<I", n) + b"\x00\x00\x00{" + b" " * (n - 4)
    body = head + b"0" + call_pickle("posix", "system", command, protocol=2)
    return body + b"\x00" * (0x42 + 256 * n + 16 - len(body))


def test_safetensors_sniffing_pickle_binbytes_polyglot(canary: Canary) -> None:
    data = binbytes_polyglot(canary.shell)
    assert identify(ByteSource(data)) is FileKind.SAFETENSORS
    art = Artifact("pytorch_model.bin", FileKind.SAFETENSORS, len(data))
    result = SafetensorsScanner().scan(art, ByteSource(data), ScanContext())
    polyglot = [f for f in result.findings if f.rule_id == "PCL-SFT-008"]
    assert polyglot
    assert polyglot[0].evidence.offset == 0
    assert polyglot[0].evidence.snippet.startswith("BINBYTES POP PROTO GLOBAL")
    assert [(m.name, m.kind) for m in result.members] == [("(as pickle)", FileKind.PICKLE)]


def test_safetensors_sniffing_pickle_is_blocked_end_to_end(tmp_path: Path, canary: Canary) -> None:
    (tmp_path / "pytorch_model.bin").write_bytes(binbytes_polyglot(canary.shell))
    report = run_audit([tmp_path], AuditOptions())
    assert report.summary.verdict == "blocked"
    member = [c for c in report.coverage if c.artifact.member == ("(as pickle)",)]
    assert member
    assert member[0].artifact.kind is FileKind.PICKLE
    assert any(f.evidence.member == ("(as pickle)",) and f.blocking for f in report.findings)


def test_safetensors_sniffing_pickle_really_runs_in_pickle_load(tmp_path: Path) -> None:
    marker = Canary(tmp_path / "fired")
    path = tmp_path / "pytorch_model.bin"
    path.write_bytes(binbytes_polyglot(f"touch {marker.marker}"))
    code = f"import pickle; pickle.load(open({str(path)!r}, 'rb'))"
    assert sys.platform != "win32"
    assert fires_in_subprocess(code, marker.marker)


def test_real_safetensors_files_are_not_pickles() -> None:
    tensors = {f"t{i}": torch.zeros(i + 1) for i in range(40)}
    for data in (save(tensors), save({"x": torch.ones(3)}, metadata={"format": "pt"})):
        art = Artifact("model.safetensors", FileKind.SAFETENSORS, len(data))
        result = SafetensorsScanner().scan(art, ByteSource(data), ScanContext())
        assert result.findings == ()
        assert result.members == ()
    header = json.dumps({"a": {"dtype": "U8", "shape": [0], "data_offsets": [0, 0]}}).encode()
    for length in range(0x2800, 0x2A00):  # header lengths whose bytes are pickle opcodes
        data = struct.pack("<Q", length) + header.ljust(length)
        art = Artifact("m.safetensors", FileKind.SAFETENSORS, len(data))
        assert SafetensorsScanner().scan(art, ByteSource(data), ScanContext()).members == ()
