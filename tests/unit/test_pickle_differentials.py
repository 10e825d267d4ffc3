"""Threats §3.2: static-analysis and parser differentials. One regression test per technique."""

from __future__ import annotations

import pickle
import time
from pathlib import Path

import pytest
from pickle_samples import (
    MARK,
    MEMOIZE,
    PROTO4,
    REDUCE,
    STACK_GLOBAL,
    STOP,
    TUPLE,
    binget,
    binput,
    call,
    call_pickle,
    global_op,
    loader_code,
    only,
    rule_ids,
    s,
    scan,
)

from canary import Canary, fires_in_subprocess
from pellucid.budget import Budget
from pellucid.identify import identify
from pellucid.model import FileKind
from pellucid.source import ByteSource


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "sample.pkl"
    path.write_bytes(data)
    return path


def test_memo_put_vs_memoize_confusion(tmp_path: Path) -> None:
    # BINPUT 5 fills one slot, so the next MEMOIZE writes index 1, not 6.
    marker = tmp_path / "fired"
    data = (
        PROTO4
        + s("os")
        + binput(5)
        + b"0"
        + s("collections")
        + MEMOIZE
        + b"0"
        + s("system")
        + MEMOIZE
        + b"0"
        + binget(5)
        + binget(2)
        + STACK_GLOBAL
        + MARK
        + s(f"touch {marker}")
        + TUPLE
        + REDUCE
        + STOP
    )
    assert only(scan(data), "PCL-PKL-002").evidence.snippet == f"os.system('touch {marker}')"
    assert fires_in_subprocess(loader_code(_write(tmp_path, data)), marker)


def test_memo_value_is_the_stack_top_not_the_previous_argument(canary: Canary) -> None:
    # MEMOIZE after POP stores 'os', although the opcode before pushed 'collections'.
    data = (
        PROTO4
        + s("os")
        + s("collections")
        + b"0"
        + MEMOIZE
        + b"0"
        + binget(0)
        + s("system")
        + STACK_GLOBAL
        + MARK
        + s(canary.shell)
        + TUPLE
        + REDUCE
        + STOP
    )
    finding = only(scan(data), "PCL-PKL-002")
    assert finding.evidence.snippet == f"os.system({canary.shell!r})"


def test_missing_memo_key_keeps_earlier_findings(canary: Canary) -> None:
    data = PROTO4 + call("os", "system", canary.shell) + b"0" + binget(7) + STOP
    result = scan(data)
    assert only(result, "PCL-PKL-002").evidence.offset == data.index(STACK_GLOBAL)
    malformed = only(result, "PCL-PKL-007")
    assert malformed.evidence.offset == data.index(b"h\x07")
    assert "memo key 7" in malformed.detail


def test_memo_type_confusion_in_stack_global_is_malformed() -> None:
    data = PROTO4 + b"K\x01" + MEMOIZE + binget(0) + s("system") + STACK_GLOBAL + STOP
    malformed = only(scan(data), "PCL-PKL-007")
    assert "STACK_GLOBAL requires str" in malformed.detail
    assert malformed.evidence.offset == data.index(STACK_GLOBAL)


def test_computed_stack_global_operands(tmp_path: Path) -> None:
    marker = tmp_path / "fired"
    module = global_op("builtins", "str") + MARK + s("os") + TUPLE + REDUCE
    data = (
        PROTO4
        + module
        + s("system")
        + STACK_GLOBAL
        + MARK
        + s(f"touch {marker}")
        + TUPLE
        + REDUCE
        + STOP
    )
    finding = only(scan(data), "PCL-PKL-005")
    assert finding.evidence.snippet == "STACK_GLOBAL(builtins.str('os'), 'system')"
    assert finding.blocking
    assert fires_in_subprocess(loader_code(_write(tmp_path, data)), marker)


def test_broken_stream_payload_first_nullifai(tmp_path: Path) -> None:
    marker = tmp_path / "fired"
    data = PROTO4 + call("os", "system", f"touch {marker}") + b"0\xff\xff\xff"
    result = scan(data)
    assert only(result, "PCL-PKL-002").evidence.snippet == f"os.system('touch {marker}')"
    assert only(result, "PCL-PKL-007").evidence.offset == len(data) - 3
    assert fires_in_subprocess(loader_code(_write(tmp_path, data)), marker)


def test_discarded_call_result_reduce_pop(canary: Canary) -> None:
    data = PROTO4 + call("os", "system", canary.shell) + b"0N" + STOP
    assert only(scan(data), "PCL-PKL-002").evidence.snippet == f"os.system({canary.shell!r})"


@pytest.mark.parametrize(
    ("data", "snippet"),
    [
        (b"(S'touch x'\nios\nsystem\n.", "os.system('touch x')"),
        (
            PROTO4 + MARK + global_op("os", "system") + s("touch x") + b"o" + STOP,
            "os.system('touch x')",
        ),
        (
            PROTO4 + global_op("os", "system") + MARK + s("x") + TUPLE + b"\x81" + STOP,
            "os.system.__new__('x')",
        ),
        (PROTO4 + global_op("os", "system") + b")}\x92" + STOP, "os.system.__new__(**{})"),
    ],
    ids=["inst", "obj", "newobj", "newobj_ex"],
)
def test_alternative_call_opcodes(data: bytes, snippet: str) -> None:
    assert only(scan(data), "PCL-PKL-002").evidence.snippet == snippet


def test_build_setstate_of_a_gadget_object_is_reported(canary: Canary) -> None:
    data = PROTO4 + call("bdb", "Bdb") + b"}" + s("x") + s(canary.shell) + b"sb" + STOP
    result = scan(data)
    assert only(result, "PCL-PKL-002").evidence.snippet == "bdb.Bdb()"


