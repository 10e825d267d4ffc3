"""Generated model folders and stand-in results of the licence and resources analyses, for
the EU AI Act tests. The stand-ins carry only the fields the regulation analysis documents
that it reads (``pellucid.regulation.facts``)."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path

from pellucid.modelanalysis import SectionResult
from pellucid.modelfiles import ModelFiles


@dataclass(frozen=True)
class StandInTerms:
    art53_foss: str


@dataclass(frozen=True)
class StandInLicense:
    """Like the licence analysis' LicenseAssessment: ``primary`` and its ``terms``."""

    primary: str | None
    terms: StandInTerms | None = None


@dataclass(frozen=True)
class StandInResources:
    """Like the resources analysis' profile: a parameter count."""

    parameters: int | None
    extra: dict[str, int] = field(default_factory=dict)


# What pellucid's licence knowledge says of these ids (terms.art53_foss); the tests use this
# fake instead of the knowledge base so they do not depend on its state.
FOSS = {
    "apache-2.0": "yes",
    "mit": "yes",
    "llama-3.1-community": "no",
    "cc-by-nc-4.0": "no",
    "bigscience-openrail-m": "doubtful",
}


def earlier(licence: str | None, parameters: int | None) -> dict[str, SectionResult]:
    """Results of the analyses that run before "regulation"."""
    terms = StandInTerms(FOSS[licence]) if licence in FOSS else None
    return {
        "license": SectionResult({"primary": licence}, value=StandInLicense(licence, terms)),
        "resources": SectionResult({"parameters": parameters}, value=StandInResources(parameters)),
    }


PYTHIA_CARD = """\
---
license: apache-2.0
language:
- en
datasets:
- EleutherAI/pile
pipeline_tag: text-generation
library_name: transformers
---
# Pythia-7B (test double)

## Model Details
- Developed by: EleutherAI
- Model type: decoder-only Transformer language model
- Released in February 2023 on the Hugging Face Hub.
- Input: text; Output: text. Context length of 2048 tokens.

## Uses

### Intended Use
The model is intended for research on the behaviour, functionality and limitations of large
language models, and can be fine-tuned and deployed in downstream research systems.

### Out-of-Scope Use
It is not intended for deployment as a product or for human-facing interactions.

## How to Get Started
Load the weights with the transformers library, version 4.30 or later, and generate text
from a prompt with the usual causal language modelling interface of the library.

## Training Data
The model was trained on the Pile, an 825 GiB general-purpose English dataset assembled
from academic, web, code and book sources; documents were deduplicated before training.

## Training Procedure
The model was trained for 143000 steps with a batch size of 2M tokens, 300B tokens in total,
using the Adam optimizer with a cosine learning rate schedule on 256 A100 GPUs.

## Evaluation
Results on LAMBADA, PIQA, WinoGrande, ARC and SciQ are reported in the paper, with the
metrics and the evaluation harness used to obtain them described in detail there.

## Limitations
The model may produce socially unacceptable or factually wrong text; it reflects the biases
of its training data and has not been fine-tuned for safety or instruction following.
"""


def write_folder(
    root: Path,
    card: str | None,
    config: dict[str, object] | None = None,
    weights: bool = True,
    extra: dict[str, str] | None = None,
) -> ModelFiles:
    """A model folder on disk: README.md, config.json, a tiny safetensors file, more files."""
    root.mkdir(parents=True, exist_ok=True)
    if card is not None:
        (root / "README.md").write_text(card, encoding="utf-8")
    if config is not None:
        (root / "config.json").write_text(json.dumps(config), encoding="utf-8")
    if weights:
        header = json.dumps({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})
        data = header.encode()
        (root / "model.safetensors").write_bytes(struct.pack("<Q", len(data)) + data + bytes(4))
    for name, text in (extra or {}).items():
        (root / name).write_text(text, encoding="utf-8")
    return ModelFiles.scan_folder(root)


LLAMA_CONFIG: dict[str, object] = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "max_position_embeddings": 131072,
    "transformers_version": "4.43.0",
}
GPT_NEOX_CONFIG: dict[str, object] = {
    "architectures": ["GPTNeoXForCausalLM"],
    "max_position_embeddings": 2048,
    "transformers_version": "4.30.0",
}
