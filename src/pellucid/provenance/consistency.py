"""Cheap cross-checks of weight headers against the model's configuration (PCL-PRV-003).

Two facts are checked where both sides state them: the number of layers (config.json
``num_hidden_layers`` / GGUF ``<arch>.block_count`` against the distinct ``layers.N`` indices
in tensor names) and the embedding shape (``vocab_size`` x ``hidden_size`` against the token
embedding tensor). Weights that disagree with their config were renamed, pruned, swapped or
belong to another model; loaders may still accept them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from pellucid.formats.hf_config import position
from pellucid.model import Confidence, Evidence, Finding, Rule, Severity
from pellucid.modelfiles import ModelFiles
from pellucid.provenance.tensors import Inventory

HEADERS_DISAGREE = Rule(
    id="PCL-PRV-003",
    title="Weight headers disagree with the model configuration",
    severity=Severity.LOW,
    cwe=None,
    description=(
        "The tensors declared in the weight file headers do not match what config.json or "
        "the GGUF metadata says about the model: a different number of layers, or a token "
        "embedding of another size. The weights may belong to another model, be pruned or be "
        "mislabelled, and the stated size and lineage of the model are then in doubt."
    ),
    remediation=(
        "Compare the weights with the upstream release (hashes, tensor lists) before use, "
        "and ask the publisher which configuration the weights were trained with."
    ),
    references=(
        "https://github.com/huggingface/safetensors#format",
        "https://github.com/ggml-org/ggml/blob/master/docs/gguf.md",
    ),
    confidence=Confidence.MEDIUM,
)

_LAYER = re.compile(r"^(?P<prefix>(?:.*\.)?(?:layers|layer|h|blocks|block|blk))\.(?P<i>\d+)\.")
_EMBEDDING = re.compile(r"(?:^|\.)(?:embed_tokens|wte|word_embeddings|tok_embeddings)\.weight$")
LAYER_KEYS = ("num_hidden_layers", "n_layer", "num_layers")
HIDDEN_KEYS = ("hidden_size", "n_embd", "d_model")


@dataclass(frozen=True, slots=True)
class Claim:
    """A number stated by a configuration, with where it was stated."""

    key: str
    value: int
    evidence: Evidence


def layer_count(inventories: list[Inventory]) -> tuple[int, str] | None:
    """(distinct layer indices, name pattern) when all layer tensors share one prefix."""
    prefixes: dict[str, set[int]] = {}
    for inventory in inventories:
        for record in inventory.tensors:
            match = _LAYER.match(record.name)
            if match:
                prefixes.setdefault(match["prefix"], set()).add(int(match["i"]))
    if len(prefixes) != 1:
        return None  # several stacks (encoder/decoder, vision tower): not comparable cheaply
    prefix, indices = next(iter(prefixes.items()))
    return len(indices), f"{prefix}.N"


def config_findings(model: ModelFiles, inventories: list[Inventory]) -> Iterator[Finding]:
    """Compare top-level config.json with the top-level safetensors/ONNX tensor names."""
    claims = _config_claims(model)
    named = [inv for inv in inventories if inv.format in ("safetensors", "onnx")]
    if not claims or not named:
        return
    files = ", ".join(sorted({inv.file for inv in named}))[:200]
    layers = next((c for c in claims if c.key in LAYER_KEYS), None)
    found = layer_count(named)
    if layers is not None and found is not None and found[0] != layers.value:
        detail = f"{layers.key} = {layers.value}, but {files} hold {found[0]} layers ({found[1]})"
        yield HEADERS_DISAGREE.finding(layers.evidence, detail)
    vocab = next((c for c in claims if c.key == "vocab_size"), None)
    hidden = next((c for c in claims if c.key in HIDDEN_KEYS), None)
    if vocab is None or hidden is None:
        return
    for inventory in named:
        for record in inventory.tensors:
            if _EMBEDDING.search(record.name) and len(record.shape) == 2:
                if record.shape != (vocab.value, hidden.value):
                    detail = (
                        f"{vocab.key} x {hidden.key} = {vocab.value} x {hidden.value}, but "
                        f"{record.name} in {inventory.file} is {list(record.shape)}"
                    )
                    yield HEADERS_DISAGREE.finding(vocab.evidence, detail)
                return


def _config_claims(model: ModelFiles) -> list[Claim]:
    config = next(iter(model.named("config.json")), None)
    text = model.text(config) if config is not None else None
    if config is None or text is None:
        return []
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return []
    if not isinstance(document, dict):
        return []
    raw = text.encode()
    claims = []
    for key in (*LAYER_KEYS, *HIDDEN_KEYS, "vocab_size"):
        value = document.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            line, _ = position(raw, key)
            evidence = Evidence(config.path, line=line, snippet=f'"{key}": {value}')
            claims.append(Claim(key, value, evidence))
    return claims


def gguf_findings(inventory: Inventory) -> Iterator[Finding]:
    """``<arch>.block_count`` and ``<arch>.embedding_length`` against the tensor infos."""
    arch = inventory.metadata.get("general.architecture")
    if not isinstance(arch, str):
        return
    blocks = inventory.metadata.get(f"{arch}.block_count")
    found = layer_count([inventory])
    if isinstance(blocks, int) and found is not None and found[0] != blocks:
        snippet = f"{arch}.block_count = {blocks}"
        detail = f"{snippet}, but the tensor infos hold {found[0]} blocks ({found[1]})"
        yield HEADERS_DISAGREE.finding(Evidence(inventory.file, snippet=snippet), detail)
    width = inventory.metadata.get(f"{arch}.embedding_length")
    embedding = next((t for t in inventory.tensors if t.name == "token_embd.weight"), None)
    if isinstance(width, int) and embedding is not None and embedding.shape[:1] != (width,):
        snippet = f"{arch}.embedding_length = {width}"
        detail = f"{snippet}, but token_embd.weight is {list(embedding.shape)}"
        yield HEADERS_DISAGREE.finding(Evidence(inventory.file, snippet=snippet), detail)
