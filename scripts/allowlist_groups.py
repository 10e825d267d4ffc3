"""Sample groups, their evidence files, and what kind of object each harvested global is.

A group runs live when its packages are installed and otherwise is read back from
allowlist_evidence/<group>.txt, which the live run wrote. Evidence lines are
``module:qualname<TAB>kind<TAB>sample; sample``, sorted, with a header naming the versions.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import platform
import warnings
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import allowlist_samples
import allowlist_samples_hf
import allowlist_samples_tabular
import allowlist_samples_train
from allowlist_harvest import WRITERS

EVIDENCE = Path(__file__).resolve().parent / "allowlist_evidence"

# Group -> the distributions its samples import (versions go in the evidence header).
GROUPS: dict[str, tuple[str, ...]] = {
    "torch": ("torch",),
    "numpy": ("numpy", "torch"),
    "stdlib": ("torch",),
    "sklearn": ("scikit-learn", "joblib"),
    "scipy": ("scipy", "joblib"),
    "pandas": ("pandas", "scikit-learn", "joblib", "torch"),
    "boosters": ("xgboost", "lightgbm", "pandas", "scikit-learn", "joblib"),
    "statsmodels": ("statsmodels", "pandas"),
    "transformers": ("transformers", "accelerate", "torch"),
    "accelerate": ("accelerate", "torch"),
    "diffusers": ("diffusers", "torch"),
    "peft": ("peft", "transformers", "torch"),
    "timm": ("timm", "torch"),
    "sentence_transformers": ("sentence-transformers", "transformers", "tokenizers", "torch"),
    "omegaconf": ("omegaconf", "torch"),
    "hydra": ("hydra-core", "omegaconf", "torch"),
    "lightning": ("lightning", "pytorch-lightning", "omegaconf", "torch"),
}
_IMPORT_NAMES = {"scikit-learn": "sklearn", "hydra-core": "hydra",
                 "sentence-transformers": "sentence_transformers",
                 "pytorch-lightning": "pytorch_lightning"}  # fmt: skip
# Classes the samples define stand for the user's own code: never allowlisted.
_USER_MODULES = ("allowlist_samples", "__main__")

Sample = tuple[str, str, str, Callable[..., Any]]
SAMPLES: list[Sample] = [
    *allowlist_samples.SAMPLES,
    *allowlist_samples_tabular.SAMPLES,
    *allowlist_samples_hf.SAMPLES,
    *allowlist_samples_train.SAMPLES,
]


@dataclass
class Harvest:
    """One global: what it resolves to and the samples whose files import it."""

    kind: str
    samples: set[str] = field(default_factory=set)


@dataclass
class Group:
    name: str
    live: bool
    versions: str
    found: dict[str, Harvest]


def collect() -> list[Group]:
    return [_live(name) if _installed(name) else _read(name) for name in GROUPS]


def merged(groups: list[Group]) -> dict[str, Harvest]:
    out: dict[str, Harvest] = {}
    for group in groups:
        for entry, harvest in group.found.items():
            out.setdefault(entry, Harvest(harvest.kind)).samples |= harvest.samples
    return out


def texts(groups: list[Group]) -> dict[Path, str]:
    """The evidence file of every group that ran live."""
    return {_path(g.name): _render(g) for g in groups if g.live}


def importable(name: str) -> bool:
    return importlib.util.find_spec(_IMPORT_NAMES.get(name, name)) is not None


def _installed(name: str) -> bool:
    return all(importable(d) for d in GROUPS[name])


def _live(name: str) -> Group:
    found: dict[str, Harvest] = {}
    for sample, group, writer, build in SAMPLES:
        if group != name:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            entries = set(WRITERS[writer](build if writer == "files" else build()))
        for entry in entries:
            if not entry.startswith(_USER_MODULES):
                found.setdefault(entry, Harvest(kind_of(entry))).samples.add(sample)
    if not found:
        raise SystemExit(f"group {name} harvested nothing")
    versions = ", ".join(f"{d} {importlib.metadata.version(d)}" for d in GROUPS[name])
    return Group(name, True, f"python {platform.python_version()[:4]}, {versions}", found)


def kind_of(entry: str) -> str:
    """``class``, ``function`` (any other callable) or ``object``; ``unresolved`` if absent."""
    module, qualname = entry.split(":", 1)
    module, qualname = NAME_MAPPING.get((module, qualname), (module, qualname))
    try:
        obj: Any = importlib.import_module(IMPORT_MAPPING.get(module, module))
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return "unresolved"
    if isinstance(obj, type):
        return "class"
    return "function" if callable(obj) else "object"


def _path(name: str) -> Path:
    return EVIDENCE / f"{name}.txt"


def _render(group: Group) -> str:
    lines = [
        f"# Pickle globals harvested by scripts/build_pickle_allowlist.py, group {group.name}",
        f"# versions: {group.versions}",
        "# module:qualname<TAB>kind<TAB>samples whose files import it",
    ]
    lines += [
        f"{e}\t{h.kind}\t{'; '.join(sorted(h.samples))}" for e, h in sorted(group.found.items())
    ]
    return "\n".join(lines) + "\n"


def _read(name: str) -> Group:
    text = _path(name).read_text(encoding="utf-8")
    versions = text.splitlines()[1].removeprefix("# versions: ")
    found: dict[str, Harvest] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            entry, kind, samples = line.split("\t")
            found[entry] = Harvest(kind, set(samples.split("; ")))
    return Group(name, False, versions, found)
