"""The symbolic VM against CPython's own pickles and opcode table."""

from __future__ import annotations

import argparse
import collections
import pickle
import pickletools

import pytest

from pellucid.formats.pickle_values import Call, Global, render
from pellucid.formats.pickle_vm import OPCODE_NAMES, PickleVM


def run(data: bytes) -> tuple[PickleVM, object]:
    vm = PickleVM(memoryview(data), max_ops=1_000_000, max_memo=100_000)
    return vm, vm.run(0)


def test_every_cpython_opcode_has_a_handler() -> None:
    cpython = {op.code.encode("latin-1")[0] for op in pickletools.opcodes}
    assert set(OPCODE_NAMES) == cpython


SAMPLE = {
    "ints": [0, 1, -1, 255, 65535, 2**31, -(2**31), 2**100, -(2**70)],
    "floats": [0.5, -1e300],
    "text": ["", "é", "x" * 300],
    "bytes": [b"", b"\x00" * 10, bytearray(b"ab")],
    "nested": ((1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)),
    "set": {1, 2},
    "frozen": frozenset({3}),
    "flags": (True, False, None),
}


@pytest.mark.parametrize("protocol", range(6))
def test_cpython_pickles_parse_to_the_end_in_every_protocol(protocol: int) -> None:
    data = pickle.dumps([SAMPLE, SAMPLE, collections.OrderedDict(a=1)], protocol=protocol)
    _vm, stream = run(data)
    assert stream.stopped, stream.error
    assert stream.end == len(data)
    text = render(stream.value, 10_000)
    assert "1267650600228229401496703205376" in text  # 2**100 via LONG1 or text LONG
    assert "'é'" in text


def test_protocol_0_names_are_mapped_like_fix_imports() -> None:
    vm, stream = run(b"c__builtin__\neval\n(Vx\ntR.")
    assert stream.stopped
    assert vm.globals[0].key == ("builtins", "eval")


def test_protocol_4_keeps_python2_names_unmapped() -> None:
    vm, _ = run(b"\x80\x04\x8c\x0b__builtin__\x8c\x04eval\x93.")
    assert vm.globals[0].key == ("__builtin__", "eval")


def test_reduce_records_call_with_offset_and_renders_like_python() -> None:
    data = b"\x80\x02cposix\nsystem\nX\x0c\x00\x00\x00touch /tmp/x\x85R."
    vm, stream = run(data)
    (found,) = vm.calls
    assert isinstance(found, Call)
    assert found.offset == data.index(b"R")
    assert render(found) == "posix.system('touch /tmp/x')"
    assert stream.value is found


def test_mark_fence_blocks_popping_below_a_mark_like_cpython() -> None:
    # CPython: "unpickling stack underflow" when POP reaches under the newest MARK.
    _, stream = run(b"N(\x85.")
    assert not stream.stopped
    assert "underflow" in (stream.error or "")


def test_pop_removes_a_mark_on_top_of_the_stack() -> None:
    _, stream = run(b"N(0.")
    assert stream.stopped
    assert stream.value is None


def test_setitems_on_imported_object_is_a_mutation_and_on_a_dict_is_not() -> None:
    vm, _ = run(b"\x80\x04}\x8c\x01a\x8c\x01bs0\x8c\x03sys\x8c\x07modules\x93\x8c\x01kNs.")
    assert [m.op for m in vm.mutations] == ["SETITEM"]
    assert isinstance(vm.mutations[0].target, Global)


def test_big_bytes_stay_in_the_input_as_a_window() -> None:
    data = pickle.dumps(b"\x01" * 100_000, protocol=4)
    _vm, stream = run(data)
    assert render(stream.value).startswith("<bytes of 100000 bytes at offset")


def test_namespace_and_ordered_dict_render_as_constructor_calls() -> None:
    _, stream = run(pickle.dumps(argparse.Namespace(lr=0.1), protocol=2))
    assert "argparse.Namespace" in render(stream.value)
