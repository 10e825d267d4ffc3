"""Regenerate src/pellucid/data/pickle_allowlist.json from real pickles (a dev-time tool).

Run with the dev environment (torch, numpy, scikit-learn, scipy, joblib installed):

    .venv/bin/python scripts/build_pickle_allowlist.py            # rewrite the JSON
    .venv/bin/python scripts/build_pickle_allowlist.py --check    # exit 1 if it would change

Every global is harvested from a pickle this script writes (``torch.save``, ``pickle.dumps``,
``joblib.dump``) and read back with ``pickletools.genops``, so an entry is exactly the spelling
a real checkpoint carries. Two sources are not generated: PyTorch's own ``weights_only``
allowlist (read from torch) and the frameworks that are not installed here (Lightning,
transformers, diffusers), whose class paths are written out below and flagged in the JSON.
Nothing is ever unpickled. A harvested global that the denylist knows fails the build.
"""

from __future__ import annotations

import argparse
import io
import json
import pickle
import pickletools
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from pellucid.scanners.pickle_knowledge import known_gadget

OUT = Path(__file__).resolve().parents[1] / "src/pellucid/data/pickle_allowlist.json"
VERSION = "2026.11"

# Top-level package -> framework label; anything else is the standard library.
LABELS = {
    "torch": "torch",
    "numpy": "numpy",
    "sklearn": "sklearn",
    "joblib": "joblib",
    "scipy": "scipy",
    "pytorch_lightning": "lightning",
    "lightning": "lightning",
    "lightning_fabric": "lightning",
    "transformers": "transformers",
    "accelerate": "transformers",
    "diffusers": "diffusers",
}

LABEL_NOTES = {
    "torch": "torch 2.13: weights_only allowlist plus globals harvested from torch.save of "
    "modules, state dicts, optimizers, schedulers and GradScaler (zip and legacy formats)",
    "numpy": "numpy 2.4 harvested (arrays, scalars, dtypes, generators); numpy 1.x spellings "
    "(numpy.core, old RandomState constructors) added by hand",
    "sklearn": "scikit-learn 1.9 harvested from pickle and joblib dumps of fitted estimators",
    "joblib": "joblib 1.6 harvested from joblib.dump",
    "scipy": "scipy 1.17 harvested from sparse matrices and arrays; pre-1.8 module paths by hand",
    "stdlib": "CPython 3.11 data constructors harvested from pickles of plain data",
    "lightning": "from Lightning source, not generated (Lightning 1.x and 2.x class paths)",
    "transformers": "from transformers / accelerate source, not generated (training_args.bin, "
    "configs saved inside full-model checkpoints)",
    "diffusers": "from diffusers source, not generated (scheduler and config classes)",
}

# weights_only entries left out, and why.
SKIPPED = {
    "torch._dynamo.decorators:_DimRange": "registered by torch._dynamo at import; torch._dynamo is "
    "a gadget package and the class is not seen in saved checkpoints",
}

