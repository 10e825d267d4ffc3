"""Where a model folder names its parents: each reader returns ``Ancestor`` links with evidence.

Sources, strongest first: the card's ``base_model`` front matter; GGUF ``general.source.*``
(the repository the file was converted from) and ``general.base_model.N.*``;
``adapter_config.json`` ``base_model_name_or_path``; mergekit configurations (``models:``,
``base_model:``, ``slices: sources:``). ``_name_or_path`` in config.json and diffusers'
model_index.json are hints only: transformers writes whatever path the model was loaded from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from pellucid.budget import DEFAULT_BUDGET
from pellucid.formats.gguf import GgufHeader, read_gguf
from pellucid.formats.hf_config import position
from pellucid.formats.modelcard import ModelCard
from pellucid.model import FileKind
from pellucid.modelfiles import ModelFile, ModelFiles
from pellucid.source import open_source

RELATIONS = ("adapter", "merge", "quantized", "finetune")
HINT_SOURCES = frozenset(("config", "model_index"))
MAX_BASES = 64  # per source; merges of more models than this are not real
MAX_YAML = 256 * 1024
_HUB_URL = re.compile(r"^(?:https?://)?(?:www\.)?(?:huggingface\.co|hf\.co)/(?:models/)?", re.I)
_LOCAL = re.compile(r"^(?:[/~.\\]|[A-Za-z]:[\\/])")


@dataclass(frozen=True, slots=True)
class Ancestor:
    """One link to a parent model, with the evidence that states it."""

    name: str  # a Hub id ("org/name") where the source gives one
    relation: str | None  # adapter, merge, quantized, finetune; None when the source is silent
    source: str  # card, gguf, adapter_config, mergekit, config, model_index
    file: str
    line: int | None
    key: str = ""  # the YAML, JSON or GGUF key
    offset: int | None = None  # byte offset (GGUF values)
    generation: int = 1  # 1: parent, 2: grandparent (a GGUF's source's base)

    @property
    def hint(self) -> bool:
        return self.source in HINT_SOURCES


def normal_name(name: str) -> str:
    """A form for comparing names: Hub URL prefix, ``.git`` and slashes stripped, lowered."""
    text = _HUB_URL.sub("", name.strip()).strip("/")
    return text.removesuffix(".git").lower()


def hub_name(value: object) -> str | None:
    """A usable model name from a metadata value; None for empty, non-text or local paths."""
    if not isinstance(value, str) or not value.strip() or len(value) > 300:
        return None
    text = value.strip()
    if _LOCAL.match(text):
        return None
    return _HUB_URL.sub("", text).strip("/").removesuffix(".git") or None


def card_links(card: ModelCard) -> tuple[list[Ancestor], str | None, list[str]]:
    """(links, stated relation, notes) from the card's front matter."""
    notes: list[str] = []
    raw = card.metadata.get("base_model")
    values = raw if isinstance(raw, list) else [] if raw is None else [raw]
    relation = card.metadata.get("base_model_relation")
    stated = relation if relation in RELATIONS else None
    if relation is not None and stated is None:
        notes.append(f"{card.path}: base_model_relation {str(relation)[:40]!r} is not one of "
                     f"{', '.join(RELATIONS)}")  # fmt: skip
    line = card.metadata_line("base_model")
    links = []
    for value in values[:MAX_BASES]:
        name = hub_name(value)
        if name is None:
            notes.append(f"{card.path}: base_model entry {str(value)[:60]!r} is not a model id")
            continue
        links.append(Ancestor(name, stated, "card", card.path, line, "base_model"))
    return links, stated, notes


def gguf_links(model: ModelFiles) -> Iterator[Ancestor]:
    """``general.source.*`` (relation quantized) and ``general.base_model.N.*`` of GGUF files."""
    for file in model.of_kind(FileKind.GGUF):
        header = _gguf_header(file)
        if header is None:
            continue
        source = _gguf_source(header, file)
        if source is not None:
            yield source
        count = _kv_int(header, "general.base_model.count") or 0
        for index in range(min(count, MAX_BASES)):
            link = _gguf_base(header, file, index, count)
            if link is not None:
                yield link if source is None else replace(link, generation=2)


def _gguf_header(file: ModelFile) -> GgufHeader | None:
    try:
        with open_source(file.disk_path) as source:
            return read_gguf(source, max_header_bytes=DEFAULT_BUDGET.max_header_bytes, keep_text=0)
    except OSError:
        return None


