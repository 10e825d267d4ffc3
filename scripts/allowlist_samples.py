"""Samples from the core stack the CI environment has: torch, numpy and plain standard-library
data, as real training code saves them (scikit-learn and scipy are in allowlist_samples_tabular).

Each sample is ``(name, group, writer, build)``; the group names the evidence file under
allowlist_evidence/ and the writer is a key of ``allowlist_harvest.WRITERS``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


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


def _torch_lazy() -> Any:
    """Lazy modules saved before their first forward pass keep uninitialized parameters and
    their shape-inference hook (a bound method, which the scanner judges separately)."""
    import warnings

    from torch import nn

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nn.ModuleList(
            [
                nn.LazyLinear(2),
                nn.LazyConv1d(2, 3),
                nn.LazyConv2d(2, 3),
                nn.LazyConv3d(2, 3),
                nn.LazyConvTranspose1d(2, 3),
                nn.LazyConvTranspose2d(2, 3),
                nn.LazyConvTranspose3d(2, 3),
                nn.LazyBatchNorm1d(),
                nn.LazyBatchNorm2d(),
                nn.LazyBatchNorm3d(),
                nn.LazyInstanceNorm1d(),
                nn.LazyInstanceNorm2d(),
                nn.LazyInstanceNorm3d(),
            ]
        )


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


SAMPLES: list[tuple[str, str, str, Callable[..., Any]]] = [
    ("torch full module", "torch", "torch", _torch_model),
    ("torch state dict", "torch", "torch", lambda: _torch_model().state_dict()),
    ("torch legacy norm hooks", "torch", "torch", _torch_hooked),
    ("torch lazy modules", "torch", "torch", _torch_lazy),
    ("torch parametrized state dict", "torch", "torch", _torch_parametrized_state),
    ("torch tensors", "torch", "torch", _torch_tensors),
    ("torch optimizer, schedulers, GradScaler", "torch", "torch", _torch_training),
    ("numpy arrays and generators", "numpy", "pickle", _numpy_objects),
    ("numpy in torch.save", "numpy", "torch", _numpy_objects),
    ("stdlib data", "stdlib", "pickle", _stdlib_data),
    ("stdlib data in torch.save", "stdlib", "torch", _stdlib_data),
]
