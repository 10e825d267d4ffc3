"""Every licence statement a model folder makes, as evidence records.

A folder states its licence in many places: the card's front matter (``license``,
``license_name``, ``license_link``) and its "License" section, licence and notice files at any
depth, GGUF ``general.license*`` keys, safetensors ``__metadata__``, ``config.json`` and SPDX
lines in Python files. ``collect`` gathers them all without judging them; ``assess`` decides.
Reads are bounded: a licence file that is huge or binary is recorded as a problem, not read.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pellucid.formats.modelcard import ModelCard, find_card
from pellucid.model import FileKind
from pellucid.modelfiles import ModelFile, ModelFiles
from pellucid.source import open_source

LICENSE_TEXT_LIMIT = 1024 * 1024  # the longest real licence texts are ~100 kB
HEADER_LIMIT = 64 * 1024 * 1024  # GGUF / safetensors metadata read per file
CODE_HEAD = 4096  # SPDX lines sit in the first lines of a source file
MAX_FILES = 64  # Python files whose first lines are searched for SPDX identifiers
MAX_WEIGHT_FILES = 16  # GGUF / safetensors headers read: shards and quants repeat metadata
_FILE_PREFIXES = ("LICENSE", "LICENCE", "COPYING", "NOTICE", "USE_POLICY", "MODEL_LICENSE")
_FILE_MARKERS = ("LICENSE", "LICENCE", "ACCEPTABLE_USE")
_TEXT_SUFFIXES = ("", ".md", ".txt", ".rst", ".markdown")
_NOT_TEXT = frozenset(
    {".py", ".json", ".yaml", ".yml", ".js", ".ts", ".sh", ".ipynb", ".toml", ".cfg", ".html",
     ".bin", ".pt", ".pth", ".ckpt", ".safetensors", ".gguf", ".onnx", ".h5", ".pkl", ".npy"}
)  # fmt: skip
_SPDX = re.compile(r"SPDX-License-Identifier:\s*([^\n\r*#]+?)\s*(?:\*/|-->)?\s*$", re.MULTILINE)
_CARD_KEYS = ("license", "license_name", "license_link")
_RESCUE = re.compile(r"^(license|license_name|license_link)\s*:\s*['\"]?([^'\"#\n]+?)['\"]?\s*$")


@dataclass(frozen=True, slots=True)
class LicenseStatement:
    """One place that says something about a licence.

    ``kind`` says what ``text`` is: ``id`` (an identifier such as ``mit`` or an SPDX
    expression), ``name`` (a free name such as ``license_name``), ``link`` (a URL or path),
    ``text`` (a licence text), ``notice`` (a NOTICE file) or ``policy`` (a use policy).
    """

    source: str
    file: str
    line: int | None
    text: str
    kind: str
    offset: int | None = None
    rel: str = ""  # the file's path inside the model folder (what its scope is read from)


@dataclass(frozen=True, slots=True)
class SourceProblem:
    """A statement that could not be read: ``kind`` is ``unreadable`` or ``card-yaml``."""

    kind: str
    file: str
    line: int | None
    detail: str


@dataclass(frozen=True, slots=True)
class BaseModelRef:
    """A parent model the folder names (card ``base_model`` or GGUF ``general.base_model``)."""

    repo: str
    file: str
    line: int | None


@dataclass(slots=True)
class LicenseEvidence:
    """All statements of one folder, the problems met while reading them, and the card."""

    statements: list[LicenseStatement] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)
    bases: list[BaseModelRef] = field(default_factory=list)
    card: ModelCard | None = None


def collect(model: ModelFiles) -> LicenseEvidence:
    """Gather every licence statement of ``model``; never raises on hostile files."""
    evidence = LicenseEvidence(card=find_card(model))
    if evidence.card is not None:
        _card(evidence.card, evidence)
    for file in model.matching(is_license_file):
        _license_file(model, file, evidence)
    _linked_file(model, evidence)
    for file in model.of_kind(FileKind.GGUF)[:MAX_WEIGHT_FILES]:
        _gguf(file, evidence)
    for file in model.of_kind(FileKind.SAFETENSORS)[:MAX_WEIGHT_FILES]:
        _safetensors(file, evidence)
    for file in model.named("config.json", "adapter_config.json", "model_index.json"):
        _config(model, file, evidence)
    python = [f for f in model if f.kind is FileKind.PYTHON or f.name.endswith(".py")]
    for file in python[:MAX_FILES]:
        _code_header(model, file, evidence)
    evidence.statements = _unique(evidence.statements)
    return evidence


def is_license_file(file: ModelFile) -> bool:
    """LICENSE*, LICENCE*, COPYING*, NOTICE*, USE_POLICY* and *LICENSE*.md/txt, any depth;
    never source or data files that merely start with those words (licenses.py)."""
    upper = file.name.upper()
    stem, dot, suffix = upper.rpartition(".")
    if not dot or " " in suffix or len(suffix) > 12:
        stem, suffix = upper, ""
    suffix = f".{suffix.lower()}" if suffix else ""
    if upper.startswith(_FILE_PREFIXES) and suffix not in _NOT_TEXT:
        return True
    return suffix in _TEXT_SUFFIXES and any(m in stem for m in _FILE_MARKERS)


def file_kind(file: ModelFile) -> str:
    """``notice``, ``policy`` or ``text``: how a licence-like file is read."""
    upper = file.name.upper()
    if upper.startswith("NOTICE"):
        return "notice"
    if upper.startswith("USE_POLICY") or "ACCEPTABLE_USE" in upper:
        return "policy"
    return "text"


def _card(card: ModelCard, evidence: LicenseEvidence) -> None:
    metadata: dict[str, Any] = dict(card.metadata)
    if card.metadata_error is not None:
        evidence.problems.append(SourceProblem("card-yaml", card.path, 1, card.metadata_error))
        metadata = _rescue_front_matter(card)
    kinds = {"license": "id", "license_name": "name", "license_link": "link"}
    for key in _CARD_KEYS:
        for value in _strings(metadata.get(key)):
            line = card.metadata_line(key)
            evidence.statements.append(
                LicenseStatement(f"card:{key}", card.path, line, value, kinds[key])
            )
    prompt = metadata.get("extra_gated_prompt")
    if isinstance(prompt, str) and prompt.strip():
        line = card.metadata_line("extra_gated_prompt")
        evidence.statements.append(
            LicenseStatement("card:extra_gated_prompt", card.path, line, prompt, "text")
        )
    for value in _strings(metadata.get("base_model")):
        evidence.bases.append(BaseModelRef(value, card.path, card.metadata_line("base_model")))
    for section in card.sections:
        title = section.title.lower()
        if ("license" in title or "licence" in title) and section.text.strip():
            evidence.statements.append(
                LicenseStatement("readme:section", card.path, section.line, section.text, "text")
            )


def _rescue_front_matter(card: ModelCard) -> dict[str, Any]:
    """The licence keys of a front matter YAML could not parse, read line by line: the
    Hub rejects such a card, but its author still meant what those lines say."""
    found: dict[str, Any] = {}
    for line in card.lines[: max(0, card.body_line - 1)]:
        match = _RESCUE.match(line)
        if match and match.group(2).strip():
            found.setdefault(match.group(1), match.group(2).strip())
    return found


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list):
        return [v.strip() for v in value if isinstance(v, str) and v.strip()]
    return []


def _license_file(model: ModelFiles, file: ModelFile, evidence: LicenseEvidence) -> None:
    text = model.text(file, LICENSE_TEXT_LIMIT)
    if text is None:
        why = (
            f"{file.size} bytes, over the {LICENSE_TEXT_LIMIT}-byte limit for a licence text"
            if file.size > LICENSE_TEXT_LIMIT
            else "binary content (NUL bytes) or unreadable"
        )
        evidence.problems.append(SourceProblem("unreadable", file.path, None, why))
        return
    evidence.statements.append(
        LicenseStatement("file:LICENSE", file.path, 1, text, file_kind(file), rel=file.rel)
    )


def _linked_file(model: ModelFiles, evidence: LicenseEvidence) -> None:
    """Read the file ``license_link`` names when it is in the folder and not read already."""
    read = {s.file for s in evidence.statements if s.source == "file:LICENSE"}
    for statement in [s for s in evidence.statements if s.source == "card:license_link"]:
        rel = statement.text.removeprefix("./").strip("/")
        if "://" in rel:
            continue
        for file in model:
            if file.rel == rel and file.path not in read:
                _license_file(model, file, evidence)


def _gguf(file: ModelFile, evidence: LicenseEvidence) -> None:
    from pellucid.formats.gguf import read_gguf

    try:
        with open_source(file.disk_path) as source:
            header = read_gguf(source, max_header_bytes=HEADER_LIMIT, keep_text=0)
    except (OSError, ValueError):
        evidence.problems.append(SourceProblem("unreadable", file.path, None, "GGUF not readable"))
        return
    values = {kv.key: kv.value for kv in header.kvs if isinstance(kv.value, str)}
    for kv in header.kvs:
        if kv.key.startswith("general.license") and isinstance(kv.value, str) and kv.value:
            kind = "link" if kv.key.endswith(".link") else "name" if ".name" in kv.key else "id"
            statement = LicenseStatement(
                f"gguf:{kv.key}", file.path, None, kv.value, kind, kv.offset
            )
            evidence.statements.append(statement)
    for key, value in sorted(values.items()):
        if re.fullmatch(r"general\.base_model\.\d+\.repo_url", key) and value:
            repo = re.sub(r"^https?://(www\.)?huggingface\.co/", "", value).strip("/")
            evidence.bases.append(BaseModelRef(repo, file.path, None))


def _safetensors(file: ModelFile, evidence: LicenseEvidence) -> None:
    from pellucid.formats.safetensors import parse_header

    try:
        with open_source(file.disk_path) as source:
            header = parse_header(source, HEADER_LIMIT)
    except (OSError, ValueError):
        return
    for key, value in sorted(header.metadata.items()):
        if ("license" in key.lower() or "licence" in key.lower()) and value.strip():
            kind = "link" if "://" in value else "text" if len(value) > 200 else "id"
            evidence.statements.append(
                LicenseStatement("safetensors:metadata", file.path, None, value.strip(), kind)
            )


def _config(model: ModelFiles, file: ModelFile, evidence: LicenseEvidence) -> None:
    text = model.text(file, LICENSE_TEXT_LIMIT)
    if text is None:
        return
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return
    if not isinstance(document, dict):
        return
    for key in ("license", "licence", "license_name"):
        for value in _strings(document.get(key)):
            line = next(
                (n for n, row in enumerate(text.splitlines(), 1) if f'"{key}"' in row), None
            )
            kind = "name" if key == "license_name" else "id"
            evidence.statements.append(
                LicenseStatement("config:license", file.path, line, value, kind)
            )


def _code_header(model: ModelFiles, file: ModelFile, evidence: LicenseEvidence) -> None:
    head = model.head(file, CODE_HEAD).decode("utf-8", "replace")
    for match in _SPDX.finditer(head):
        expression = match.group(1).strip()
        if expression:
            line = head.count("\n", 0, match.start()) + 1
            evidence.statements.append(
                LicenseStatement("code:header", file.path, line, expression, "id")
            )


def _unique(statements: list[LicenseStatement]) -> list[LicenseStatement]:
    """Shards repeat their metadata: keep the first GGUF / safetensors statement of each
    (source, text); every other statement stays, with its own file and line."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for statement in statements:
        key = (statement.source, statement.text)
        if statement.source.startswith(("gguf:", "safetensors:")):
            if key in seen:
                continue
            seen.add(key)
        kept.append(statement)
    return kept
