"""Threats §3.1: callables missing from denylists. One regression test per gadget family."""

from __future__ import annotations

from pathlib import Path

import pytest
from pickle_samples import (
    MARK,
    PROTO4,
    REDUCE,
    STACK_GLOBAL,
    STOP,
    TUPLE,
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
from pellucid.model import Severity

GADGETS = [
    pytest.param("timeit", "timeit", "exec-a-string gadgets", id="timeit_exec_string"),
    pytest.param("cProfile", "run", "exec-a-string gadgets", id="cprofile_exec_string"),
    pytest.param("bdb", "Bdb.run", "exec-a-string gadgets", id="bdb_exec_string"),
    pytest.param("code", "InteractiveInterpreter.runsource", "exec", id="code_runsource"),
    pytest.param("pip", "main", "pip", id="pip_main"),
    pytest.param(
        "asyncio.unix_events", "_UnixSubprocessTransport._start", "x", id="asyncio_submodule"
    ),
    pytest.param("_operator", "methodcaller", "x", id="operator_methodcaller"),
    pytest.param("pkgutil", "resolve_name", "x", id="pkgutil_resolve_name"),
    pytest.param("importlib", "import_module", "x", id="importlib_import_module"),
    pytest.param("ctypes", "CDLL", "x", id="ctypes_cdll"),
    pytest.param("pathlib", "Path.write_text", "x", id="pathlib_path_write_text"),
    pytest.param("typing", "_eval_type", "x", id="typing_forwardref_eval"),
    pytest.param("dataclasses", "_create_fn", "x", id="dataclasses_create_fn"),
]


@pytest.mark.parametrize(("module", "name", "arg"), GADGETS)
def test_gadget_family_is_critical_with_decompiled_call(module: str, name: str, arg: str) -> None:
    data = call_pickle(module, name, arg)
    finding = only(scan(data), "PCL-PKL-002")
    assert finding.severity is Severity.CRITICAL
    assert finding.evidence.snippet == f"{module}.{name}({arg!r})"
    assert finding.evidence.offset == data.index(STACK_GLOBAL)


def test_typing_forwardref_eval_chain_reports_both_names(canary: Canary) -> None:
    ref = call("typing", "ForwardRef", canary.python)
    data = PROTO4 + global_op("typing", "_eval_type") + MARK + ref + b"}}" + TUPLE + REDUCE + STOP
    result = scan(data)
    snippets = {f.evidence.snippet for f in result.findings if f.rule_id == "PCL-PKL-002"}
    assert snippets == {
        f"typing._eval_type(typing.ForwardRef({canary.python!r}), {{}}, {{}})",
        f"typing.ForwardRef({canary.python!r})",
    }


@pytest.mark.parametrize(
    ("module", "qualname"),
    [("torch._utils", "os.system"), ("random", "_os.system")],
    ids=["torch_utils_os_system", "random_os_system"],
)
def test_module_alias_traversal_is_critical(module: str, qualname: str, canary: Canary) -> None:
    finding = only(scan(call_pickle(module, qualname, canary.shell)), "PCL-PKL-003")
    assert finding.severity is Severity.CRITICAL
    assert finding.evidence.snippet == f"{module}.{qualname}({canary.shell!r})"
    assert "os.system" in finding.detail


def test_module_alias_traversal_really_runs_os_system(tmp_path: Path) -> None:
    marker = tmp_path / "fired"
    sample = tmp_path / "alias.pkl"
    sample.write_bytes(call_pickle("random", "_os.system", f"touch {marker}"))
    assert fires_in_subprocess(loader_code(sample), marker)


def test_getattr_on_allowed_module_global_is_blocking() -> None:
    getattr_call = global_op("builtins", "getattr") + MARK + global_op("torch", "_utils")
    data = PROTO4 + getattr_call + s("os") + TUPLE + REDUCE + STOP
    finding = only(scan(data), "PCL-PKL-002")
    assert finding.evidence.snippet == "builtins.getattr(torch._utils, 'os')"


def test_shadowpickle_overwrite_of_ordered_dict_is_a_mutation(tmp_path: Path) -> None:
    marker = tmp_path / "fired"
    code = f"open({str(marker)!r}, 'w').close()"
    overwrite = (
        s("collections")
        + s("__dict__")
        + STACK_GLOBAL
        + s("OrderedDict")
        + global_op("builtins", "exec")
        + b"s0"
    )
    use = global_op("collections", "OrderedDict") + MARK + s(code) + TUPLE + REDUCE
    data = PROTO4 + overwrite + use + STOP
    result = scan(data)
    mutation = only(result, "PCL-PKL-004")
    assert mutation.severity is Severity.HIGH
    assert mutation.evidence.snippet == "collections.__dict__['OrderedDict'] = builtins.exec"
    assert mutation.evidence.offset == data.index(b"s0")
    sample = tmp_path / "shadow.pkl"
    sample.write_bytes(data)
    assert fires_in_subprocess(loader_code(sample), marker)


def test_numpy_builtins_via_build_state_is_a_mutation() -> None:
    state = b"N}" + s("__builtins__") + global_op("builtins", "eval") + b"s\x86"
    data = PROTO4 + global_op("numpy", "size") + state + b"b" + STOP
    result = scan(data)
    finding = only(result, "PCL-PKL-004")
    assert finding.evidence.snippet.startswith("numpy.size.__setstate__((None, {'__builtins__'")
    assert "PCL-PKL-002" in rule_ids(result)  # builtins.eval itself


def test_nested_pickle_call_is_reported_and_returned_as_member(canary: Canary) -> None:
    inner = call_pickle("os", "system", canary.shell)
    outer = PROTO4 + global_op("pickle", "loads") + MARK + b"C" + bytes([len(inner)]) + inner
    result = scan(outer + TUPLE + REDUCE + STOP)
    assert {"PCL-PKL-002", "PCL-PKL-009"} <= rule_ids(result)
    (member,) = result.members
    assert member.source.read() == inner
    assert member.unpacked
    assert only(scan(member.source.read()), "PCL-PKL-002").evidence.snippet == (
        f"os.system({canary.shell!r})"
    )