# Hand-added entries with the reason each is a data constructor and not a gadget.
EXTRA: dict[str, str] = {
    "copyreg:_reconstructor": "protocol 0/1 object rebuild: base.__new__(cls) and base.__init__"
    "(obj, state); cls and base are globals of the same stream, so each must be allowed too",
    "copyreg:__newobj__": "cls.__new__(cls, *args) as written by old protocols; cls is a separate "
    "global that must be allowed itself",
    "copyreg:__newobj_ex__": "cls.__new__(cls, *args, **kwargs); cls must be allowed itself",
    "_codecs:encode": "protocol-2 spelling of bytes (encode(text, 'latin1')); converts a string "
    "with a codec from the encodings package, never imports outside it; safe only as a data "
    "constructor",
    "builtins:object": "the base argument copyreg._reconstructor receives for plain classes",
    "builtins:bytes": "bytes constructor (protocol 0-2 streams)",
    "builtins:dict": "defaultdict(dict) default factory; builds an empty dict",
    "builtins:list": "defaultdict(list) default factory; builds an empty list",
    "builtins:tuple": "tuple constructor",
    "builtins:int": "int constructor (defaultdict(int))",
    "builtins:float": "float constructor",
    "builtins:str": "str constructor",
    "builtins:bool": "bool constructor",
    "numpy.core.multiarray:_reconstruct": "numpy 1.x spelling of the ndarray rebuild",
    "numpy.core.multiarray:scalar": "numpy 1.x spelling of the scalar rebuild",
    "numpy.core.numeric:_frombuffer": "numpy 1.x spelling of the protocol-5 ndarray rebuild",
    "numpy.random:__RandomState_ctor": "numpy < 1.17 RandomState constructor",
    "numpy.random._pickle:__randomstate_ctor": "numpy 1.17-1.26 RandomState constructor",
    "numpy.random._pickle:__generator_ctor": "numpy 1.17-1.26 Generator constructor",
    "numpy.random._pickle:__bit_generator_ctor": "numpy 1.17-1.26 bit generator constructor",
    "numpy.random.mtrand:RandomState": "legacy RandomState class",
    "scipy.sparse.csr:csr_matrix": "scipy < 1.8 module path",
    "scipy.sparse.csc:csc_matrix": "scipy < 1.8 module path",
    "scipy.sparse.coo:coo_matrix": "scipy < 1.8 module path",
    "sklearn.externals.joblib.numpy_pickle:NumpyArrayWrapper": "scikit-learn < 0.23 vendored "
    "joblib; rebuilds an array from the bytes that follow in the same file",
    "pathlib:Path": "class constructor only; its methods (write_text, touch ...) are gadgets",
    "pathlib:WindowsPath": "class constructor only, as pickled on Windows",
    "pathlib._local:PosixPath": "CPython 3.13 module path of PosixPath",
    "pathlib._local:WindowsPath": "CPython 3.13 module path of WindowsPath",
    "pathlib._local:PurePosixPath": "CPython 3.13 module path of PurePosixPath",
    "pathlib._local:PureWindowsPath": "CPython 3.13 module path of PureWindowsPath",
}


def _under(module: str, names: str) -> dict[str, str]:
    return {f"{module}:{name}": "" for name in names.split()}


SOURCE_NAMES = {"lightning": "Lightning", "transformers": "transformers", "diffusers": "diffusers"}
_PL = ("pytorch_lightning", "lightning.pytorch")
NOT_GENERATED: dict[str, str] = {
    "pytorch_lightning.utilities.parsing:AttributeDict": "hparams container, Lightning 1.x",
    "lightning.fabric.utilities.data:AttributeDict": "hparams container, Lightning 2.x",
    "lightning_fabric.utilities.data:AttributeDict": "hparams container, lightning-fabric 2.x",
    **{
        f"{pkg}.callbacks.{mod}:{cls}": "callback class used as a checkpoint key (Lightning 1.x)"
        for pkg in _PL
        for mod, cls in (
            ("model_checkpoint", "ModelCheckpoint"),
            ("early_stopping", "EarlyStopping"),
            ("lr_monitor", "LearningRateMonitor"),
            ("stochastic_weight_avg", "StochasticWeightAveraging"),
            ("gradient_accumulation_scheduler", "GradientAccumulationScheduler"),
            ("model_summary", "ModelSummary"),
            ("progress.tqdm_progress", "TQDMProgressBar"),
        )
    },
    **{
        f"{pkg}.trainer.states:{cls}": "trainer state enum"
        for pkg in _PL
        for cls in ("TrainerFn", "TrainerStatus", "RunningStage")
    },
    **_under("transformers.training_args", "TrainingArguments OptimizerNames ParallelMode"),
    **_under("transformers.training_args_seq2seq", "Seq2SeqTrainingArguments"),
    **_under(
        "transformers.trainer_utils",
        "IntervalStrategy SchedulerType HubStrategy SaveStrategy EvaluationStrategy FSDPOption",
    ),
    **_under("transformers.debug_utils", "DebugOption"),
    **_under("transformers.trainer_pt_utils", "AcceleratorConfig"),
    **_under("accelerate.utils.dataclasses", "DistributedType"),
    **_under("transformers.configuration_utils", "PretrainedConfig"),
    **_under("transformers.generation.configuration_utils", "GenerationConfig"),
    **{
        f"transformers.models.{model}.configuration_{model}:{cls}": "config of a full-model pickle"
        for model, cls in (
            ("bert", "BertConfig"),
            ("roberta", "RobertaConfig"),
            ("gpt2", "GPT2Config"),
            ("llama", "LlamaConfig"),
            ("t5", "T5Config"),
            ("bart", "BartConfig"),
            ("vit", "ViTConfig"),
            ("whisper", "WhisperConfig"),
            ("distilbert", "DistilBertConfig"),
            ("mistral", "MistralConfig"),
            ("clip", "CLIPConfig"),
        )
    },
    **_under("diffusers.configuration_utils", "FrozenDict"),
    **_under("diffusers.schedulers.scheduling_utils", "KarrasDiffusionSchedulers"),
    **{
        f"diffusers.schedulers.scheduling_{mod}:{cls}": "scheduler class"
        for mod, cls in (
            ("ddpm", "DDPMScheduler"),
            ("ddim", "DDIMScheduler"),
            ("pndm", "PNDMScheduler"),
            ("lms_discrete", "LMSDiscreteScheduler"),
            ("euler_discrete", "EulerDiscreteScheduler"),
            ("euler_ancestral_discrete", "EulerAncestralDiscreteScheduler"),
            ("dpmsolver_multistep", "DPMSolverMultistepScheduler"),
            ("unipc_multistep", "UniPCMultistepScheduler"),
            ("heun_discrete", "HeunDiscreteScheduler"),
        )
    },
}


