"""Generated model folders for the openness tests (no downloads, no real weights)."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from types import SimpleNamespace

from pellucid.modelanalysis import SectionResult
from pellucid.modelfiles import ModelFiles

LONG = (
    "The model was trained on a public corpus of English text assembled from books, code, web "
    "pages and academic papers. Documents were deduplicated and filtered for quality before "
    "tokenisation; the datasheet describes sources, sizes and licences of every part."
)

PYTHIA_CARD = f"""---
license: apache-2.0
language: en
library_name: transformers
datasets:
- EleutherAI/pile
tags:
- arxiv:2304.01373
model-index:
- name: pythia-tiny
  results:
  - task: {{type: text-generation}}
    dataset: {{type: lambada_openai, name: LAMBADA}}
    metrics: [{{type: accuracy, value: 0.5}}]
---
# Pythia-tiny

Pythia-tiny is a fully open source language model for interpretability research.

## Model Details

Paper: https://arxiv.org/abs/2304.01373 (research paper describing the suite).
{LONG}

## Training Data

{LONG}

## Training procedure

Training code: https://github.com/EleutherAI/gpt-neox used for training every model.
Intermediate checkpoints are published every 1000 steps as branches (revision step1000).
{LONG}

## Evaluation

| task | accuracy |
|------|----------|
| LAMBADA | 0.50 |

Evaluated with lm-evaluation-harness. {LONG}

## How to use

```python
from transformers import AutoModelForCausalLM
model = AutoModelForCausalLM.from_pretrained("pythia-tiny")
out = model.generate(input_ids)
```

{LONG}
"""

LLAMA_CARD = """---
license: llama3.1
extra_gated_prompt: "You agree to the Llama 3.1 Community License"
base_model: meta-llama/Llama-3.1-8B
---
# Llama-3.1-8B-Instruct

An open source model from Meta.
"""


def safetensors_bytes() -> bytes:
    header = json.dumps({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
    header += b" " * (-len(header) % 8)
    return struct.pack("<Q", len(header)) + header + b"\x00\x00\x80\x3f"


def write(root: Path, files: dict[str, str | bytes]) -> ModelFiles:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return ModelFiles.scan_folder(root)


def pythia_folder(root: Path) -> ModelFiles:
    """Everything MOF asks for, in the folder or linked from the card."""
    weights = safetensors_bytes()
    return write(
        root,
        {
            "README.md": PYTHIA_CARD,
            "config.json": json.dumps({"architectures": ["GPTNeoXForCausalLM"]}),
            "generation_config.json": "{}",
            "model.safetensors": weights,
            "checkpoint-1000/model.safetensors": weights,
            "modeling_tiny.py": "import torch.nn as nn\nclass Tiny(nn.Module):\n    pass\n",
            "train.py": "def step(model, batch):\n    loss = model(batch)\n    loss.backward()\n",
            "evaluate_lambada.py": "import lm_eval\n",
            "preprocess_pile.py": "def clean(text):\n    return text.strip()\n",
            "data/train.jsonl": '{"text": "hello"}\n',
            "eval/lambada.jsonl": '{"text": "world"}\n',
            "requirements.txt": "torch\n",
            "DATASHEET.md": LONG,
            "pythia_paper.pdf": b"%PDF-1.4\n%\xe2\xe3\n",
            "samples/generation.txt": "Once upon a time\n",
        },
    )


def card_only_folder(root: Path, card: str) -> ModelFiles:
    return write(root, {"README.md": card, "model.safetensors": safetensors_bytes()})


def license_result(primary: str | None, **scopes: str | None) -> dict[str, SectionResult]:
    """What the licence analysis hands on: ``.primary`` and ``.scopes`` (a duck-typed fake)."""
    value = SimpleNamespace(primary=primary, scopes=scopes)
    return {"license": SectionResult(data={}, value=value)}
