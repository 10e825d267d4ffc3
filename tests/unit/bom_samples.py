"""A model folder for the AI-BOM tests: weights, config, a card, a licence text and a hostile
pickle (a canary payload, so the audit has a vulnerability to report)."""

from __future__ import annotations

import json
from pathlib import Path

from canary import Canary, call_pickle
from license_samples import folder, scancode_text, write_safetensors

CARD = """---
license: apache-2.0
base_model: org/base-model
base_model_relation: finetune
pipeline_tag: text-generation
datasets:
- tatsu-lab/alpaca
model-index:
- name: tiny
  results:
  - task: {type: text-generation}
    dataset: {name: hellaswag, type: hellaswag}
    metrics:
    - {type: accuracy, value: 0.61}
---
# tiny

## Intended use

Research on model auditing.

## Training data

Fine-tuned on 52K instructions.

## Limitations

Random weights; answers nothing.

## Ethical considerations

May repeat biases of the base model.
"""


def model_folder(root: Path, canary: Canary, *, license_key: str = "apache-2.0") -> Path:
    """A folder with every kind of fact a BOM carries."""
    text = CARD if license_key == "apache-2.0" else CARD.replace("apache-2.0", "llama3.1")
    path = folder(
        root,
        {
            "README.md": text,
            "LICENSE": scancode_text(license_key),
            "config.json": json.dumps(
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama"}
            ),
            "extra.pkl": call_pickle("os", "system", canary.shell),
        },
    )
    write_safetensors(path / "model.safetensors")
    return path
