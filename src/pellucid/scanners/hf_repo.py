"""Checks on a whole Hugging Face model folder: what is there, what is missing, what is odd.

Works per directory (a diffusers pipeline has one per component) on the files the audit
discovered, reading only small JSON configs, shard indexes and chat template files.
Existence is checked on the file system through the paths the user sees, so Hugging Face
cache snapshots (symlinks into ``blobs/``) and broken links of partial downloads behave.
"""

from __future__ import annotations

import posixpath
import re
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from pellucid.formats import hf_config
from pellucid.formats.hf_config import CodeRef
from pellucid.model import Artifact, FileKind, Finding, Rule
from pellucid.scanners.base import FolderFile, FolderResult, ScanContext
from pellucid.scanners.chat_template import TEMPLATE_RULES, template_findings
from pellucid.scanners.hf_rules import (
    CODE_MISSING,
    PICKLE_BESIDE_SAFETENSORS,
    PICKLE_ONLY,
    REPO_RULES,
    SHARD_LEAVES_FOLDER,
    SHARD_MISSING,
    UNREFERENCED_CODE,
)
from pellucid.source import open_source

MAX_CONFIG_BYTES = 4 * 1024 * 1024  # configs are kilobytes; tokenizer.json is not a config
SMALL_JSON_BYTES = 64 * 1024  # other JSON is read only when this small (not tokenizer.json)
MAX_LISTED = 10  # names quoted in one snippet
_PICKLE_WEIGHT = re.compile(r".*model.*\.bin|.*\.(?:pt|pth|ckpt|pkl|pickle)", re.IGNORECASE)
_PICKLE_KINDS = frozenset({FileKind.PICKLE, FileKind.TORCH_LEGACY})
_WEIGHT_KINDS = frozenset(
    {
        FileKind.SAFETENSORS,
        FileKind.PICKLE,
        FileKind.TORCH_LEGACY,
        FileKind.GGUF,
        FileKind.ONNX,
        FileKind.HDF5,
    }
)
_MODEL_CONFIGS = frozenset({"config.json", "model_index.json", "adapter_config.json"})


class HfRepoAnalyzer:
    """Pickle-only weights, missing custom code, stray code, broken shard indexes, templates."""

    id: ClassVar[str] = "hf-repo"
    rules: ClassVar[tuple[Rule, ...]] = (*REPO_RULES, *TEMPLATE_RULES)

    def analyze(self, root: Path, files: Sequence[FolderFile], ctx: ScanContext) -> FolderResult:
        groups: dict[str, list[FolderFile]] = {}
        for item in files:
            if not item.artifact.member:
                groups.setdefault(posixpath.dirname(item.artifact.path) or ".", []).append(item)
        folders = [_Folder(Path(name), group, ctx) for name, group in sorted(groups.items())]
        referenced = {path for folder in folders for path in folder.referenced_files()}
        findings: list[Finding] = []
        incomplete: list[tuple[str, str]] = []
        for folder in folders:
            findings.extend(folder.weights())
            findings.extend(folder.missing_code())
            findings.extend(folder.stray_code(referenced))
            findings.extend(folder.shard_indexes())
            found, reasons = folder.templates()
            findings.extend(found)
            incomplete.extend(reasons)
        return FolderResult(tuple(findings), incomplete=tuple(incomplete))


