"""Samples from training frameworks: Lightning checkpoints, omegaconf and Hydra configs.

Lightning is run for real (``Trainer.fit`` for a step with the usual callbacks) under both of
its import names, so the ``.ckpt`` files are exactly what users publish. Hydra configs are
composed from a YAML tree written here. Nothing loads from a hub.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from pathlib import Path
from typing import Any


class Optim(enum.Enum):
    """An enum field of a structured config (pickled as a user class, then dropped)."""

    ADAM = "adam"


@dataclasses.dataclass
class TrainConfig:
    """The usual shape of a structured config: typed fields, a nested list and dict."""

    lr: float = 0.1
    layers: list[int] = dataclasses.field(default_factory=lambda: [4, 4])
    extra: dict[str, str] = dataclasses.field(default_factory=dict)
    name: str | None = None
    optim: Optim = Optim.ADAM
    path: Path = Path("runs")


def _omegaconf_objects() -> Any:
    from omegaconf import DictConfig, ListConfig, OmegaConf

    plain = OmegaConf.create(
        {"model": {"lr": 0.1, "layers": [4, 4], "act": "relu", "dropout": None},
         "data": {"path": "${oc.env:HOME,/tmp}/data", "batch": 2}, "seed": 0, "flag": True}
    )  # fmt: skip
    structured = OmegaConf.structured(TrainConfig)
    merged = OmegaConf.merge(structured, {"lr": 0.2, "name": "run"})
    OmegaConf.set_readonly(merged, True)
    return {
        "plain": plain,
        "structured": structured,
        "merged": merged,
        "list": ListConfig([1, "a", {"b": 2}]),
        "dict": DictConfig({"a": 1}, flags={"struct": True}),
        "container": OmegaConf.to_container(plain, resolve=True),
    }


def _hydra_config() -> Any:
    """Hydra's compose API on a config tree with a defaults list, as a NeMo-style run does."""
    import tempfile

    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "model").mkdir()
        (root / "config.yaml").write_text(
            "defaults:\n  - model: small\n  - _self_\ntrainer:\n  max_steps: 1\nseed: 0\n"
        )
        (root / "model" / "small.yaml").write_text(
            "_target_: torch.nn.Linear\nin_features: 4\nout_features: 2\n"
        )
        GlobalHydra.instance().clear()
        with initialize_config_dir(config_dir=str(root), version_base="1.3"):
            cfg = compose("config", overrides=["seed=1"])
            full = compose("config", return_hydra_config=True)
        GlobalHydra.instance().clear()
    return {"cfg": cfg, "with_hydra_node": full}


def _lightning_run(package: str, out: Path) -> None:
    """One ``fit`` step with ModelCheckpoint, EarlyStopping, LearningRateMonitor and
    ``save_hyperparameters`` holding a DictConfig, a plain dict and an argparse Namespace."""
    import argparse
    import importlib

    import torch
    from omegaconf import OmegaConf

    pl = importlib.import_module(package)
    callbacks = importlib.import_module(f"{package}.callbacks")
    loggers = importlib.import_module(f"{package}.loggers")

    class Tiny(pl.LightningModule):  # type: ignore[misc, name-defined]
        def __init__(self, cfg: Any, opts: dict[str, Any], args: argparse.Namespace) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.layer = torch.nn.Linear(4, 1)

        def training_step(self, batch: Any, _index: int) -> Any:
            loss = self.layer(batch).pow(2).mean()
            self.log("train_loss", loss)
            return loss

        def configure_optimizers(self) -> Any:
            opt = torch.optim.AdamW(self.parameters(), lr=0.1)
            sched = torch.optim.lr_scheduler.StepLR(opt, 1)
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    cfg = OmegaConf.create({"lr": 0.1, "layers": [4], "name": "run"})
    model = Tiny(cfg, {"dropout": 0.1}, argparse.Namespace(seed=0))
    trainer = pl.Trainer(
        max_steps=2,
        default_root_dir=str(out),
        logger=loggers.CSVLogger(str(out)),
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        callbacks=[
            callbacks.ModelCheckpoint(dirpath=str(out / "ckpt"), monitor="train_loss",
                                      save_last=True, every_n_train_steps=1),
            callbacks.EarlyStopping(monitor="train_loss", patience=3),
            callbacks.LearningRateMonitor("step"),
        ],
    )  # fmt: skip
    loader = torch.utils.data.DataLoader(torch.zeros(8, 4), batch_size=2)
    trainer.fit(model, loader)
    trainer.save_checkpoint(str(out / "manual.ckpt"))
    torch.save({"hparams": model.hparams, "state_dict": model.state_dict()}, out / "hparams.pt")


def _lightning(out: Path) -> None:
    _lightning_run("lightning.pytorch", out)


def _pytorch_lightning(out: Path) -> None:
    _lightning_run("pytorch_lightning", out)


def _fabric_state(out: Path) -> None:
    """Fabric.save with a model, optimizer and an AttributeDict of hyperparameters."""
    import torch
    from lightning.fabric import Fabric
    from lightning.fabric.utilities.data import AttributeDict

    fabric = Fabric(accelerator="cpu", devices=1)
    model = torch.nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer = fabric.setup(model, optimizer)
    state = {"model": model, "optimizer": optimizer, "hparams": AttributeDict(lr=0.1), "step": 1}
    fabric.save(out / "fabric.ckpt", state)


SAMPLES: list[tuple[str, str, str, Callable[..., Any]]] = [
    ("omegaconf DictConfig/ListConfig", "omegaconf", "pickle", _omegaconf_objects),
    ("omegaconf in torch.save", "omegaconf", "torch", _omegaconf_objects),
    ("hydra composed config", "hydra", "pickle", _hydra_config),
    ("hydra composed config in torch.save", "hydra", "torch", _hydra_config),
    ("lightning Trainer.fit checkpoints", "lightning", "files", _lightning),
    ("pytorch_lightning Trainer.fit checkpoints", "lightning", "files", _pytorch_lightning),
    ("lightning Fabric.save", "lightning", "files", _fabric_state),
]