def globals_in(data: bytes) -> Iterator[str]:
    """Every ``module:qualname`` a pickle stream imports (GLOBAL, INST and STACK_GLOBAL)."""
    states: list[tuple[list[str | None], dict[int, Any]]] = [([], {})]
    for name, arg in _ops(data):
        if name == "PROTO":  # joblib nests whole pickles (object arrays): a fresh memo
            states.append(([], {}))
        yield from _step(name, arg, *states[-1])
        if name == "STOP" and len(states) > 1:
            states.pop()


def _ops(data: bytes) -> Iterator[tuple[str, Any]]:
    """Opcodes of a stream that may hold raw bytes between frames.

    joblib commits the current frame and then writes an array's bytes (or a nested pickle)
    straight into the file; the outer pickle resumes at a later FRAME. Ops past the last whole
    frame before a parse error are dropped.
    """
    offset = 0
    while 0 <= offset < len(data):
        ops: list[tuple[str, Any, int]] = []
        frame_end = -1
        try:
            for op, arg, pos in pickletools.genops(io.BytesIO(data[offset:])):
                ops.append((op.name, arg, offset + pos))
                if op.name == "FRAME" and frame_end in {-1, offset + pos}:
                    frame_end = offset + pos + 9 + int(arg)
            yield from ((n, a) for n, a, _ in ops)
            offset = _next_start(data, ops[-1][2] + 1) if ops else -1
        except ValueError:
            yield from ((n, a) for n, a, at in ops if at < frame_end)
            offset = _next_start(data, frame_end) if frame_end >= 0 else -1


def _next_start(data: bytes, start: int) -> int:
    """The next FRAME (or nested PROTO + FRAME) whose length lands on a plausible boundary."""
    at = data.find(b"\x95", start)
    while at >= 0:
        end = at + 9 + int.from_bytes(data[at + 1 : at + 9], "little")
        if end == len(data) or (end < len(data) and _boundary(data, end)):
            nested = at >= 2 and data[at - 2] == 0x80 and at - 2 >= start
            return at - 2 if nested else at
        at = data.find(b"\x95", at + 1)
    return -1


def _boundary(data: bytes, at: int) -> bool:
    """A frame, a nested pickle, or joblib's array padding (a length byte, then 0xff bytes)."""
    pad = data[at]
    return pad in {0x95, 0x80} or (pad <= 16 and data[at + 1 : at + 1 + pad] == b"\xff" * pad)


