"""Facts about a model folder, from its files and from the analyses that ran before.

Fields relied on in ``earlier`` (read defensively, since those analyses evolve on their own):

- ``earlier["license"].value.primary``: the identified licence id (a string, or an object
  with ``id``/``key``); else ``earlier["license"].data["primary"]``.
- ``earlier["license"].value.terms.art53_foss`` or ``.data["terms"]["art53_foss"]``: only a
  fallback when the licence knowledge base cannot be asked.
- ``earlier["resources"].value``: an int, or an object with ``parameters`` /
  ``parameter_count`` / ``total_parameters`` / ``total`` (an int, or an object with
  ``total``); else ``earlier["resources"].data["parameters"]`` (an int, or a mapping with
  ``total``) or ``.data["total"]``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pellucid.formats.modelcard import ModelCard, find_card
from pellucid.model import FileKind
from pellucid.modelanalysis import SectionResult
from pellucid.modelfiles import ModelFiles
from pellucid.regulation.compute import stated_flop, training_tokens
from pellucid.regulation.evidence import Folder, Hit

WEIGHT_KINDS = frozenset(
    {
        FileKind.SAFETENSORS,
        FileKind.GGUF,
        FileKind.ONNX,
        FileKind.HDF5,
        FileKind.SAVED_MODEL,
        FileKind.TF_GRAPH,
        FileKind.TORCH_LEGACY,
        FileKind.PICKLE,
        FileKind.NUMPY,
    }
)
WEIGHT_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt", ".keras", ".nemo")  # zip-based formats
NOT_WEIGHTS = frozenset(  # trainer state saved beside the weights, often as pickles
    {"training_args.bin", "optimizer.pt", "scheduler.pt", "scaler.pt", "rng_state.pth"}
)
CONTEXT_KEYS = (
    "max_position_embeddings",
    "n_positions",
    "max_seq_len",
    "max_sequence_length",
    "seq_length",
    "n_ctx",
    "model_max_length",
)
PARAMETER_FIELDS = ("parameters", "parameter_count", "total_parameters", "total", "params")
MAX_SENSIBLE_CONTEXT = 10**9  # tokenizers say 1e30 for "no limit"


def gather(model: ModelFiles, earlier: Mapping[str, SectionResult]) -> Folder:
    """The evidence of ``model``: its card, file names and facts."""
    card = find_card(model)
    return folder_from(model.root, card, [f.rel for f in model], _file_facts(model), earlier)


def folder_from(
    root: str,
    card: ModelCard | None,
    files: list[str],
    file_facts: dict[str, Hit],
    earlier: Mapping[str, SectionResult],
) -> Folder:
    """A Folder from already-read parts (tests and fuzzing build it without files)."""
    facts = dict(file_facts)
    params = parameter_count(earlier)
    if params is not None:
        facts["parameters"] = Hit("found", root, None, f"{params} parameters (resources)")
    licence = license_id(earlier)
    if licence is not None:
        facts["license"] = Hit("found", root, None, f"licence identified: {licence}")
    tokens = training_tokens(card)
    if tokens is not None:
        facts["tokens"] = tokens[1]
    flop = stated_flop(card)
    if flop is not None:
        facts["flop"] = flop[1]
    return Folder(root, card, tuple(sorted(files)), facts, tokens, flop)


def _file_facts(model: ModelFiles) -> dict[str, Hit]:
    facts: dict[str, Hit] = {}
    weights = [
        f
        for f in model
        if (f.kind in WEIGHT_KINDS or f.name.lower().endswith(WEIGHT_SUFFIXES))
        and f.name.lower() not in NOT_WEIGHTS
    ]
    if weights:
        facts["weights"] = Hit("found", weights[0].path, None, f"{len(weights)} weight file(s)")
    for name in ("config.json", "tokenizer_config.json"):
        for file in model.named(name):
            doc = _json_object(model.text(file))
            facts.update((k, v) for k, v in _config_facts(file.path, doc).items() if k not in facts)
    return facts


def _json_object(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _config_facts(path: str, doc: dict[str, Any]) -> dict[str, Hit]:
    facts: dict[str, Hit] = {}
    arch = doc.get("architectures") or doc.get("model_type")
    if isinstance(arch, list) and arch and all(isinstance(a, str) for a in arch):
        facts["architecture"] = Hit("found", path, None, f"architectures: {', '.join(arch)}"[:200])
    elif isinstance(arch, str) and arch:
        facts["architecture"] = Hit("found", path, None, f"model_type: {arch}"[:200])
    for key in CONTEXT_KEYS:
        value = _int(doc.get(key))
        if value is not None and value < MAX_SENSIBLE_CONTEXT:
            facts["context_window"] = Hit("found", path, None, f"{key}: {value}")
            break
    for key in ("transformers_version", "_diffusers_version"):
        version = doc.get(key)
        if isinstance(version, str) and version:
            facts["software"] = Hit("found", path, None, f"{key}: {version}"[:200])
            break
    return facts


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value > 0:
        return value
    if isinstance(value, float) and value.is_integer() and value > 0:
        return int(value)
    return None


def parameter_count(earlier: Mapping[str, SectionResult]) -> int | None:
    """The parameter count from the resources analysis, or None."""
    result = earlier.get("resources")
    if result is None:
        return None
    value = result.value
    direct = _int(value)
    if direct is not None:
        return direct
    for name in PARAMETER_FIELDS:
        field = value.get(name) if isinstance(value, Mapping) else getattr(value, name, None)
        count = _int(field) or _int(getattr(field, "total", None))
        if count is not None:
            return count
    data = result.data if isinstance(result.data, Mapping) else {}
    nested = data.get("parameters")
    return (
        _int(nested)
        or _int(nested.get("total") if isinstance(nested, Mapping) else None)
        or _int(data.get("total"))
    )


def license_id(earlier: Mapping[str, SectionResult]) -> str | None:
    """The licence the licence analysis settled on, or None."""
    result = earlier.get("license")
    if result is None:
        return None
    primary = getattr(result.value, "primary", None)
    if primary is None and isinstance(result.data, Mapping):
        primary = result.data.get("primary")
    if primary is not None and not isinstance(primary, str):
        primary = getattr(primary, "id", None) or getattr(primary, "key", None)
    return primary if isinstance(primary, str) and primary else None
