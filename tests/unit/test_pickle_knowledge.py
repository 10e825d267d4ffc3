"""The pickle allowlist, gadget list and module-alias shapes the pickle scanner decides with."""

from __future__ import annotations

import re

import pytest

from pellucid.data import load_json
from pellucid.scanners.pickle_knowledge import (
    ALLOWLIST_FILE,
    DENYLIST_FILE,
    allowed,
    is_module_alias,
    known_gadget,
)

ADVISORY = re.compile(
    r"^https://(github\.com/advisories/GHSA(-[0-9a-z]{4}){3}|nvd\.nist\.gov/|github\.com/|arxiv\.org/abs/)"
)


def _allowlisted() -> list[tuple[str, str, str]]:
    pairs = []
    for label, group in load_json(ALLOWLIST_FILE)["frameworks"].items():
        for entry in group["globals"]:
            module, _, qualname = entry.partition(":")
            pairs.append((label, module, qualname))
    return pairs


@pytest.mark.parametrize(
    ("module", "qualname", "label"),
    [
        ("torch._utils", "_rebuild_tensor_v2", "torch"),
        ("torch", "FloatStorage", "torch"),
        ("torch", "bfloat16", "torch"),
        ("torch.nn.modules.linear", "Linear", "torch"),
        ("torch.optim.adamw", "AdamW", "torch"),
        ("numpy._core.multiarray", "_reconstruct", "numpy"),
        ("numpy.core.multiarray", "_reconstruct", "numpy"),
        ("numpy.random._pickle", "__bit_generator_ctor", "numpy"),
        ("sklearn.tree._tree", "Tree", "sklearn"),
        ("joblib.numpy_pickle", "NumpyArrayWrapper", "joblib"),
        ("scipy.sparse._csr", "csr_matrix", "scipy"),
        ("collections", "OrderedDict", "stdlib"),
        ("_codecs", "encode", "stdlib"),
        ("argparse", "Namespace", "stdlib"),
        ("pathlib", "PosixPath", "stdlib"),
        ("lightning.fabric.utilities.data", "AttributeDict", "lightning"),
        ("transformers.training_args", "TrainingArguments", "transformers"),
        ("diffusers.schedulers.scheduling_ddpm", "DDPMScheduler", "diffusers"),
    ],
)
def test_allowed_names_the_framework(module: str, qualname: str, label: str) -> None:
    assert allowed(module, qualname) == label


@pytest.mark.parametrize(
    ("module", "qualname"),
    [
        ("pathlib", "PosixPath.write_text"),
        ("pathlib", "Path.touch"),
        ("functools", "partial"),
        ("builtins", "getattr"),
        ("operator", "methodcaller"),
        ("types", "CodeType"),
        ("dataclasses", "_create_fn"),
        ("typing", "_eval_type"),
        ("os", "system"),
        ("posix", "system"),
        ("torch", "load"),
        ("torch._utils", "os.system"),
        ("random", "_os.system"),
        ("numpy", "__builtins__"),
    ],
)
def test_gadgets_are_not_allowed_and_are_known(module: str, qualname: str) -> None:
    assert allowed(module, qualname) is None
    gadget = known_gadget(module, qualname)
    assert gadget is not None
    assert gadget.reason
    assert gadget.references


def test_allowlist_is_exact_pairs_never_whole_modules() -> None:
    pairs = _allowlisted()
    assert len(pairs) > 400
    assert all(qualname and qualname != "*" for _, _, qualname in pairs)
    assert allowed("torch._utils", "_rebuild_tensor_v2.__globals__") is None
    assert allowed("torch", "_utils._rebuild_tensor_v2") is None


def test_no_allowlisted_pair_is_a_known_gadget() -> None:
    clashes = [(m, q) for _, m, q in _allowlisted() if known_gadget(m, q) is not None]
    assert clashes == []


def test_lightning_and_transformers_entries_are_flagged_not_generated() -> None:
    groups = load_json(ALLOWLIST_FILE)["frameworks"]
    for label in ("lightning", "transformers", "diffusers"):
        notes = groups[label]["not_generated"]
        assert set(notes) == set(groups[label]["globals"])
    assert all(
        "from Lightning source, not generated" in n
        for n in groups["lightning"]["not_generated"].values()
    )


def test_every_gadget_has_a_reason_and_a_reference() -> None:
    gadgets = load_json(DENYLIST_FILE)["gadgets"]
    assert len(gadgets) > 400
    for raw in gadgets:
        assert raw["reason"], raw
        assert raw["references"], raw
        assert all(ADVISORY.match(url) for url in raw["references"]), raw