def _step(name: str, arg: Any, pushed: list[str | None], memo: dict[int, Any]) -> Iterator[str]:
    """Track just enough of the stack to name STACK_GLOBAL operands (strings, or None)."""
    if name in {"GLOBAL", "INST"}:
        module, qualname = str(arg).split(" ", 1)
        yield f"{module}:{qualname}"
    elif name == "STACK_GLOBAL":
        yield f"{pushed[-2]}:{pushed[-1]}"
    if isinstance(arg, str) and "UNICODE" in name:
        pushed.append(arg)
    elif name == "MEMOIZE":
        memo[len(memo)] = pushed[-1] if pushed else None
    elif name in {"BINPUT", "LONG_BINPUT", "PUT"}:
        memo[int(arg)] = pushed[-1] if pushed else None
    elif name in {"BINGET", "LONG_BINGET", "GET"}:
        pushed.append(memo.get(int(arg)))
    elif name not in {"FRAME", "PROTO", "STOP", "MARK", "POP", "POP_MARK"}:
        pushed.append(None)


def pickles_in_torch_zip(data: bytes) -> Iterator[bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.endswith(".pkl"):
                yield archive.read(name)


def torch_saved(obj: object) -> Iterator[str]:
    """Globals of ``torch.save(obj)`` in the zip format and in the legacy format."""
    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    for stream in pickles_in_torch_zip(buffer.getvalue()):
        yield from globals_in(stream)
    legacy = io.BytesIO()
    torch.save(obj, legacy, _use_new_zipfile_serialization=False)
    # The legacy file is several pickles back to back: magic, protocol, sys_info, object, keys.
    legacy.seek(0)
    while legacy.tell() < len(legacy.getvalue()):
        start = legacy.tell()
        try:
            for op, _arg, _pos in pickletools.genops(legacy):
                if op.name == "STOP":
                    break
        except ValueError:
            break
        yield from globals_in(legacy.getvalue()[start : legacy.tell()])


def pickled(obj: object) -> Iterator[str]:
    for protocol in (2, pickle.DEFAULT_PROTOCOL, pickle.HIGHEST_PROTOCOL):
        yield from globals_in(pickle.dumps(obj, protocol=protocol))


def joblib_dumped(obj: object) -> Iterator[str]:
    import joblib

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.joblib"
        joblib.dump(obj, path)
        yield from globals_in(path.read_bytes())


def harvest() -> dict[str, set[str]]:
    """``module:qualname`` -> the names of the samples that produced it."""
    found: dict[str, set[str]] = {}
    writers: dict[str, Callable[[object], Iterable[str]]] = {
        "torch": torch_saved,
        "pickle": pickled,
        "joblib": joblib_dumped,
    }
    for sample, writer, build in SAMPLES:
        for entry in writers[writer](build()):
            found.setdefault(entry, set()).add(sample)
    return found


def torch_weights_only() -> set[str]:
    """PyTorch's own allowlist plus every dtype, layout, memory format and qscheme object."""
    import torch
    import torch._dynamo  # registers its own safe globals on import: same list every run
    from torch import _weights_only_unpickler as wou

    names = {_colon(n) for n in wou._get_allowed_globals()}
    names |= {_colon(n) for n in wou._get_user_allowed_globals()}
    kinds = (torch.dtype, torch.layout, torch.memory_format, torch.qscheme)
    names |= {f"torch:{n}" for n, v in vars(torch).items() if isinstance(v, kinds)}
    return names - set(SKIPPED)


def _colon(dotted: str) -> str:
    """Split a weights_only key at the module: the longest importable prefix."""
    import importlib

    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        return f"{'.'.join(parts[:cut])}:{'.'.join(parts[cut:])}"
    raise ValueError(dotted)


def label_of(entry: str) -> str:
    return LABELS.get(entry.split(".", 1)[0].split(":", 1)[0], "stdlib")


def build() -> dict[str, Any]:
    harvested = harvest()
    entries = set(harvested) | torch_weights_only() | set(EXTRA) | set(NOT_GENERATED)
    clashes = sorted(e for e in entries if known_gadget(*e.split(":", 1)) is not None)
    if clashes:
        raise SystemExit(f"allowlist entries that are known gadgets: {clashes}")
    frameworks: dict[str, dict[str, Any]] = {}
    for entry in sorted(entries):
        group = frameworks.setdefault(
            label_of(entry), {"note": "", "globals": [], "not_generated": {}, "notes": {}}
        )
        group["globals"].append(entry)
        if entry in NOT_GENERATED:
            why = NOT_GENERATED[entry]
            source = f"from {SOURCE_NAMES[label_of(entry)]} source, not generated"
            group["not_generated"][entry] = f"{source}: {why}" if why else source
        elif entry in EXTRA:
            group["notes"][entry] = EXTRA[entry]
    for label, group in frameworks.items():
        group["note"] = LABEL_NOTES[label]
        for key in ("not_generated", "notes"):
            if not group[key]:
                del group[key]
    return {
        "version": VERSION,
        "generated_by": "scripts/build_pickle_allowlist.py",
        "frameworks": dict(sorted(frameworks.items())),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the JSON is stale")
    args = parser.parse_args()
    text = json.dumps(build(), indent=1, sort_keys=False) + "\n"
    if args.check:
        return 0 if OUT.read_text(encoding="utf-8") == text else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}", file=sys.stderr)
    return 0


# --- samples: benign objects as real training code saves them -------------------------------


def _torch_model() -> Any:
    import torch
    from torch import nn

    return nn.Sequential(
        nn.Linear(4, 4),
        nn.Bilinear(4, 4, 4),
        nn.Identity(),
        nn.Flatten(),
        nn.Unflatten(1, (2, 2)),
        nn.Conv1d(2, 2, 1),
        nn.Conv2d(2, 2, 1),
        nn.Conv3d(2, 2, 1),
        nn.ConvTranspose1d(2, 2, 1),
        nn.ConvTranspose2d(2, 2, 1),
        nn.ConvTranspose3d(2, 2, 1),
        nn.BatchNorm1d(2),
        nn.BatchNorm2d(2),
        nn.BatchNorm3d(2),
        nn.GroupNorm(1, 2),
        nn.InstanceNorm1d(2),
        nn.InstanceNorm2d(2),
        nn.LayerNorm(4),
        nn.RMSNorm(4),
        nn.LocalResponseNorm(2),
        nn.Embedding(4, 4),
        nn.EmbeddingBag(4, 4),
        nn.Dropout(),
        nn.Dropout1d(),
        nn.Dropout2d(),
        nn.Dropout3d(),
        nn.AlphaDropout(),
        nn.ReLU(),
        nn.ReLU6(),
        nn.GELU(),
        nn.SiLU(),
        nn.Mish(),
        nn.Tanh(),
        nn.Sigmoid(),
        nn.Softmax(-1),
        nn.LogSoftmax(-1),
        nn.LeakyReLU(),
        nn.PReLU(),
        nn.ELU(),
        nn.SELU(),
        nn.CELU(),
        nn.GLU(),
        nn.Hardswish(),
        nn.Hardsigmoid(),
        nn.Hardtanh(),
        nn.Softplus(),
        nn.Softsign(),
        nn.Tanhshrink(),
        nn.Threshold(0.1, 0.0),
        nn.MaxPool1d(1),
        nn.MaxPool2d(1),
        nn.MaxPool3d(1),
        nn.AvgPool1d(1),
        nn.AvgPool2d(1),
        nn.AvgPool3d(1),
        nn.AdaptiveAvgPool1d(1),
        nn.AdaptiveAvgPool2d(1),
        nn.AdaptiveAvgPool3d(1),
        nn.AdaptiveMaxPool2d(1),
        nn.Upsample(scale_factor=2),
        nn.PixelShuffle(1),
        nn.ZeroPad2d(1),
        nn.ReflectionPad2d(1),
        nn.ReplicationPad2d(1),
        nn.ConstantPad1d(1, 0.0),
        nn.LSTM(4, 4),
        nn.GRU(4, 4),
        nn.RNN(4, 4),
        nn.LSTMCell(4, 4),
        nn.GRUCell(4, 4),
        nn.MultiheadAttention(4, 2),
        nn.Transformer(8, 2, 1, 1, 16),
        nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 1, enable_nested_tensor=False),
        nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16), 1),
        nn.TransformerEncoderLayer(8, 2, 16, activation="gelu"),
        nn.ModuleList([nn.Linear(2, 2)]),
        nn.ModuleDict({"a": nn.Linear(2, 2)}),
        nn.ParameterList([nn.Parameter(torch.zeros(1))]),
        nn.ParameterDict({"p": nn.Parameter(torch.zeros(1))}),
        nn.CrossEntropyLoss(),
        nn.MSELoss(),
        nn.BCEWithLogitsLoss(),
        nn.L1Loss(),
        nn.NLLLoss(),
        nn.SmoothL1Loss(),
        nn.HuberLoss(),
        nn.KLDivLoss(),
        nn.CosineSimilarity(),
    )


