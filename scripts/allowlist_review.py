"""What the allowlist generator may not decide alone: hand-added entries, reviewed callables,
dual-use callables that need an argument check, and refused globals (a dev-time table).

A harvested global that is a class goes in as a data constructor. Anything else that a real
file imports (a function, a typing special form, a singleton) must be listed here with the
reason it is safe, or refused with the reason it is not: the generator fails the build on an
unreviewed one.
"""

from __future__ import annotations

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


SOURCE_NAMES = {
    "lightning": "Lightning",
    "transformers": "transformers",
    "accelerate": "accelerate",
    "diffusers": "diffusers",
}
_PL = ("pytorch_lightning", "lightning.pytorch")
NOT_GENERATED: dict[str, str] = {
    "pytorch_lightning.utilities.parsing:AttributeDict": "hparams container, Lightning 1.x",
    "lightning.fabric.utilities.data:AttributeDict": "hparams container, Lightning 2.x",
    "lightning_fabric.utilities.data:AttributeDict": "hparams container, lightning-fabric 2.x",
    **{
        f"{pkg}.callbacks.{mod}:{cls}": "callback class used as a checkpoint key "
        "(pytorch_lightning < 1.5; later versions key callback states by string)"
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
        "IntervalStrategy SchedulerType HubStrategy SaveStrategy FSDPOption",
    ),
    "transformers.trainer_utils:EvaluationStrategy": "transformers < 5 (removed in 5.0)",
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

# Harvested non-classes that are safe to allow: what each does when a pickle calls it.
REVIEWED: dict[str, str] = {
    "copy_reg:_reconstructor": "protocol-2 spelling of copyreg._reconstructor (see its note)",
    "numpy._core.multiarray:scalar": "rebuilds a numpy scalar from a dtype and its raw bytes",
    "numpy._core.numeric:_frombuffer": "rebuilds an ndarray from a buffer, dtype, shape, order",
    "pandas._libs.internals:_unpickle_block": "wraps an array into a pandas Block (data only)",
    "pandas._libs.tslibs.nattype:_nat_unpickle": "returns the NaT singleton; takes no argument",
    "pandas._libs.tslibs.timedeltas:_timedelta_unpickle": "Timedelta from an int and a unit",
    "pandas._libs.tslibs.timestamps:_unpickle_timestamp": "Timestamp from an int, tz and unit",
    "pandas:NA": "the pd.NA singleton, pickled by reference",
    "sklearn.utils.validation:check_array": "a function value inside sklearn's FunctionTransformer "
    "(HistGradientBoosting on DataFrames); calling it only validates an array",
    "torch._C._nn:gelu": "activation function stored on a module (TransformerEncoderLayer); "
    "a pure tensor op",
    "torch.nn.functional:relu": "activation function stored on a module; a pure tensor op",
    "typing:Dict": "typing special form pickled by name (omegaconf ref types); calling it raises",
    "typing:List": "typing special form pickled by name (omegaconf ref types); calling it raises",
}

# Harvested dual-use callables (they take a class or callable and call it) that real files need:
# allowed, and the scanner must check their arguments. Each says what a benign call looks like.
ARGUMENT_CHECK: dict[str, str] = {
    "copyreg:_reconstructor": "calls base.__new__(cls, state) and base.__init__(obj, state); "
    "benign: cls is an allowlisted class global and base is builtins.object or a builtin type",
    "copy_reg:_reconstructor": "as copyreg._reconstructor (protocol-2 spelling)",
    "copyreg:__newobj__": "calls cls.__new__(cls, *args); benign: cls is an allowlisted class",
    "copyreg:__newobj_ex__": "calls cls.__new__(cls, *args, **kwargs); benign: cls is allowlisted",
    "numpy._core.multiarray:_reconstruct": "calls ndarray.__new__(subtype, shape, dtype); benign: "
    "subtype is an allowlisted ndarray class global (ndarray, MaskedArray, matrix, memmap)",
    "numpy.core.multiarray:_reconstruct": "as numpy._core.multiarray._reconstruct (numpy 1.x)",
    "numpy.ma.core:_mareconstruct": "calls ndarray.__new__(baseclass, ...) and subtype.__new__"
    "(subtype, ...); benign: both are allowlisted ndarray / MaskedArray class globals",
    "numpy.random._pickle:__bit_generator_ctor": "calls its argument when it is a class "
    "(numpy 2 pickles the class itself); benign: a string name or an allowlisted "
    "numpy.random BitGenerator class (MT19937, PCG64, PCG64DXSM, Philox, SFC64)",
    "numpy.random._pickle:__generator_ctor": "calls its second argument on its first "
    "(bit_generator_ctor(name)); benign: one argument that is a BitGenerator object, or a name "
    "with numpy.random._pickle.__bit_generator_ctor as the callable",
    "numpy.random._pickle:__randomstate_ctor": "as __generator_ctor: calls its second argument "
    "on its first; benign: a BitGenerator object, or a name and __bit_generator_ctor",
    "numpy.random.bit_generator:__pyx_unpickle_SeedSequence": "Cython unpickler: "
    "SeedSequence.__new__(type); benign: type is numpy.random.bit_generator.SeedSequence",
    "pandas._libs.arrays:__pyx_unpickle_NDArrayBacked": "Cython unpickler: NDArrayBacked.__new__"
    "(type); benign: type is an allowlisted pandas array class global",
    "pandas.core.indexes.base:_new_Index": "calls cls.__new__(cls, **d); benign: cls is an "
    "allowlisted pandas Index class global and d a dict of data",
    "pandas.core.indexes.interval:_new_IntervalIndex": "calls cls.from_arrays(**d) / "
    "cls.__new__; benign: cls is pandas IntervalIndex",
    "sklearn.metrics._dist_metrics:newObj": "calls obj.__new__(obj); benign: obj is an "
    "allowlisted sklearn DistanceMetric class global",
    "sklearn.neighbors._ball_tree:newObj": "calls obj.__new__(obj); benign: obj is "
    "sklearn.neighbors._ball_tree.BallTree (or BallTree64/32)",
    "sklearn.neighbors._kd_tree:newObj": "calls obj.__new__(obj); benign: obj is "
    "sklearn.neighbors._kd_tree.KDTree (or KDTree64/32)",
    "torch._tensor:_rebuild_from_type_v2": "calls func(*args) then as_subclass(new_type); "
    "benign: func is an allowlisted torch._utils rebuild function and new_type an allowlisted "
    "Tensor / Parameter class (in torch's own weights_only list)",
    "torch._utils:_rebuild_wrapper_subclass": "calls Tensor._make_wrapper_subclass(cls, ...); "
    "benign: cls is an allowlisted Tensor subclass (in torch's own weights_only list)",
}

# Harvested globals that stay off the allowlist, and why (each is a known gadget as well).
REFUSED: dict[str, str] = {
    "__builtin__:getattr": "protocol 2 spells a nested class as getattr(Outer, 'Inner') (Hydra "
    "JobConf.JobConfig) and a bound method as getattr(obj, 'method') (a full PeftModel); "
    "getattr reaches any attribute. Scanner option: resolve getattr(<allowed class global>, "
    "'<name>') to the pair (module, 'Outer.Inner') and decide on that",
    "builtins:getattr": "as __builtin__:getattr (protocol 3+)",
    "functools:partial": "binds any callable; sklearn's HistGradientBoosting fitted on a "
    "DataFrame stores partial(check_array, dtype=..., ensure_all_finite=False). Scanner "
    "option: allow partial(<allowlisted function>, <plain data>)",
    "torch.storage:_load_from_bytes": "torch.load on the bytes it receives; written when a "
    "tensor is pickled with plain pickle (a pickled diffusers scheduler). The bytes are a "
    "nested torch file that the scanner must scan as one",
}