@pytest.mark.parametrize(
    ("module", "qualname", "listed"),
    [
        ("_functools", "reduce", ("functools", "reduce")),
        ("_pyio", "open", ("io", "open")),
        ("_operator", "methodcaller", ("_operator", "methodcaller")),
        ("_operator", "call", ("_operator", "*")),
        ("posix", "fork", ("posix", "*")),
        ("_io", "FileIO", ("_io", "FileIO")),
        ("setuptools._distutils.spawn", "spawn", ("setuptools._distutils", "*")),
        ("numpy.distutils.exec_command", "exec_command", ("numpy.distutils", "*")),
        ("_pickle", "loads", ("_pickle", "*")),
        ("cPickle", "loads", ("pickle", "loads")),
        ("cPickle", "Unpickler", ("pickle", "*")),
        ("commands", "getoutput", ("commands", "*")),
        ("__builtin__", "reduce", ("functools", "reduce")),
        ("pathlib._local", "PosixPath.write_text", ("pathlib", "PosixPath.write_text")),
    ],
)
def test_private_and_public_aliases(module: str, qualname: str, listed: tuple[str, str]) -> None:
    gadget = known_gadget(module, qualname)
    assert gadget is not None
    assert (gadget.module, gadget.qualname) == listed


def test_submodule_of_a_denylisted_package() -> None:
    gadget = known_gadget("asyncio.unix_events", "_UnixSubprocessTransport._start")
    assert gadget is not None
    assert gadget.module == "asyncio.unix_events"
    deeper = known_gadget("asyncio.windows_utils", "Popen")
    assert deeper is not None
    assert (deeper.module, deeper.qualname) == ("asyncio", "*")
    assert "https://github.com/advisories/GHSA-q77w-mwjj-7mqx" in deeper.references


def test_module_wildcard() -> None:
    assert known_gadget("subprocess", "Popen") is not None
    assert known_gadget("pty", "spawn") is not None
    assert known_gadget("idlelib.pyshell", "ModifiedInterpreter.runcode") is not None


def test_qualname_under_a_listed_name() -> None:
    gadget = known_gadget("bdb", "Bdb.run")
    assert gadget is not None
    assert gadget.qualname == "Bdb"
    assert known_gadget("code", "InteractiveInterpreter.runsource") is not None
    assert known_gadget("trace", "Trace.runctx") is not None


def test_traversal_into_another_module_names_the_target() -> None:
    gadget = known_gadget("torch._utils", "os.system")
    assert gadget is not None
    assert gadget.module == "os"
    builtins_eval = known_gadget("numpy", "__builtins__.eval")
    assert builtins_eval is not None
    assert builtins_eval.module in {"numpy", "builtins"}


def test_benign_names_are_not_gadgets() -> None:
    for module, qualname in [
        ("collections", "OrderedDict"),
        ("torch._utils", "_rebuild_tensor_v2"),
        ("uuid", "UUID"),
        ("types", "SimpleNamespace"),
        ("pathlib", "PosixPath"),
        ("_codecs", "encode"),
        ("joblib.numpy_pickle", "NumpyArrayWrapper"),
    ]:
        assert known_gadget(module, qualname) is None, (module, qualname)


@pytest.mark.parametrize(
    ("module", "qualname"),
    [
        ("torch._utils", "os.system"),
        ("random", "_os.system"),
        ("numpy", "__builtins__.eval"),
        ("torch", "serialization.load"),
        ("torch", "_utils._rebuild_tensor_v2"),
        ("collections", "sys.modules.get"),
        ("sklearn.utils", "np.load"),
    ],
)
def test_is_module_alias_traversal_shapes(module: str, qualname: str) -> None:
    assert is_module_alias(module, qualname)


@pytest.mark.parametrize(
    ("module", "qualname"),
    [
        ("torch._utils", "_rebuild_tensor_v2"),
        ("bdb", "Bdb.run"),
        ("pathlib", "PosixPath.write_text"),
        ("torch.nn.modules.transformer", "Transformer"),
        ("collections", "OrderedDict.fromkeys"),
    ],
)
def test_is_module_alias_ignores_class_attributes(module: str, qualname: str) -> None:
    assert not is_module_alias(module, qualname)


def test_huge_dotted_names_stay_cheap() -> None:
    hostile = ".".join(["os"] * 200_000) + ".system"
    assert known_gadget("torch._utils", hostile) is not None
    assert is_module_alias("torch._utils", hostile)
    assert known_gadget("collections", "x" * 1_000_000) is None
