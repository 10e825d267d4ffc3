"""Inventory of the MOF components a model folder holds, each with its evidence and licence.

Files are sorted into components by content kind (weights), by name and folder (scripts,
checkpoints, data files, papers) and, for Python files, by a few telling calls read from a
bounded head of the text (never imported or parsed as code). The model card adds what it
includes (evaluation results, a data section, a usage example) and what it only links to.
Each component ends up ``included`` (in the folder), ``referenced`` (named or linked only) or
``absent``.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from pellucid.formats.modelcard import ModelCard
from pellucid.model import FileKind
from pellucid.modelfiles import ModelFile, ModelFiles
from pellucid.openness.card_clues import INCLUDED, REFERENCED, Clue, card_clues
from pellucid.openness.mof import BY_ID, COMPONENTS, DATA, DOCUMENT, is_open

MAX_EVIDENCE = 5
MAX_CODE_FILES = 64
CODE_HEAD = 256 * 1024
_WEIGHT_KINDS = {
    FileKind.SAFETENSORS,
    FileKind.GGUF,
    FileKind.ONNX,
    FileKind.SAVED_MODEL,
    FileKind.TF_GRAPH,
    FileKind.TORCH_LEGACY,
}
_TORCH_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".h5", ".keras", ".npy", ".npz")
_STEP_DIR = re.compile(r"(?:^|/)(?:checkpoint|step|global_step|epoch|ckpt|iter)[-_]?\d+/", re.I)
_NUMBERED = re.compile(r"(?:epoch|step|ckpt|iter)[-_]?\d+", re.I)
_OPTIMIZER = re.compile(r"^optimizer|^scheduler|^rng_state|^scaler", re.I)
_METADATA = {
    "config.json",
    "generation_config.json",
    "training_args.json",
    "training_args.bin",
    "trainer_state.json",
    "tokenizer_config.json",
    "params.json",
    "hparams.yaml",
}
_SUPPORT = {"requirements.txt", "setup.py", "pyproject.toml", "environment.yml", "dockerfile"}
_DATA_SUFFIXES = (".jsonl", ".csv", ".tsv", ".parquet", ".arrow", ".jsonl.gz", ".json.gz")
_DATA_DIR = re.compile(r"(?:^|/)(?:data|datasets?|corpus)/", re.I)
_EVAL_DIR = re.compile(r"(?:^|/)(?:eval\w*|test\w*|benchmarks?)/", re.I)
_SAMPLE_DIR = re.compile(r"(?:^|/)(?:samples?|outputs?|generations)/", re.I)
_CODE_SUFFIXES = (".py", ".ipynb", ".sh")
_BY_NAME: tuple[tuple[int, re.Pattern[str]], ...] = (
    (9, re.compile(r"^(?:modeling_|configuration_|model\.py$|architecture)", re.I)),
    (7, re.compile(r"^(?:train|pretrain|finetune|fine_tune|sft|dpo|rlhf|run_clm|run_mlm)", re.I)),
    (8, re.compile(r"^(?:infer|inference|generate|predict|demo|chat|serve|app\.py$)", re.I)),
    (18, re.compile(r"^(?:eval|evaluate|evaluation|benchmark)", re.I)),
    (16, re.compile(r"(?:preprocess|prepare_data|data_prep|clean|dedup|tokeni[sz]e_data)", re.I)),
)
_BY_CALL: tuple[tuple[int, re.Pattern[str]], ...] = (
    (7, re.compile(r"\.backward\(|optimizer\.step\(|\bTrainer\(|\bSFTTrainer\(")),
    (8, re.compile(r"\.generate\(|\bpipeline\(")),
    (18, re.compile(r"\bimport lm_eval\b|\bfrom lm_eval\b|\bevaluate\.load\(")),
    (9, re.compile(r"class \w+\((?:nn\.Module|PreTrainedModel)\)")),
)
_LICENSE_SCOPE = {10: "weights", 24: "weights"}


@dataclass(frozen=True, slots=True)
class LicenseScopes:
    """Licence ids by what they cover, as the licence assessment decided them."""

    primary: str | None = None
    weights: str | None = None
    code: str | None = None
    data: str | None = None
    documentation: str | None = None

    def for_component(self, cid: int) -> str | None:
        kind = BY_ID[cid].content_type
        scope = _LICENSE_SCOPE.get(cid) or {DATA: "data", DOCUMENT: "documentation"}.get(kind)
        value: str | None = getattr(self, scope or "code")
        return value or self.primary


@dataclass(frozen=True, slots=True)
class InventoryItem:
    """One MOF component of the folder."""

    cid: int
    status: str  # included | referenced | absent
    evidence: tuple[Clue, ...]
    license: str | None  # None: unknown (absent, referenced only, or no licence found)

    @property
    def name(self) -> str:
        return BY_ID[self.cid].name

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.cid,
            "name": self.name,
            "class": BY_ID[self.cid].mof_class,
            "required": BY_ID[self.cid].required,
            "status": self.status,
            "license": self.license,
            "path": self.evidence[0].file if self.status == INCLUDED else None,
            "evidence": [
                {"file": c.file, "line": c.line, "snippet": c.snippet, "status": c.status}
                for c in self.evidence
            ],
        }


def inventory(
    model: ModelFiles, card: ModelCard | None, scopes: LicenseScopes
) -> tuple[InventoryItem, ...]:
    """The 17 MOF components of ``model``, in MOF order, with evidence and licence."""
    clues: dict[int, list[Clue]] = {c.cid: [] for c in COMPONENTS}
    for clue in [*file_clues(model), *(card_clues(card) if card else ())]:
        if all((c.file, c.line) != (clue.file, clue.line) for c in clues[clue.cid]):
            clues[clue.cid].append(clue)
    items = []
    for component in COMPONENTS:
        found = sorted(clues[component.cid], key=lambda c: (c.status != INCLUDED, c.file))
        status = found[0].status if found else "absent"
        license_id = scopes.for_component(component.cid) if status == INCLUDED else None
        items.append(InventoryItem(component.cid, status, tuple(found[:MAX_EVIDENCE]), license_id))
    return tuple(items)


def file_clues(model: ModelFiles) -> Iterator[Clue]:
    """Components shown by the files themselves."""
    weights = [f for f in model.files if _is_weights(f)]
    numbered = [f for f in weights if _NUMBERED.search(f.name) and not _STEP_DIR.search(f.rel)]
    for file in weights:
        if file.kind is FileKind.LFS_POINTER:
            yield Clue(10, REFERENCED, file.path, None, "Git LFS pointer: weights not present")
        elif _STEP_DIR.search(file.rel) or (len(numbered) > 1 and file in numbered[:-1]):
            yield Clue(24, INCLUDED, file.path, None, f"checkpoint weights ({file.kind.value})")
        else:
            yield Clue(10, INCLUDED, file.path, None, f"weights ({file.kind.value})")
    code = 0
    for file in model.files:
        yield from _named_clues(file)
        if file.name == "config.json" and file.top_level:
            text = model.text(file) or ""
            if '"architectures"' in text or '"model_type"' in text:
                snippet = "config.json names the architecture; its code is in a library"
                yield Clue(9, REFERENCED, file.path, None, snippet)
        if file.name.lower().endswith(_CODE_SUFFIXES) and code < MAX_CODE_FILES:
            code += 1
            yield from _code_clues(model, file)


def _is_weights(file: ModelFile) -> bool:
    name = file.name.lower()
    if file.kind is FileKind.LFS_POINTER:
        return name.endswith((".safetensors", ".gguf", ".onnx", *_TORCH_SUFFIXES))
    if _OPTIMIZER.match(name) or name == "training_args.bin":
        return False
    if file.kind in _WEIGHT_KINDS:
        return True
    torch_like = {FileKind.PICKLE, FileKind.ZIP, FileKind.HDF5, FileKind.NUMPY}
    return file.kind in torch_like and name.endswith(_TORCH_SUFFIXES)


def _named_clues(file: ModelFile) -> Iterator[Clue]:
    name, rel = file.name.lower(), file.rel
    if name in _METADATA or (_OPTIMIZER.match(name) and not name.endswith(".py")):
        yield Clue(17, INCLUDED, file.path, None, file.name)
    if name in _SUPPORT or name.startswith("requirements"):
        yield Clue(22, INCLUDED, file.path, None, file.name)
    if name.endswith(".pdf"):
        cid = 11 if re.search(r"report|tech", name) else 21
        yield Clue(cid, INCLUDED, file.path, None, file.name)
    if re.match(r"(?:datasheet|data_card|datacard)", name):
        yield Clue(14, INCLUDED, file.path, None, file.name)
    if re.match(r"(?:eval_results|results)\w*\.json$", name) or ".eval_results/" in rel:
        yield Clue(12, INCLUDED, file.path, None, file.name)
    if _SAMPLE_DIR.search(rel) and not name.endswith(_CODE_SUFFIXES):
        yield Clue(20, INCLUDED, file.path, None, file.name)
    data_file = name.endswith(_DATA_SUFFIXES) or (
        _DATA_DIR.search(rel) is not None and name.endswith((".json", ".txt"))
    )
    if data_file:
        cid = 19 if _EVAL_DIR.search(rel) else 15
        yield Clue(cid, INCLUDED, file.path, None, file.name)


def _code_clues(model: ModelFiles, file: ModelFile) -> Iterator[Clue]:
    stem = file.name
    folder = posixpath.dirname(file.rel).lower()
    found = {cid for cid, pattern in _BY_NAME if pattern.search(stem)}
    if re.search(r"(?:^|/)train", folder):
        found.add(7)
    if _EVAL_DIR.search(folder + "/"):
        found.add(18)
    for cid in sorted(found):
        yield Clue(cid, INCLUDED, file.path, None, f"{file.name} (by name)")
    text = model.text(file, limit=CODE_HEAD) if file.size <= CODE_HEAD else None
    for cid, pattern in _BY_CALL:
        match = pattern.search(text) if text and cid not in found else None
        if match:
            line = text.count("\n", 0, match.start()) + 1 if text else None
            yield Clue(cid, INCLUDED, file.path, line, match.group(0))


def scopes_from(assessment: object, to_spdx: Callable[[str], str] = str) -> LicenseScopes:
    """``LicenseScopes`` from a licence assessment (duck-typed: ``.primary`` and ``.scopes``).

    ``to_spdx`` turns a licence id into its SPDX id when it has one.
    """
    if assessment is None:
        return LicenseScopes()
    raw = getattr(assessment, "scopes", None)
    scopes = raw if isinstance(raw, Mapping) else {}

    def one(value: object) -> str | None:
        text = value if isinstance(value, str) else getattr(value, "id", None)
        return to_spdx(text) if isinstance(text, str) and text else None

    def pick(value: object) -> str | None:
        if not isinstance(value, list | tuple):
            return one(value)
        found = [x for x in (one(v) for v in value) if x is not None]
        # one MOT licence per component: of several, the least open one, so as not to overclaim
        return next((x for x in found if not is_open(x)), found[0] if found else None)

    return LicenseScopes(
        primary=pick(getattr(assessment, "primary", None)),
        weights=pick(scopes.get("weights")),
        code=pick(scopes.get("code")),
        data=pick(scopes.get("data")),
        documentation=pick(scopes.get("documentation")),
    )