def _torch_hooked() -> Any:
    """Legacy weight/spectral norm keep hook objects in the module (full-module pickles)."""
    from torch import nn
    from torch.nn.utils import spectral_norm, weight_norm

    return nn.Sequential(weight_norm(nn.Linear(2, 2)), spectral_norm(nn.Linear(2, 2)))


def _torch_parametrized_state() -> Any:
    from torch import nn
    from torch.nn.utils import parametrizations

    model = nn.Sequential(
        parametrizations.weight_norm(nn.Linear(2, 2)),
        parametrizations.spectral_norm(nn.Linear(2, 2)),
        parametrizations.orthogonal(nn.Linear(2, 2)),
    )
    return model.state_dict()


def _torch_tensors() -> Any:
    import torch

    dense = [
        torch.zeros(2, dtype=d) for d in (torch.float16, torch.bfloat16, torch.int8, torch.bool)
    ]
    return {
        "dense": dense,
        "complex": torch.zeros(2, dtype=torch.complex64),
        "sparse_coo": torch.zeros(2, 2).to_sparse(),
        "sparse_csr": torch.eye(2).to_sparse_csr(),
        "quantized": torch.quantize_per_tensor(torch.zeros(2), 0.1, 0, torch.quint8),
        "quantized_channel": torch.quantize_per_channel(
            torch.zeros(2, 2), torch.ones(2), torch.zeros(2, dtype=torch.long), 0, torch.qint8
        ),
        "channels_last": torch.zeros(1, 2, 2, 2).to(memory_format=torch.channels_last),
        "meta": torch.empty(2, device="meta"),
        "size": torch.Size([1, 2]),
        "device": torch.device("cpu"),
        "dtype": torch.float32,
        "layout": torch.strided,
        "version": torch.__version__,
        "bytes": b"raw",
    }


