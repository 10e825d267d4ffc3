"""Hugging Face repository configs: JSON with duplicate-key tracking, and the custom code they name.

``transformers`` resolves an ``auto_map`` entry ``"module.Class"`` to ``<repo>/module.py`` and
``"org/repo--module.Class"`` to ``module.py`` fetched from *another* repository; either runs
only when the user enables ``trust_remote_code``. diffusers names custom components as
``[library, class]`` pairs in ``model_index.json``. Everything here is pure and reads parsed
JSON only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

CONFIG_NAMES = frozenset(
    {
        "config.json",
        "tokenizer_config.json",
        "chat_template.json",
        "processor_config.json",
        "preprocessor_config.json",
        "image_processor_config.json",
        "feature_extractor_config.json",
        "video_preprocessor_config.json",
        "model_index.json",
        "generation_config.json",
        "adapter_config.json",
        "config_sentence_transformers.json",
        "modules.json",
        "scheduler_config.json",
        "special_tokens_map.json",
    }
)
"""File names loaders read as configuration; parsed whatever their content looks like."""

MARKER_KEYS = (
    "model_type",
    "architectures",
    "auto_map",
    "_class_name",
    "_diffusers_version",
    "chat_template",
    "trust_remote_code",
    "custom_pipelines",
    "tokenizer_class",
    "processor_class",
    "weight_map",
)
MARKERS = re.compile(rb'"(?:' + b"|".join(k.encode() for k in MARKER_KEYS) + rb')"')
# A \u escape of a character that can occur in a marker key ("_" and a-z): JSON allows
# "auto\u005fmap", which a byte search for "auto_map" misses but json.loads decodes.
ESCAPED_KEY_CHAR = re.compile(rb"\\u00(?:5[fF]|6[1-9a-fA-F]|7[0-9aA])")
SELECTOR_KEYS = (
    "tokenizer_class",
    "processor_class",
    "image_processor_type",
    "feature_extractor_type",
)
LIBRARIES = frozenset({"diffusers", "transformers", "onnxruntime", "optimum", "peft"})
_WINDOWS_ROOT = re.compile(r"^[A-Za-z]:|^\\\\")


@dataclass(frozen=True, slots=True)
class CodeRef:
    """One reference from a config to Python code the loader would import."""

    key_path: str  # e.g. "auto_map.AutoModel" or "auto_map.AutoTokenizer[1]"
    reference: str  # the value as written
    repo: str | None  # the other repository named before "--", if any
    file: str  # the module file the loader imports, relative to the repository


@dataclass(frozen=True, slots=True)
class ParsedJson:
    value: object
    duplicates: tuple[str, ...]  # keys that occur more than once in one object


def load_json(data: bytes) -> ParsedJson:
    """Parse like ``json.loads`` (last duplicate wins) and remember duplicated keys.

    Raises ValueError (bad JSON or encoding) and RecursionError (absurd nesting), as the
    loaders themselves would.
    """
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        result: dict[str, object] = {}
        for key, value in items:
            if key in result and key not in duplicates:
                duplicates.append(key)
            result[key] = value
        return result

    return ParsedJson(json.loads(data, object_pairs_hook=pairs), tuple(duplicates))


def code_references(doc: dict[str, object]) -> list[CodeRef]:
    """Every custom-code reference in one parsed config, in document order."""
    refs: list[CodeRef] = []
    auto_map = doc.get("auto_map")
    if isinstance(auto_map, dict):
        for name, value in auto_map.items():
            refs.extend(_class_refs(f"auto_map.{name}", value))
    pipelines = doc.get("custom_pipelines")
    if isinstance(pipelines, dict):
        for task, spec in pipelines.items():
            if isinstance(spec, dict):
                refs.extend(_class_refs(f"custom_pipelines.{task}.impl", spec.get("impl")))
    if "_diffusers_version" in doc or "_class_name" in doc:
        refs.extend(_diffusers_refs(doc))
    return refs


def _class_refs(key_path: str, value: object) -> Iterator[CodeRef]:
    items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
    for index, item in items:
        if isinstance(item, str) and item:
            path = key_path if index is None else f"{key_path}[{index}]"
            yield class_reference(path, item)


def class_reference(key_path: str, reference: str) -> CodeRef:
    """Split ``[repo--]module.Class`` the way transformers' dynamic module loader does."""
    repo, sep, rest = reference.partition("--")
    module = (rest if sep else reference).rpartition(".")[0] or (rest if sep else reference)
    return CodeRef(key_path, reference, repo if sep else None, module + ".py")


def _diffusers_refs(doc: dict[str, object]) -> Iterator[CodeRef]:
    pipeline = doc.get("_class_name")
    if isinstance(pipeline, list) and len(pipeline) == 2 and isinstance(pipeline[0], str):
        yield CodeRef("_class_name", json.dumps(pipeline), None, f"{pipeline[0]}.py")
    for key, value in doc.items():
        if key.startswith("_") or not isinstance(value, list) or len(value) != 2:
            continue
        library = value[0]
        if isinstance(library, str) and library not in LIBRARIES:
            yield CodeRef(key, json.dumps(value), None, f"{key}/{library}.py")


def escape_reason(path: str) -> str | None:
    """Why a relative path from a config would leave its folder, or None when it stays inside."""
    if not path:
        return None
    if path.startswith("/") or _WINDOWS_ROOT.match(path):
        return "absolute path"
    if "://" in path:
        return "URL"
    parts = re.split(r"[/\\]", path)
    if ".." in parts:
        return "'..' component"
    return None


def selectors(doc: dict[str, object]) -> dict[str, str]:
    """Class names a config selects by name (tokenizer_class ...), by key."""
    return {key: value for key in SELECTOR_KEYS if isinstance(value := doc.get(key), str)}


def trust_flags(doc: object, limit: int = 10_000) -> list[str]:
    """Key paths where a config sets ``trust_remote_code`` to true (nested configs included)."""
    found: list[str] = []
    stack: list[tuple[str, object]] = [("", doc)]
    seen = 0
    while stack and seen < limit:
        path, node = stack.pop()
        seen += 1
        if isinstance(node, dict):
            for key, value in node.items():
                child = f"{path}.{key}" if path else str(key)
                if key == "trust_remote_code" and value in (True, "true", "True"):
                    found.append(child)
                elif isinstance(value, dict | list):
                    stack.append((child, value))
        elif isinstance(node, list):
            stack.extend((f"{path}[{i}]", v) for i, v in enumerate(node))
    return sorted(found)


def position(data: bytes, key: str, start: int = 0) -> tuple[int | None, int | None]:
    """(line, byte offset) of ``"key"`` in the raw JSON at or after ``start``; None if absent
    (for example when the key is written with escapes)."""
    offset = data.find(json.dumps(key).encode(), start)
    if offset < 0:
        return None, None
    return data.count(b"\n", 0, offset) + 1, offset


def repo_id_from_cache_path(path: str) -> str | None:
    """``org/name`` for a file inside a Hugging Face cache folder ``models--org--name``."""
    for part in re.split(r"[/\\]", path):
        if part.startswith("models--"):
            return part.removeprefix("models--").replace("--", "/")
    return None