def test_stacked_pickles_and_payload_after_stop(canary: Canary) -> None:
    first = pickle.dumps({"a": 1}, protocol=2)
    data = first + call_pickle("os", "system", canary.shell)
    result = scan(data)
    assert only(result, "PCL-PKL-002").evidence.offset > len(first)
    assert only(result, "PCL-PKL-008").evidence.offset == len(first)


def test_payload_behind_trailing_garbage_is_salvaged(canary: Canary) -> None:
    data = pickle.dumps(1, protocol=2) + b"\x00\x01garbage" + call_pickle("posix", "system", "x")
    result = scan(data)
    finding = only(result, "PCL-PKL-002")
    assert "recovered from unparsed bytes" in finding.detail
    assert "PCL-PKL-008" in rule_ids(result)


def test_computed_legacy_magic_is_scanned_as_stacked_pickles() -> None:
    magic = b"\x80\x02cbuiltins\neval\n(X\x16\x00\x00\x000x1950a86a20f9469cfc6ctR."
    data = magic + b"\x80\x02M\xe9\x03." + pickle.dumps({}, protocol=2)
    assert identify(ByteSource(data)) is FileKind.PICKLE
    result = scan(data)
    assert only(result, "PCL-PKL-002").evidence.snippet == "builtins.eval('0x1950a86a20f9469cfc6c')"
    assert "PCL-PKL-008" in rule_ids(result)


def test_frame_quirks(canary: Canary) -> None:
    body = call("os", "system", canary.shell) + STOP
    # A frame that claims more bytes than exist is a loader error; the call before it counts.
    framed = PROTO4 + b"\x95" + len(body).to_bytes(8, "little") + body
    assert "PCL-PKL-002" in rule_ids(scan(framed))
    overlong = PROTO4 + body[:-1] + b"\x95" + (10**6).to_bytes(8, "little") + STOP
    result = scan(overlong)
    assert {"PCL-PKL-002", "PCL-PKL-007"} <= rule_ids(result)
    # FRAME inside a protocol 2 stream is accepted by CPython too.
    assert "PCL-PKL-002" in rule_ids(scan(b"\x80\x02\x95" + len(body).to_bytes(8, "little") + body))


def test_only_newline_terminates_text_opcodes() -> None:
    data = b"cposix\nsystem\n(Vtouch x\rS'junk'\ntR."
    assert only(scan(data), "PCL-PKL-002").evidence.snippet == "posix.system(\"touch x\\rS'junk'\")"
    crlf = scan(b"cos\r\nsystem\r\n(Vx\r\ntR.")  # the loader imports 'os\r' and fails, but blocked
    assert any(f.blocking for f in crlf.findings)


def test_extension_codes_are_reported() -> None:
    data = b"\x80\x02\x82\x01(Vx\ntR."
    finding = only(scan(data), "PCL-PKL-006")
    assert finding.evidence.offset == 2
    assert finding.blocking


def test_expansion_billion_laughs_exhausts_the_op_budget() -> None:
    layers = (
        b"]" + MARK + (b"j" + i.to_bytes(4, "little")) * 10 + b"e" + MEMOIZE for i in range(2000)
    )
    data = b"\x80\x04]" + MEMOIZE + b"".join(layers) + STOP
    result = scan(data, budget=Budget(max_pickle_ops=5_000))
    assert any("opcodes" in reason for reason in result.incomplete)


def test_memo_budget_makes_the_artifact_incomplete() -> None:
    data = b"\x80\x04N" + b"".join(b"r" + i.to_bytes(4, "little") for i in range(2_000)) + b"."
    result = scan(data, budget=Budget(max_pickle_memo=1_000))
    assert any("memo" in reason for reason in result.incomplete)


def test_millions_of_tiny_stacked_pickles_are_incomplete_not_clean() -> None:
    clock = time.perf_counter()
    result = scan(b"N." * 1_000_000)
    assert any("pickle streams" in reason for reason in result.incomplete)
    assert time.perf_counter() - clock < 5


def test_protocol_0_printable_pickle_is_identified_and_scanned(canary: Canary) -> None:
    data = call_pickle("os", "system", canary.shell, protocol=0)
    assert data.isascii()
    assert identify(ByteSource(data), "config.txt") is FileKind.PICKLE
    assert only(scan(data), "PCL-PKL-002").evidence.offset == 0


def test_one_finding_per_name_with_a_count() -> None:
    body = b"".join(global_op("mypkg.models", "TinyNet") + b"0" for _ in range(1000))
    data = PROTO4 + body + b"N" + STOP
    result = scan(data)
    assert len(result.findings) == 1
    finding = only(result, "PCL-PKL-001")
    assert "seen 1000 times" in finding.detail
    assert finding.evidence.offset == data.index(b"\x93")
    assert '[pickle] allow = ["mypkg.models:TinyNet"]' in finding.detail


def test_policy_allows_an_exact_global() -> None:
    from pellucid.policy import Policy

    data = PROTO4 + global_op("mypkg.models", "TinyNet") + b")\x81" + STOP
    policy = Policy(allow_globals=frozenset({("mypkg.models", "TinyNet")}))
    assert scan(data, policy=policy).findings == ()
    assert rule_ids(scan(data)) == {"PCL-PKL-001"}


def test_allowed_callable_with_code_like_argument() -> None:
    data = call_pickle("builtins", "set", "__import__('os').system('id')")
    finding = only(scan(data), "PCL-PKL-010")
    assert finding.evidence.snippet == "builtins.set(\"__import__('os').system('id')\")"