def _torch_training() -> Any:
    import torch
    from torch import nn, optim
    from torch.optim import lr_scheduler as lrs

    model = nn.Linear(2, 2)
    state: dict[str, Any] = {"model": model.state_dict()}
    for cls in (
        optim.SGD,
        optim.Adam,
        optim.AdamW,
        optim.RMSprop,
        optim.Adagrad,
        optim.Adadelta,
        optim.Adamax,
        optim.NAdam,
        optim.RAdam,
        optim.ASGD,
        optim.Rprop,
        optim.LBFGS,
    ):
        opt = cls(model.parameters(), lr=0.1)
        model(torch.ones(1, 2)).sum().backward()
        opt.step(lambda: model(torch.ones(1, 2)).sum()) if cls is optim.LBFGS else opt.step()
        state[cls.__name__] = opt.state_dict()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    schedulers = [
        lrs.StepLR(opt, 1),
        lrs.MultiStepLR(opt, [1]),
        lrs.ExponentialLR(opt, 0.9),
        lrs.CosineAnnealingLR(opt, 2),
        lrs.ReduceLROnPlateau(opt),
        lrs.OneCycleLR(opt, 1, 4),
        lrs.CyclicLR(opt, 0.01, 0.1),
        lrs.CosineAnnealingWarmRestarts(opt, 2),
        lrs.LinearLR(opt),
        lrs.ConstantLR(opt),
        lrs.PolynomialLR(opt),
    ]
    for scheduler in schedulers:
        state[type(scheduler).__name__] = scheduler.state_dict()
    state["scaler"] = torch.amp.GradScaler("cpu").state_dict()
    state["optimizer"] = opt
    state["classes"] = [
        *(
            c
            for c in vars(optim).values()
            if isinstance(c, type) and issubclass(c, optim.Optimizer)
        ),
        *(c for c in vars(lrs).values() if isinstance(c, type) and issubclass(c, lrs.LRScheduler)),
        lrs.ReduceLROnPlateau,
        torch.amp.GradScaler,
    ]
    state["rng"] = torch.get_rng_state()
    return state


