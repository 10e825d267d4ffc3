"""The pickle allowlist, gadget list and module-alias shapes the pickle scanner decides with."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pellucid.data import load_json
from pellucid.scanners.pickle_knowledge import (
    ALLOWLIST_FILE,
    DENYLIST_FILE,
    allowed,
    is_module_alias,
    known_gadget,
)

EVIDENCE = Path(__file__).resolve().parents[2] / "scripts" / "allowlist_evidence"
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
        ("diffusers.models.unets.unet_2d", "UNet2DModel", "diffusers"),
        ("transformers.models.llama.modeling_llama", "LlamaForCausalLM", "transformers"),
        ("transformers.trainer_utils", "SaveStrategy", "transformers"),
        ("accelerate.state", "PartialState", "accelerate"),
        ("peft.tuners.lora.config", "LoraConfig", "peft"),
        ("timm.models.resnet", "ResNet", "timm"),
        ("lightning_fabric.utilities.data", "AttributeDict", "lightning"),
        ("omegaconf.dictconfig", "DictConfig", "omegaconf"),
        ("omegaconf.nodes", "AnyNode", "omegaconf"),
        ("hydra.conf", "JobConf.JobConfig", "hydra"),
        ("typing", "Any", "stdlib"),
        ("__builtin__", "long", "stdlib"),
        ("pandas", "DataFrame", "pandas"),
        ("pandas._libs.internals", "_unpickle_block", "pandas"),
        ("xgboost.sklearn", "XGBClassifier", "xgboost"),
        ("lightgbm.basic", "Booster", "lightgbm"),
        ("statsmodels.regression.linear_model", "RegressionResultsWrapper", "statsmodels"),
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


def _evidence() -> dict[str, list[tuple[str, str, str]]]:
    """scripts/allowlist_evidence/<group>.txt: (module, qualname, samples) per harvested global."""
    found: dict[str, list[tuple[str, str, str]]] = {}
    for path in sorted(EVIDENCE.glob("*.txt")):
        rows = found.setdefault(path.stem, [])
        for line in path.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                entry, _kind, samples = line.split("\t")
                module, _, qualname = entry.partition(":")
                rows.append((module, qualname, samples))
    return found


def test_evidence_covers_the_frameworks_ci_does_not_install() -> None:
    groups = _evidence()
    assert set(groups) >= {
        "transformers", "accelerate", "diffusers", "peft", "timm", "sentence_transformers",
        "lightning", "omegaconf", "hydra", "pandas", "boosters", "statsmodels",
    }  # fmt: skip
    assert all(len(rows) >= 5 for rows in groups.values())
    header = (EVIDENCE / "transformers.txt").read_text(encoding="utf-8").splitlines()[1]
    assert header.startswith("# versions: python 3.11")
    assert "transformers " in header


def test_every_evidence_pair_is_allowed_or_refused_on_record() -> None:
    """Evidence and allowlist cannot drift: a harvested global is allowed, or refused in the
    JSON with its reason, and a refused one is neither allowed nor unknown to the gadget list."""
    refused = load_json(ALLOWLIST_FILE)["refused"]
    missing = []
    for group, rows in _evidence().items():
        for module, qualname, samples in rows:
            entry = f"{module}:{qualname}"
            if entry in refused:
                assert allowed(module, qualname) is None, entry
                assert known_gadget(module, qualname) is not None, entry
            elif allowed(module, qualname) is None:
                missing.append((group, entry, samples))
    assert missing == []


def test_real_checkpoint_refusals_are_recorded() -> None:
    refused = load_json(ALLOWLIST_FILE)["refused"]
    assert set(refused) == {
        "__builtin__:getattr",
        "functools:partial",
        "torch.storage:_load_from_bytes",
    }
    assert "HistGradientBoosting" in refused["functools:partial"]


@pytest.mark.parametrize(
    "entry",
    [
        "copyreg:_reconstructor",
        "numpy._core.multiarray:_reconstruct",
        "numpy.random._pickle:__generator_ctor",
        "numpy.random._pickle:__bit_generator_ctor",
        "pandas.core.indexes.base:_new_Index",
        "sklearn.neighbors._kd_tree:newObj",
        "torch._tensor:_rebuild_from_type_v2",
    ],
)
def test_dual_use_callables_carry_an_argument_check_note(entry: str) -> None:
    module, _, qualname = entry.partition(":")
    label = allowed(module, qualname)
    assert label is not None
    note = load_json(ALLOWLIST_FILE)["frameworks"][label]["notes"][entry]
    assert note.startswith("needs an argument check by the scanner: ")
    assert "benign: " in note


def test_not_generated_entries_are_only_older_or_unharvested_paths() -> None:
    groups = load_json(ALLOWLIST_FILE)["frameworks"]
    harvested = {f"{m}:{q}" for rows in _evidence().values() for m, q, _ in rows}
    for label, group in groups.items():
        for entry, why in group.get("not_generated", {}).items():
            assert entry in group["globals"], entry
            assert entry not in harvested, entry
            assert "not generated" in why, (label, entry)
    assert (
        "pytorch_lightning < 1.5"
        in groups["lightning"]["not_generated"][
            "pytorch_lightning.callbacks.model_checkpoint:ModelCheckpoint"
        ]
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