def _kv_int(header: GgufHeader, key: str) -> int | None:
    kv = header.kv(key)
    return kv.value if kv is not None and type(kv.value) is int else None


def _kv_text(header: GgufHeader, key: str) -> tuple[str | None, int | None]:
    kv = header.kv(key)
    if kv is None or not isinstance(kv.value, str):
        return None, None
    return kv.value, kv.offset


def _gguf_source(header: GgufHeader, file: ModelFile) -> Ancestor | None:
    for key in (
        "general.source.repo_url",
        "general.source.url",
        "general.source.huggingface.repository",
    ):
        value, offset = _kv_text(header, key)
        name = hub_name(value)
        if name is not None:
            return Ancestor(name, "quantized", "gguf", file.path, None, key, offset)
    return None


def _gguf_base(header: GgufHeader, file: ModelFile, index: int, count: int) -> Ancestor | None:
    prefix = f"general.base_model.{index}."
    url, url_at = _kv_text(header, prefix + "repo_url")
    name, name_at = _kv_text(header, prefix + "name")
    org, _ = _kv_text(header, prefix + "organization")
    relation = "merge" if count > 1 else "finetune"
    if url and _HUB_URL.match(url) and hub_name(url):
        return Ancestor(hub_name(url) or "", relation, "gguf", file.path, None,
                        prefix + "repo_url", url_at)  # fmt: skip
    if name:
        full = f"{org.replace(' ', '-')}/{name}" if org and "/" not in name else name
        return Ancestor(full, relation, "gguf", file.path, None, prefix + "name", name_at)
    return None


def json_links(model: ModelFiles) -> tuple[list[Ancestor], list[str]]:
    """adapter_config.json's base (relation adapter); config/model_index ``_name_or_path``."""
    links: list[Ancestor] = []
    notes: list[str] = []
    for filename, key, source, relation in (
        ("adapter_config.json", "base_model_name_or_path", "adapter_config", "adapter"),
        ("config.json", "_name_or_path", "config", None),
        ("model_index.json", "_name_or_path", "model_index", None),
    ):
        for file in model.named(filename):
            value, line = _json_value(model, file, key)
            name = hub_name(value)
            if name is not None:
                links.append(Ancestor(name, relation, source, file.path, line, key))
            elif isinstance(value, str) and value.strip() and source == "adapter_config":
                notes.append(f"{file.path}: {key} is a local path ({value[:80]!r})")
    return links, notes


def _json_value(model: ModelFiles, file: ModelFile, key: str) -> tuple[Any, int | None]:
    text = model.text(file)
    try:
        document = json.loads(text) if text is not None else None
    except (ValueError, RecursionError):
        return None, None
    if not isinstance(document, dict) or key not in document:
        return None, None
    return document[key], position(text.encode() if text else b"", key)[0]


def mergekit_links(model: ModelFiles) -> Iterator[Ancestor]:
    """Models named by a mergekit configuration (a YAML file with ``merge_method``)."""
    import yaml

    for file in model.matching(lambda f: f.top_level and f.name.endswith((".yml", ".yaml"))):
        text = model.text(file, MAX_YAML)
        if text is None or "merge_method" not in text:
            continue
        try:
            document = yaml.safe_load(text)
        except (yaml.YAMLError, RecursionError):
            continue
        if not isinstance(document, dict) or "merge_method" not in document:
            continue
        lines = text.splitlines()
        for key, value in _merge_models(document):
            name = hub_name(value)
            if name is not None:
                line = next((i for i, t in enumerate(lines, 1) if value in t), None)
                yield Ancestor(name, "merge", "mergekit", file.path, line, key)


def _merge_models(document: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    yield "base_model", document.get("base_model")
    models = document.get("models")
    for item in models[:MAX_BASES] if isinstance(models, list) else []:
        yield "models", item.get("model") if isinstance(item, dict) else item
    slices = document.get("slices")
    for piece in slices[:MAX_BASES] if isinstance(slices, list) else []:
        sources = piece.get("sources") if isinstance(piece, dict) else None
        for item in sources[:MAX_BASES] if isinstance(sources, list) else []:
            yield "slices.sources", item.get("model") if isinstance(item, dict) else None