class _Folder:
    """One directory of the model and the configs in it."""

    def __init__(self, path: Path, files: list[FolderFile], ctx: ScanContext) -> None:
        self.path = path
        self.files = {posixpath.basename(f.artifact.path): f for f in files}
        self.ctx = ctx
        self.configs: dict[str, dict[str, object]] = {}
        limit = min(ctx.budget.max_text_bytes, MAX_CONFIG_BYTES)
        for name, item in self.files.items():
            if (
                item.artifact.kind is FileKind.JSON
                and item.artifact.size <= limit
                and (_is_config_name(name) or item.artifact.size <= SMALL_JSON_BYTES)
            ):
                doc = _read_json(item.disk_path)
                if doc is not None:
                    self.configs[name] = doc
        self.refs: list[tuple[str, CodeRef]] = [
            (name, ref)
            for name, doc in self.configs.items()
            for ref in hf_config.code_references(doc)
        ]

    def _local(self, ref: CodeRef) -> bool:
        return ref.repo is None and hf_config.escape_reason(ref.file) is None

    def referenced_files(self) -> list[Path]:
        return [self.path / ref.file for _, ref in self.refs if self._local(ref)]

    def weights(self) -> list[Finding]:
        pickles = [f for name, f in sorted(self.files.items()) if _is_pickle_weight(name, f)]
        if not pickles:
            return []
        names = [posixpath.basename(f.artifact.path) for f in pickles]
        evidence = pickles[0].artifact.evidence(snippet=_listing(names))
        if any(f.artifact.kind is FileKind.SAFETENSORS for f in self.files.values()):
            return [
                PICKLE_BESIDE_SAFETENSORS.finding(
                    evidence, f"{len(names)} pickle-based weight file(s) beside safetensors"
                )
            ]
        return [
            PICKLE_ONLY.finding(
                evidence,
                f"{len(names)} pickle-based weight file(s) and no safetensors in this folder",
            )
        ]

    def missing_code(self) -> list[Finding]:
        found = []
        for config, ref in self.refs:
            if self._local(ref) and not (self.path / ref.file).is_file():
                evidence = self.files[config].artifact.evidence(
                    snippet=f"{ref.key_path}: {ref.reference}"[:200]
                )
                found.append(
                    CODE_MISSING.finding(evidence, f"{ref.file} is not in {self.path.as_posix()}")
                )
        return found

    def stray_code(self, referenced: set[Path]) -> list[Finding]:
        code = sorted(
            n
            for n, f in self.files.items()
            if n.endswith(".py") or f.artifact.kind is FileKind.PYTHON
        )
        if not code or self.refs or not self._is_model():
            return []
        if any(p.parent == self.path for p in referenced):
            return []  # e.g. a diffusers component module named by model_index.json above
        evidence = self.files[code[0]].artifact.evidence(snippet=_listing(code))
        return [
            UNREFERENCED_CODE.finding(
                evidence, f"{len(code)} Python file(s) and no auto_map or custom_pipelines entry"
            )
        ]

    def _is_model(self) -> bool:
        return bool(_MODEL_CONFIGS & self.files.keys()) or any(
            f.artifact.kind in _WEIGHT_KINDS for f in self.files.values()
        )

    def shard_indexes(self) -> list[Finding]:
        found: list[Finding] = []
        for name, doc in sorted(self.configs.items()):
            weight_map = doc.get("weight_map")
            if not name.endswith(".index.json") or weight_map is None:
                continue
            artifact = self.files[name].artifact
            if not isinstance(weight_map, dict):
                found.append(
                    SHARD_MISSING.finding(
                        artifact.evidence(snippet=f"weight_map: {type(weight_map).__name__}"),
                        "weight_map is not an object",
                    )
                )
                continue
            found.extend(self._shards(artifact, weight_map))
        return found

    def _shards(self, artifact: Artifact, weight_map: dict[str, object]) -> list[Finding]:
        found: list[Finding] = []
        missing: list[str] = []
        for shard in sorted({v for v in weight_map.values() if isinstance(v, str)}):
            reason = hf_config.escape_reason(shard)
            if reason is not None and len(found) < MAX_LISTED:
                tensor = next(k for k, v in weight_map.items() if v == shard)
                found.append(
                    SHARD_LEAVES_FOLDER.finding(
                        artifact.evidence(snippet=f'"{tensor}": "{shard}"'[:200]),
                        f"shard {shard!r}: {reason}",
                    )
                )
            elif reason is None and not (self.path / shard).exists():
                missing.append(shard)
        bad = sum(1 for v in weight_map.values() if not isinstance(v, str))
        if missing or bad:
            detail = f"{len(missing)} shard(s) missing" + (
                f", {bad} entries are not file names" if bad else ""
            )
            found.append(
                SHARD_MISSING.finding(artifact.evidence(snippet=_listing(missing)), detail)
            )
        return found

    def templates(self) -> tuple[list[Finding], list[tuple[str, str]]]:
        """Chat templates kept as files (chat_template.jinja) rather than in JSON."""
        findings: list[Finding] = []
        reasons: list[tuple[str, str]] = []
        for name, item in sorted(self.files.items()):
            if not name.endswith(".jinja") or item.artifact.size > self.ctx.budget.max_text_bytes:
                continue
            try:
                text = item.disk_path.read_bytes().decode("utf-8", errors="replace")
            except OSError as exc:
                reasons.append((item.artifact.path, f"cannot read: {exc.strerror or exc}"))
                continue
            found, incomplete = template_findings(
                text, item.artifact.evidence(offset=0), self.ctx.budget
            )
            findings.extend(found)
            reasons.extend((item.artifact.path, reason) for reason in incomplete)
        return findings, reasons


def _is_config_name(name: str) -> bool:
    return name in hf_config.CONFIG_NAMES or name.endswith(".index.json")


def _read_json(path: Path) -> dict[str, object] | None:
    try:
        doc = hf_config.load_json(path.read_bytes()).value
    except (OSError, ValueError, RecursionError):
        return None  # the config scanner reports unreadable configs
    return doc if isinstance(doc, dict) else None


def _is_pickle_weight(name: str, item: FolderFile) -> bool:
    if not _PICKLE_WEIGHT.fullmatch(name):
        return False
    kind = item.artifact.kind
    return kind in _PICKLE_KINDS or (kind is FileKind.ZIP and _zip_holds_pickle(item.disk_path))


def _zip_holds_pickle(path: Path) -> bool:
    """The zip's central directory names a ``data.pkl`` (a torch.save archive)."""
    try:
        with open_source(path) as source:
            tail_at = max(0, source.size - 65_557)
            tail = source.read(tail_at)
            eocd = tail.rfind(b"PK\x05\x06")
            if eocd < 0 or len(tail) < eocd + 22:
                return False
            size, offset = struct.unpack_from("<II", tail, eocd + 12)
            if (
                0xFFFFFFFF in (size, offset)
                and eocd >= 20
                and tail[eocd - 20 : eocd - 16] == (b"PK\x06\x07")
            ):
                (record,) = struct.unpack_from("<Q", tail, eocd - 12)
                size, offset = struct.unpack_from(
                    "<QQ", source.read(record + 40, 16).ljust(16, b"\0")
                )
            directory = source.read(offset, min(size, 64 * 1024 * 1024))
            return b"data.pkl" in directory or b"data.pkl" in tail
    except (OSError, ValueError, struct.error):
        return False


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_LISTED])
    return shown + (f" (+{len(names) - MAX_LISTED} more)" if len(names) > MAX_LISTED else "")
