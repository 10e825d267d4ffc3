"""Hugging Face repositories: configs that pull in custom code, chat templates, LFS pointers.

``HfConfigScanner`` reads every JSON file but parses only those that look like Hugging Face
configs (by name, or by a cheap byte search for their keys). ``LfsPointerScanner`` reports
weights that were never downloaded. The folder-level checks live in ``hf_repo``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from pellucid.formats import hf_config
from pellucid.formats.hf_config import CodeRef
from pellucid.model import Artifact, FileKind, Finding, Rule, Severity
from pellucid.scanners.base import ScanContext, ScanResult
from pellucid.scanners.chat_template import TEMPLATE_RULES, template_findings
from pellucid.scanners.hf_repo import HfRepoAnalyzer
from pellucid.scanners.hf_rules import (
    CODE_LEAVES_REPO,
    CONFIG_RULES,
    CUSTOM_CODE,
    DUPLICATE_KEY,
    INVALID_CONFIG,
    OTHER_REPO_CODE,
    TRUSTS_REMOTE_CODE,
)
from pellucid.scanners.lfs import LfsPointerScanner
from pellucid.source import ByteSource

__all__ = ["HfConfigScanner", "HfRepoAnalyzer", "LfsPointerScanner"]

_SNIPPET = 200
# Duplicates of these keys change what runs; others only change what is loaded.
_SENSITIVE_KEYS = frozenset(
    {
        "auto_map",
        "chat_template",
        "trust_remote_code",
        "custom_pipelines",
        "tokenizer_class",
        "processor_class",
        "model_type",
        "architectures",
        "_class_name",
        "template",
    }
)


class HfConfigScanner:
    """transformers / diffusers configs: custom code references, trust flags, chat templates."""

    id: ClassVar[str] = "hf-config"
    rules: ClassVar[tuple[Rule, ...]] = (*CONFIG_RULES, *TEMPLATE_RULES)

    def accepts(self, kind: FileKind) -> bool:
        return kind is FileKind.JSON

    def scan(self, artifact: Artifact, source: ByteSource, ctx: ScanContext) -> ScanResult:
        known = _name(artifact) in hf_config.CONFIG_NAMES
        view = source.view()
        limit = ctx.budget.max_text_bytes
        if source.size > limit:
            if known or hf_config.MARKERS.search(view):
                return ScanResult(
                    incomplete=(
                        f"Hugging Face config of {source.size} bytes exceeds max_text_bytes "
                        f"({limit}); not parsed",
                    )
                )
            return ScanResult(notes=("large JSON without Hugging Face keys; not parsed",))
        if not (known or hf_config.MARKERS.search(view) or hf_config.ESCAPED_KEY_CHAR.search(view)):
            return ScanResult()  # not a Hugging Face config: the common, fast case
        data = source.read()
        try:
            parsed = hf_config.load_json(data)
        except (ValueError, RecursionError) as exc:
            if not known:
                return ScanResult()
            detail = f"{type(exc).__name__}: {str(exc)[:_SNIPPET]}"
            return ScanResult((INVALID_CONFIG.finding(artifact.evidence(), detail),))
        if not isinstance(parsed.value, dict):
            return ScanResult()
        return _Config(artifact, data, parsed.value, parsed.duplicates, ctx).scan()


class _Config:
    """One parsed config and where its findings point."""

    def __init__(
        self,
        artifact: Artifact,
        data: bytes,
        doc: dict[str, object],
        duplicates: tuple[str, ...],
        ctx: ScanContext,
    ) -> None:
        self.artifact = artifact
        self.data = data
        self.doc = doc
        self.duplicates = duplicates
        self.ctx = ctx
        self.findings: list[Finding] = []
        self.incomplete: list[str] = []

    def scan(self) -> ScanResult:
        folder = _folder(self.artifact, self.ctx)
        own_repo = hf_config.repo_id_from_cache_path(self.artifact.path)
        selected = hf_config.selectors(self.doc)
        for ref in hf_config.code_references(self.doc):
            self._code_ref(ref, folder, own_repo, selected)
        for path in hf_config.trust_flags(self.doc):
            self._add(
                TRUSTS_REMOTE_CODE,
                path,
                True,
                "the config asks loaders to run custom code without the user opting in",
            )
        for key in self.duplicates:
            severity = Severity.MEDIUM if key in _SENSITIVE_KEYS else Severity.LOW
            _, first = hf_config.position(self.data, key)
            line, second = hf_config.position(self.data, key, (first or 0) + 1)
            where = self.artifact.evidence(offset=second, line=line, snippet=json.dumps(key))
            self.findings.append(
                DUPLICATE_KEY.finding(
                    where,
                    f"key {key!r} appears more than once; Python keeps the last value, other "
                    "readers the first or neither",
                    severity=severity,
                )
            )
        self._templates()
        return ScanResult(tuple(self.findings), incomplete=tuple(self.incomplete))

    def _code_ref(
        self, ref: CodeRef, folder: Path | None, own_repo: str | None, selected: dict[str, str]
    ) -> None:
        class_name = ref.reference.rpartition(".")[2]
        chosen = [k for k, v in selected.items() if v == class_name]
        note = f"; selected by {', '.join(chosen)}" if chosen else ""
        if ref.repo is not None and ref.repo != own_repo:
            leaves = hf_config.escape_reason(ref.repo)
            where = f"path {ref.repo!r} ({leaves})" if leaves else f"repository {ref.repo}"
            self._add(
                OTHER_REPO_CODE,
                ref.key_path,
                ref.reference,
                f"loading imports {ref.file} from {where}, code that is not in this "
                f"folder and can change after this audit{note}",
            )
            return
        leaves = hf_config.escape_reason(ref.file)
        if leaves is not None:
            self._add(
                CODE_LEAVES_REPO,
                ref.key_path,
                ref.reference,
                f"module file {ref.file} is outside the repository ({leaves}){note}",
            )
            return
        if folder is None:
            state = "not checked (inside an archive)"
        else:
            state = "present" if (folder / ref.file).is_file() else "missing"
        self._add(
            CUSTOM_CODE,
            ref.key_path,
            ref.reference,
            f"loading with trust_remote_code imports {ref.file} ({state}){note}",
        )

    def _add(self, rule: Rule, key_path: str, value: object, detail: str) -> None:
        leaf = key_path.split(".")[-1].split("[")[0]
        line, offset = hf_config.position(self.data, leaf)
        snippet = f"{json.dumps(key_path)}: {json.dumps(value)}"[:_SNIPPET]
        evidence = self.artifact.evidence(offset=offset, line=line, snippet=snippet)
        self.findings.append(rule.finding(evidence, detail))

    def _templates(self) -> None:
        value = self.doc.get("chat_template")
        templates: list[tuple[str, object]] = [("chat_template", value)]
        if isinstance(value, list):
            templates = [
                (
                    f"chat_template[{_template_name(item, i)}]",
                    item.get("template") if isinstance(item, dict) else item,
                )
                for i, item in enumerate(value)
            ]
        _, offset = hf_config.position(self.data, "chat_template")
        evidence = self.artifact.evidence(offset=offset)
        for key_path, text in templates:
            if not isinstance(text, str):
                continue
            found, incomplete = template_findings(text, evidence, self.ctx.budget)
            self.findings.extend(_prefixed(f, key_path) for f in found)
            self.incomplete.extend(incomplete)


def _template_name(item: object, index: int) -> str:
    name = item.get("name") if isinstance(item, dict) else None
    return name if isinstance(name, str) else str(index)


def _prefixed(finding: Finding, key_path: str) -> Finding:
    return replace(finding, detail=f"{key_path}: {finding.detail}")


def _name(artifact: Artifact) -> str:
    shown = artifact.member[-1] if artifact.member else artifact.path
    return shown.replace("\\", "/").rsplit("/", 1)[-1]


def _folder(artifact: Artifact, ctx: ScanContext) -> Path | None:
    """The folder the config sits in as the user sees it (in the HF cache, the snapshot with
    its symlinks, not the blob store); None inside archives."""
    if artifact.member:
        return None
    shown = Path(artifact.path).parent
    if shown.is_dir():
        return shown
    return ctx.disk_path.parent if ctx.disk_path is not None else None
