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


SOURCE_NAMES = {"lightning": "Lightning", "transformers": "transformers", "accelerate": "accelerate",
                "diffusers": "diffusers"}  # fmt: skip
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

# Harvested non-classes that are safe to allow: what each does when a pickle calls it.
REVIEWED: dict[str, str] = {}

# Harvested dual-use callables (they take a class or callable and call it) that real files need:
# allowed, and the scanner must check their arguments.
ARGUMENT_CHECK: dict[str, str] = {}

# Harvested globals that stay off the allowlist, and why.
REFUSED: dict[str, str] = {}