def _numpy_objects() -> Any:
    import numpy as np

    dtypes = [
        "f2",
        "f4",
        "f8",
        "i1",
        "i2",
        "i4",
        "i8",
        "u1",
        "u2",
        "u4",
        "u8",
        "?",
        "c8",
        "c16",
        "U3",
        "S3",
        "V4",
        "O",
        "M8[s]",
        "m8[s]",
        [("a", "f4"), ("b", "i4")],
    ]
    arrays = [np.zeros(2, dtype=d) for d in dtypes]
    scalars = [np.float32(1), np.int64(1), np.bool_(True), np.str_("x"), np.datetime64(1, "s")]
    generators = [np.random.default_rng(0)] + [
        np.random.Generator(g(0)) for g in (np.random.MT19937, np.random.Philox, np.random.SFC64)
    ]
    return {
        "arrays": arrays,
        "scalars": scalars,
        "masked": np.ma.array([1, 2], mask=[0, 1]),
        "fortran": np.asfortranarray(np.zeros((2, 2))),
        "rng": generators,
        "legacy_rng": np.random.RandomState(0),
        "seed_sequence": np.random.SeedSequence(0),
        "dtype_classes": sorted({type(np.dtype(d)) for d in dtypes[:-1]}, key=str),
        "bit_generators": [np.random.PCG64(0), np.random.PCG64DXSM(0)],
    }


def _sklearn_estimators() -> Any:
    import numpy as np
    from sklearn import (
        cluster,
        compose,
        decomposition,
        discriminant_analysis,
        ensemble,
        feature_extraction,
        impute,
        linear_model,
        multiclass,
        naive_bayes,
        neighbors,
        neural_network,
        pipeline,
        preprocessing,
        svm,
        tree,
    )

    rng = np.random.default_rng(0)
    x, y, yr = rng.normal(size=(24, 3)), np.arange(24) % 2, rng.normal(size=24)
    classifiers = [
        linear_model.LogisticRegression(),
        linear_model.SGDClassifier(),
        linear_model.RidgeClassifier(),
        tree.DecisionTreeClassifier(),
        ensemble.RandomForestClassifier(3),
        ensemble.ExtraTreesClassifier(3),
        ensemble.GradientBoostingClassifier(n_estimators=3),
        ensemble.HistGradientBoostingClassifier(max_iter=3),
        ensemble.AdaBoostClassifier(n_estimators=3),
        svm.SVC(),
        svm.LinearSVC(),
        neighbors.KNeighborsClassifier(3),
        naive_bayes.GaussianNB(),
        neural_network.MLPClassifier((3,), max_iter=5),
        neighbors.KNeighborsClassifier(3, algorithm="ball_tree"),
        naive_bayes.BernoulliNB(),
        ensemble.BaggingClassifier(n_estimators=2),
        ensemble.VotingClassifier([("lr", linear_model.LogisticRegression())]),
        discriminant_analysis.LinearDiscriminantAnalysis(),
        multiclass.OneVsRestClassifier(linear_model.LogisticRegression()),
    ]
    regressors = [
        linear_model.LinearRegression(),
        linear_model.Ridge(),
        linear_model.Lasso(),
        linear_model.ElasticNet(),
        tree.DecisionTreeRegressor(),
        ensemble.RandomForestRegressor(3),
        ensemble.GradientBoostingRegressor(n_estimators=3),
        ensemble.HistGradientBoostingRegressor(max_iter=3),
        svm.SVR(),
        ensemble.ExtraTreesRegressor(3),
        neighbors.KNeighborsRegressor(3),
        linear_model.BayesianRidge(),
        linear_model.HuberRegressor(),
    ]
    transformers = [
        preprocessing.StandardScaler(),
        preprocessing.MinMaxScaler(),
        preprocessing.RobustScaler(),
        preprocessing.OneHotEncoder(),
        preprocessing.PolynomialFeatures(),
        decomposition.PCA(2),
        decomposition.TruncatedSVD(2),
        impute.SimpleImputer(),
        cluster.KMeans(2, n_init=1),
        cluster.DBSCAN(),
        cluster.MiniBatchKMeans(2, n_init=1),
        ensemble.IsolationForest(n_estimators=2),
        neighbors.NearestNeighbors(),
        preprocessing.Normalizer(),
        preprocessing.MaxAbsScaler(),
        impute.KNNImputer(),
    ]
    fitted: list[Any] = [e.fit(x, y) for e in classifiers]
    fitted += [e.fit(x, yr) for e in regressors] + [e.fit(x) for e in transformers]
    fitted.append(preprocessing.LabelEncoder().fit(["a", "b"]))
    text = ["ab cd", "cd ef", "ef ab"]
    fitted += [
        feature_extraction.text.TfidfVectorizer().fit(text),
        feature_extraction.text.CountVectorizer().fit(text),
        feature_extraction.DictVectorizer().fit([{"a": 1}]),
        naive_bayes.MultinomialNB().fit(np.abs(x), y),
    ]
    column = compose.ColumnTransformer(
        [("num", preprocessing.StandardScaler(), [0, 1])], remainder="passthrough"
    )
    fitted.append(
        pipeline.Pipeline([("cols", column), ("clf", linear_model.LogisticRegression())]).fit(x, y)
    )
    fitted.append(pipeline.make_union(decomposition.PCA(1), preprocessing.StandardScaler()).fit(x))
    return fitted


