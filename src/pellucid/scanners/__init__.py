"""Built-in security analyzers, named in one literal table and imported only when used.

Third parties add scanners through the ``pellucid.scanners`` entry-point group; an entry point
must name a class that satisfies ``Scanner`` (or ``FolderAnalyzer``, in the group
``pellucid.folder_analyzers``).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from pellucid.model import Rule
from pellucid.scanners.base import FolderAnalyzer, Scanner

BUILTIN_SCANNERS: dict[str, str] = {
    "pickle": "pellucid.scanners.pickle:PickleScanner",
    "numpy": "pellucid.scanners.numpy:NumpyScanner",
    "zip": "pellucid.scanners.archive:ZipScanner",
    "tar": "pellucid.scanners.archive:TarScanner",
    "7z": "pellucid.scanners.archive:SevenZipScanner",
    "compressed": "pellucid.scanners.archive:CompressedScanner",
    "keras": "pellucid.scanners.keras:KerasConfigScanner",
    "hdf5": "pellucid.scanners.keras:Hdf5Scanner",
    "tensorflow": "pellucid.scanners.tensorflow:SavedModelScanner",
    "onnx": "pellucid.scanners.onnx:OnnxScanner",
    "gguf": "pellucid.scanners.gguf:GgufScanner",
    "safetensors": "pellucid.scanners.safetensors:SafetensorsScanner",
    "hf-config": "pellucid.scanners.huggingface:HfConfigScanner",
    "python": "pellucid.scanners.python_code:PythonCodeScanner",
    "lfs": "pellucid.scanners.huggingface:LfsPointerScanner",
}

BUILTIN_FOLDER_ANALYZERS: dict[str, str] = {
    "hf-repo": "pellucid.scanners.huggingface:HfRepoAnalyzer",
}


def _load(target: str) -> Any:
    """Instantiate ``module:Class`` from the literal tables above (never from user input)."""
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)()  # safe: our own table


def _plugins(group: str) -> list[Any]:
    return [ep.load()() for ep in entry_points(group=group)]


@cache
def builtin_scanners() -> tuple[Scanner, ...]:
    found = [_load(t) for t in BUILTIN_SCANNERS.values()] + _plugins("pellucid.scanners")
    return tuple(found)


@cache
def builtin_folder_analyzers() -> tuple[FolderAnalyzer, ...]:
    found = [_load(t) for t in BUILTIN_FOLDER_ANALYZERS.values()]
    return tuple(found + _plugins("pellucid.folder_analyzers"))


def all_rules() -> Sequence[Rule]:
    """Every rule pellucid can report, sorted by id (the source of docs/rules.md)."""
    from pellucid.audit import PIPELINE_RULES

    rules: dict[str, Rule] = {r.id: r for r in PIPELINE_RULES}
    catalogues: list[Sequence[Rule]] = [s.rules for s in builtin_scanners()]
    catalogues += [a.rules for a in builtin_folder_analyzers()]
    for catalogue in catalogues:
        for rule in catalogue:
            if rules.setdefault(rule.id, rule) is not rule:
                raise RuntimeError(f"rule id {rule.id} is defined twice")
    return sorted(rules.values(), key=lambda r: r.id)
