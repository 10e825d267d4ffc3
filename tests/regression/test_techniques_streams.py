"""Regression tests for pickle stream techniques of threats.md §3.2 that the unit tests do not
already pin (EOP, hidden loading paths, protocol 5 buffers, scanner deactivation, expansion),
end to end through ``run_audit``. docs/scorecard.md maps every row to a test."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from technique_samples import (
    MARK,
    PROTO4,
    STACK_GLOBAL,
    STOP,
    TUPLE,
    audit,
    call,
    global_op,
    incomplete,
    one,
    s,
    tar_bytes,
    write_audit,
    zip_bytes,
)

from canary import Canary, fires_in_subprocess

# Tails that make the loader raise (or a strict scanner give up) after the payload ran.
EOP_TAILS = {
    "raising_call": call("builtins", "int", "not a number") + STOP,
    "missing_module": call("nonexistent_helper_mod", "run") + STOP,
    "missing_memo_key": b"h\x07" + STOP,
    "invalid_opcode": b"\xff\xfe",
    "no_stop": b"N",
}


@pytest.mark.parametrize("tail", EOP_TAILS.values(), ids=EOP_TAILS.keys())
def test_exception_oriented_programming_payload_before_raise(
    tmp_path: Path, canary: Canary, tail: bytes
) -> None:
    data = PROTO4 + call("os", "system", canary.shell) + b"0" + tail
    report = write_audit(tmp_path / "model.pkl", data)
    finding = one(report, "PCL-PKL-002", f"os.system({canary.shell!r})")
    assert finding.evidence.offset == data.index(STACK_GLOBAL)
    assert finding.blocking


def test_exception_oriented_programming_really_runs_then_raises(tmp_path: Path) -> None:
    marker = tmp_path / "fired"
    sample = tmp_path / "model.pkl"
    sample.write_bytes(
        PROTO4 + call("os", "system", f"touch {marker}") + b"0" + EOP_TAILS["raising_call"]
    )
    # The marker counts only if the payload ran *and* the loader then raised.
    code = (
        "import os, pickle\n"
        f"try:\n    pickle.loads(open({str(sample)!r}, 'rb').read())\n"
        f"except ValueError:\n    pass\nelse:\n    os.remove({str(marker)!r})\n"
    )
    assert fires_in_subprocess(code, marker)


class _Payload:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (self.command,))


def test_hidden_loading_path_joblib_compressed_in_zip(tmp_path: Path, canary: Canary) -> None:
    import joblib
    import numpy as np

    inner = tmp_path / "clf.joblib"
    joblib.dump({"w": np.zeros(3), "hook": _Payload(canary.shell)}, inner, compress=3)
    report = write_audit(
        tmp_path / "bundle.zip", zip_bytes("models/clf.joblib", inner.read_bytes())
    )
    finding = one(report, "PCL-PKL-002", f"posix.system({canary.shell!r})")
    assert finding.evidence.member == ("models/clf.joblib", "<zlib content>")
    assert finding.evidence.offset is not None


def test_hidden_loading_path_npz_object_array_in_tar(tmp_path: Path, canary: Canary) -> None:
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, a=np.array([_Payload(canary.shell)], dtype=object))
    data = tar_bytes(("data/arrays.npz", buffer.getvalue()), ("README", b"arrays\n"))
    report = write_audit(tmp_path / "arrays.tar", data)
    chain = ("data/arrays.npz", "a.npy", "<object array pickle>")
    # A tar ending in a zip is also a zip to Python's zipfile (it searches for the end record
    # from the end), so the payload is reported a second time under "(zip read from the end)".
    payload = one(report, "PCL-PKL-002", f"posix.system({canary.shell!r})", chain)
    assert payload.evidence.offset is not None
    one(report, "PCL-NPY-001", "descr='|O', shape=(1,)", chain[:2])


def test_protocol_5_out_of_band_buffer_after_payload(tmp_path: Path, canary: Canary) -> None:
    # NEXT_BUFFER / READONLY_BUFFER need buffers the loader was not given: it raises after the
    # call already ran.
    data = b"\x80\x05" + call("os", "system", canary.shell) + b"0\x97\x98" + STOP
    report = write_audit(tmp_path / "model.pkl", data)
    finding = one(report, "PCL-PKL-002", f"os.system({canary.shell!r})")
    assert finding.evidence.offset == data.index(STACK_GLOBAL)


DEACTIVATIONS = {
    "sys_modules_setitem": (
        global_op("sys", "modules") + s("picklescan") + b"Ns0",
        "PCL-PKL-004",
        "sys.modules['picklescan'] = None",
    ),
    "fickling_hook_removal": (
        call("fickling.hook", "remove_hook") + b"0",
        "PCL-PKL-001",
        "fickling.hook.remove_hook()",
    ),
    "patch_pellucid_scanner": (
        global_op("builtins", "setattr")
        + MARK
        + global_op("pellucid.scanners.pickle", "PickleScanner")
        + s("scan")
        + global_op("builtins", "print")
        + TUPLE
        + b"R0",
        "PCL-PKL-002",
        "builtins.setattr(pellucid.scanners.pickle.PickleScanner, 'scan', builtins.print)",
    ),
    "modelscan_settings_write": (
        global_op("modelscan.settings", "DEFAULT_SETTINGS") + s("scanners") + b"}s0",
        "PCL-PKL-004",
        "modelscan.settings.DEFAULT_SETTINGS['scanners'] = {}",
    ),
}


@pytest.mark.parametrize("case", DEACTIVATIONS.values(), ids=DEACTIVATIONS.keys())
def test_scanner_deactivation_then_payload(
    tmp_path: Path, canary: Canary, case: tuple[bytes, str, str]
) -> None:
    prelude, rule_id, snippet = case
    data = PROTO4 + prelude + call("os", "system", canary.shell) + STOP
    report = write_audit(tmp_path / "model.pkl", data)
    deactivation = one(report, rule_id, snippet)
    assert deactivation.blocking
    assert deactivation.evidence.offset is not None
    assert deactivation.evidence.offset < len(PROTO4 + prelude)
    one(report, "PCL-PKL-002", f"os.system({canary.shell!r})")


def _billion_laughs(layers: int) -> bytes:
    """memo[0] = []; memo[i] = [memo[i-1]] * 10: 10**layers leaves if expanded."""
    body = b"]\x94"
    for i in range(1, layers):
        body += b"]" + MARK + (b"j" + (i - 1).to_bytes(4, "little")) * 10 + b"e\x94"
    return body + b"0" + b"j" + (layers - 1).to_bytes(4, "little")


def test_expansion_billion_laughs_as_call_argument(tmp_path: Path, canary: Canary) -> None:
    data = PROTO4 + global_op("os", "system") + MARK + _billion_laughs(300) + TUPLE + b"R" + STOP
    clock = time.perf_counter()
    report = write_audit(tmp_path / "model.pkl", data)
    assert time.perf_counter() - clock < 5
    (finding,) = [f for f in report.findings if f.rule_id == "PCL-PKL-002"]
    assert finding.evidence.snippet.startswith("os.system([")
    assert len(finding.evidence.snippet) < 4096
    assert finding.evidence.offset == data.index(STACK_GLOBAL)


def test_expansion_millions_of_tiny_stacked_pickles(tmp_path: Path) -> None:
    clock = time.perf_counter()
    report = write_audit(tmp_path / "model.pkl", b"N." * 1_000_000)
    assert time.perf_counter() - clock < 10
    (entry,) = incomplete(report)
    assert any("pickle streams" in reason for reason in entry.reasons)
    assert report.summary.verdict != "clean"


def test_hidden_loading_path_torch_package_source(tmp_path: Path, canary: Canary) -> None:
    # torch.package archives ship module source that PackageImporter runs on import.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.package import PackageExporter

        path = tmp_path / "packaged.pt"
        with PackageExporter(path) as exporter:
            exporter.save_source_string("net", f"import os\nos.system({canary.shell!r})\n")
            exporter.save_pickle("model", "model.pkl", {"layers": 2})
    report = audit(path)
    finding = one(report, "PCL-PY-001", f"os.system({canary.shell!r})")
    assert finding.evidence.member == ("packaged/net.py",)
    assert finding.evidence.line == 2
