"""Rules of the Hugging Face repository checks (area HFR), shared by the config scanner, the
LFS pointer scanner and the folder analyzer."""

from __future__ import annotations

from pellucid.model import Confidence, Rule, Severity

_REMOTE_CODE = "https://huggingface.co/docs/transformers/en/custom_models"
_MALHUG = "https://arxiv.org/abs/2409.09368"
_PICKLE = "https://huggingface.co/docs/hub/security-pickle"
_LFS_SPEC = "https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md"
_REVIEW = (
    "Review every referenced module before enabling trust_remote_code, pin the "
    "revision you reviewed, or use an architecture built into the library."
)

CUSTOM_CODE = Rule(
    id="PCL-HFR-001",
    title="Model needs trust_remote_code: config names custom code",
    severity=Severity.MEDIUM,
    cwe=94,
    description=(
        "An auto_map, custom_pipelines or diffusers component entry points at a Python module "
        "in the repository. Loaders import that module, and run everything at its top level, "
        "when the user passes trust_remote_code. pellucid analyses the module's source "
        "separately (PCL-PY rules); this finding says the model is code, not only data."
    ),
    remediation=_REVIEW,
    references=(_REMOTE_CODE, _MALHUG),
)
OTHER_REPO_CODE = Rule(
    id="PCL-HFR-002",
    title="Config loads custom code from another repository",
    severity=Severity.HIGH,
    cwe=829,
    description=(
        "An auto_map entry has the form 'org/repo--module.Class', so transformers downloads and "
        "imports module.py from a different repository at load time. That code is not part of "
        "the files audited here, and its owner can change it at any moment after the audit."
    ),
    remediation=(
        "Copy the reviewed module into this repository and drop the 'org/repo--' "
        "prefix, or pin code_revision to a reviewed commit."
    ),
    references=(_REMOTE_CODE, _MALHUG),
)
CODE_LEAVES_REPO = Rule(
    id="PCL-HFR-003",
    title="Custom code reference points outside the repository",
    severity=Severity.HIGH,
    cwe=22,
    description=(
        "The module file named by auto_map (or the repository before '--') is an absolute "
        "path, a URL or climbs out with '..'. transformers joins it to the model folder, so "
        "an absolute path makes it import a file from anywhere on the machine."
    ),
    remediation="Do not load the model; custom code must live inside the repository.",
    references=(_REMOTE_CODE, "https://cwe.mitre.org/data/definitions/22.html"),
)
TRUSTS_REMOTE_CODE = Rule(
    id="PCL-HFR-004",
    title="Config switches trust_remote_code on by itself",
    severity=Severity.MEDIUM,
    cwe=94,
    description=(
        "A configuration file sets trust_remote_code to true (for example in the model_kwargs "
        "of a sentence-transformers config). Tools that pass such values through run the "
        "repository's code without the user having opted in."
    ),
    remediation="Remove the flag; the decision to run custom code belongs to the user.",
    references=(_REMOTE_CODE,),
)
DUPLICATE_KEY = Rule(
    id="PCL-HFR-005",
    title="Config repeats a JSON key",
    severity=Severity.MEDIUM,
    cwe=694,
    description=(
        "A key appears twice in one JSON object. Python's json module keeps the last value; "
        "other readers (Rust, JavaScript tooling, the Hub's own viewers) keep the first or "
        "fail. A reviewer and a loader can therefore see different auto_map entries or chat "
        "templates in the same file."
    ),
    remediation="Rewrite the file with each key once.",
    references=("https://cwe.mitre.org/data/definitions/694.html",),
)
INVALID_CONFIG = Rule(
    id="PCL-HFR-006",
    title="Config file is not valid JSON",
    severity=Severity.INFO,
    cwe=20,
    description=(
        "A file that loaders read as configuration (config.json, tokenizer_config.json, ...) "
        "does not parse as JSON, or nests absurdly deep. Loading fails, so nothing in it runs, "
        "but the model is not usable as published."
    ),
    remediation="Obtain the file again from the publisher.",
)
LFS_POINTER = Rule(
    id="PCL-HFR-007",
    title="Weights not downloaded (Git LFS pointer)",
    severity=Severity.LOW,
    cwe=None,
    description=(
        "The file is a Git LFS pointer (version, oid sha256, size) instead of the content it "
        "stands for, typically because the repository was cloned without git-lfs. The real "
        "file was not audited; the pointer's oid identifies what to fetch and verify."
    ),
    remediation="Fetch the content (git lfs pull) and audit again before loading the model.",
    references=(_LFS_SPEC,),
)
LFS_MALFORMED = Rule(
    id="PCL-HFR-008",
    title="Git LFS pointer is malformed or carries extra content",
    severity=Severity.MEDIUM,
    cwe=436,
    description=(
        "A file begins like a Git LFS pointer but breaks the pointer format (missing or bad "
        "oid or size, lines out of order) or continues past the pointer text. git-lfs treats "
        "files over 1024 bytes as content, and zip readers such as Python's zipfile (used for "
        "Keras .keras files) find an archive at the end of a file, so text that looks "
        "like a harmless pointer can front real content; that content is scanned as a member."
    ),
    remediation="Fetch the file again with git-lfs; do not load it as it is.",
    references=(_LFS_SPEC,),
    confidence=Confidence.MEDIUM,
)
PICKLE_ONLY = Rule(
    id="PCL-HFR-009",
    title="Pickle weights where safetensors is customary",
    severity=Severity.LOW,
    cwe=502,
    description=(
        "The folder's weights exist only as pickle-based files (pytorch_model.bin, .pt, .pth, "
        ".ckpt, .pkl) and no safetensors file is present. Loading them unpickles, which can "
        "run code; pellucid's pickle analysis applies, but a safetensors copy removes the risk "
        "altogether."
    ),
    remediation="Ask for, or convert to, safetensors weights and load those instead.",
    references=(_PICKLE,),
)
PICKLE_BESIDE_SAFETENSORS = Rule(
    id="PCL-HFR-010",
    title="Pickle weights next to safetensors",
    severity=Severity.INFO,
    cwe=502,
    description=(
        "The folder holds both safetensors and pickle-based weights. Loaders prefer "
        "safetensors, but the pickle files still load with use_safetensors=False or through "
        "tools that only know the .bin names."
    ),
    remediation="Delete the pickle copies if nothing needs them.",
    references=(_PICKLE,),
)
CODE_MISSING = Rule(
    id="PCL-HFR-011",
    title="Custom code named by a config is missing",
    severity=Severity.MEDIUM,
    cwe=829,
    description=(
        "A config names a module for trust_remote_code (auto_map, custom_pipelines, diffusers "
        "components) that is not in the folder. Loading by repository id downloads it at load "
        "time, so code that nobody audited would run."
    ),
    remediation="Download the complete repository and audit it again before loading.",
    references=(_REMOTE_CODE,),
)
UNREFERENCED_CODE = Rule(
    id="PCL-HFR-012",
    title="Python files in a model folder that no config uses",
    severity=Severity.INFO,
    cwe=None,
    description=(
        "The model folder contains .py files but no config maps classes to them, so loading "
        "the model does not need them. Code shipped with weights invites users to run it; it "
        "is analysed by the PCL-PY rules like any other source."
    ),
    remediation="Remove code the model does not need, or document why it is there.",
    references=(_MALHUG,),
)
SHARD_MISSING = Rule(
    id="PCL-HFR-013",
    title="Sharded index names a missing shard",
    severity=Severity.LOW,
    cwe=None,
    description=(
        "A *.index.json weight_map names a shard file that is not in the folder, or the map is "
        "malformed. The model cannot load from this folder as it is, and the absent shard "
        "could not be audited."
    ),
    remediation="Download the missing shards and audit the folder again.",
)
SHARD_LEAVES_FOLDER = Rule(
    id="PCL-HFR-014",
    title="Sharded index points outside the model folder",
    severity=Severity.HIGH,
    cwe=22,
    description=(
        "A weight_map entry is an absolute path, a URL or contains '..'. transformers joins "
        "shard names to the model folder, so loading reads (and for pickle shards, unpickles) "
        "a file outside the audited folder."
    ),
    remediation="Do not load the model; shard names must be plain file names in the folder.",
    references=("https://cwe.mitre.org/data/definitions/22.html",),
)

CONFIG_RULES: tuple[Rule, ...] = (
    CUSTOM_CODE,
    OTHER_REPO_CODE,
    CODE_LEAVES_REPO,
    TRUSTS_REMOTE_CODE,
    DUPLICATE_KEY,
    INVALID_CONFIG,
)
LFS_RULES: tuple[Rule, ...] = (LFS_POINTER, LFS_MALFORMED)
REPO_RULES: tuple[Rule, ...] = (
    PICKLE_ONLY,
    PICKLE_BESIDE_SAFETENSORS,
    CODE_MISSING,
    UNREFERENCED_CODE,
    SHARD_MISSING,
    SHARD_LEAVES_FOLDER,
)
