"""Generated Keras samples for the Keras / HDF5 tests: benign models saved by real Keras 3,
and hand-edited hostile configs. Importing this module imports keras (torch backend)."""

from __future__ import annotations

import base64
import json
import marshal
import os
import types
import warnings
import zipfile
from pathlib import Path
from typing import Any

os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported anywhere

import keras

from pellucid.model import Artifact, FileKind
from pellucid.scanners.base import ScanContext

CTX = ScanContext()


def build_models(folder: Path) -> dict[str, Path]:
    """A tiny functional model saved as .keras and as legacy .h5; returns the paths."""
    inputs = keras.Input((4,), name="features")
    hidden = keras.layers.Dense(3, activation="relu", name="hidden")(inputs)
    outputs = keras.layers.Dense(1, name="out")(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    paths = {"keras": folder / "model.keras", "h5": folder / "model.h5"}
    with warnings.catch_warnings():  # Keras' own deprecation and legacy-format warnings
        warnings.simplefilter("ignore")
        model.save(paths["keras"])
        model.save(paths["h5"])
    with zipfile.ZipFile(paths["keras"]) as archive:
        (folder / "config.json").write_bytes(archive.read("config.json"))
        (folder / "model.weights.h5").write_bytes(archive.read("model.weights.h5"))
    paths["config"] = folder / "config.json"
    paths["weights"] = folder / "model.weights.h5"
    return paths


def lambda_code_b64(python: str) -> str:
    """base64 marshal of ``lambda x: (<python>, x)[1]``'s code object; the body never runs."""
    module = compile(f"lambda x: ({python}, x)[1]", "<canary>", "eval")
    code = next(c for c in module.co_consts if isinstance(c, types.CodeType))
    return base64.b64encode(marshal.dumps(code)).decode("ascii")


def keras3_lambda_layer(code_b64: str, name: str = "evil") -> dict[str, Any]:
    return {
        "module": "keras.layers",
        "class_name": "Lambda",
        "config": {
            "name": name,
            "trainable": True,
            "dtype": "float32",
            "function": {
                "class_name": "__lambda__",
                "config": {"code": code_b64, "defaults": None, "closure": None},
            },
            "arguments": {},
        },
        "registered_name": None,
        "name": name,
        "inbound_nodes": [],
    }


def keras2_lambda_layer(code_b64: str, name: str = "evil") -> dict[str, Any]:
    return {
        "class_name": "Lambda",
        "config": {
            "name": name,
            "trainable": True,
            "function": [code_b64, None, None],
            "function_type": "lambda",
            "module": "__main__",
            "output_shape": None,
            "output_shape_type": "raw",
            "arguments": {},
        },
        "name": name,
        "inbound_nodes": [],
    }


def with_layer(config_text: str, layer: dict[str, Any], index: int = 1) -> str:
    """The config with ``layer`` inserted (pretty-printed so line numbers are meaningful)."""
    document = json.loads(config_text)
    document["config"]["layers"].insert(index, layer)
    return json.dumps(document, indent=2)


def artifact(name: str, kind: FileKind, size: int, member: tuple[str, ...] = ()) -> Artifact:
    return Artifact(name, kind, size, member)
