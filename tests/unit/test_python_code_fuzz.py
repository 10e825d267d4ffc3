"""PythonCodeScanner never raises and finishes quickly on arbitrary and Python-ish input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pellucid.model import Artifact, FileKind
from pellucid.scanners.base import ScanContext
from pellucid.scanners.python_code import PythonCodeScanner
from pellucid.source import ByteSource

_TOKENS = [
    "import os",
    "from subprocess import *",
    " as ",
    "(",
    ")",
    "[",
    "]",
    ".",
    ",",
    ":",
    "=",
    "\n",
    "    ",
    "exec",
    "eval",
    "getattr",
    "__import__",
    "'os'",
    "'system'",
    "chr(65)",
    "+",
    "[::-1]",
    "base64.b64decode",
    "open",
    "'w'",
    "def save_x():",
    "setattr",
    "sys.modules",
    "os.environ['HF_TOKEN']",
    "lambda x:",
    "class A:",
    "# coding: utf-7\n",
    "\\",
    '"""',
    "f'{x}'",
    "yaml.load",
    "torch.load",
]


def _scan(data: bytes) -> None:
    artifact = Artifact("fuzz.py", FileKind.PYTHON, len(data))
    result = PythonCodeScanner().scan(artifact, ByteSource(data), ScanContext())
    for finding in result.findings:
        assert finding.rule_id.startswith("PCL-PY-")
        assert finding.evidence.line is None or finding.evidence.line >= 1


@settings(max_examples=150, deadline=2000)
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise(data: bytes) -> None:
    _scan(data)


@settings(max_examples=150, deadline=2000)
@given(st.lists(st.sampled_from(_TOKENS), max_size=80))
def test_python_ish_token_soup_never_raises(tokens: list[str]) -> None:
    _scan("".join(tokens).encode())


@settings(max_examples=100, deadline=2000)
@given(st.text(max_size=1000))
def test_random_text_never_raises(text: str) -> None:
    _scan(text.encode("utf-8", "surrogatepass"))