def _scipy_sparse() -> Any:
    from scipy import sparse

    eye = sparse.eye(2)
    return [
        eye.tocsr(),
        eye.tocsc(),
        eye.tocoo(),
        sparse.csr_array(eye),
        sparse.csc_array(eye),
        sparse.coo_array(eye),
        eye.tolil(),
        eye.todok(),
        eye.tobsr(),
        eye.todia(),
    ]


def _stdlib_data() -> Any:
    import argparse
    import collections
    import datetime
    import decimal
    import fractions
    import pathlib
    import types
    import uuid

    return [
        argparse.Namespace(lr=0.1),
        collections.OrderedDict(a=1),
        collections.defaultdict(list),
        collections.defaultdict(dict),
        collections.Counter("ab"),
        collections.deque([1]),
        {1, 2},
        frozenset({1}),
        slice(1, 2),
        range(3),
        1j,
        bytearray(b"x"),
        b"bytes",
        datetime.datetime(2020, 1, 1),
        datetime.date(2020, 1, 1),
        datetime.time(1),
        datetime.timedelta(1),
        datetime.UTC,
        decimal.Decimal("1.5"),
        fractions.Fraction(1, 3),
        uuid.UUID(int=1),
        pathlib.PurePosixPath("/a"),
        pathlib.PureWindowsPath("c:/a"),
        pathlib.PosixPath("/a"),
        types.SimpleNamespace(a=1),
    ]


SAMPLES: list[tuple[str, str, Callable[[], Any]]] = [
    ("torch full module", "torch", _torch_model),
    ("torch state dict", "torch", lambda: _torch_model().state_dict()),
    ("torch legacy norm hooks", "torch", _torch_hooked),
    ("torch parametrized state dict", "torch", _torch_parametrized_state),
    ("torch tensors", "torch", _torch_tensors),
    ("torch optimizer, schedulers, GradScaler", "torch", _torch_training),
    ("numpy arrays and generators", "pickle", _numpy_objects),
    ("numpy in torch.save", "torch", _numpy_objects),
    ("sklearn estimators", "pickle", _sklearn_estimators),
    ("sklearn estimators (joblib)", "joblib", _sklearn_estimators),
    ("scipy sparse", "pickle", _scipy_sparse),
    ("scipy sparse (joblib)", "joblib", _scipy_sparse),
    ("stdlib data", "pickle", _stdlib_data),
    ("stdlib data in torch.save", "torch", _stdlib_data),
]

if __name__ == "__main__":
    raise SystemExit(main())
