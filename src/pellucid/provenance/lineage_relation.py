"""The relation to the base that the files themselves show, whatever the card says.

An adapter folder has adapter_config.json (PEFT); a merge has a mergekit configuration or
several GGUF base models; quantised weights have GGML block types in their headers (read by
the resources analysis) or a ``quantization_config`` in config.json (GPTQ, AWQ,
bitsandbytes). Strongest first: an adapter of a quantised model is still an adapter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from pellucid.modelanalysis import SectionResult
from pellucid.modelfiles import ModelFiles
from pellucid.provenance.lineage_sources import Ancestor
from pellucid.provenance.tensors import BITS

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", "adapter_model.bin")


def structural_relation(
    model: ModelFiles, earlier: Mapping[str, SectionResult], links: Sequence[Ancestor]
) -> tuple[str, str] | None:
    """(relation, the evidence in words), or None when the files show nothing."""
    adapter = model.named(*ADAPTER_FILES)
    if adapter:
        return "adapter", f"{adapter[0].path} is present"
    merge = next((link for link in links if link.source == "mergekit"), None)
    if merge is not None:
        return "merge", f"{merge.file} is a mergekit configuration"
    gguf_bases = {link.name for link in links if link.source == "gguf" and link.relation == "merge"}
    if len(gguf_bases) > 1:
        return "merge", f"the GGUF metadata names {len(gguf_bases)} base models"
    quantised = _quantised_dtypes(earlier)
    if quantised:
        return "quantized", f"the weights are quantised ({', '.join(quantised[:4])})"
    method = _quantization_method(model)
    if method is not None:
        return "quantized", f"config.json has a quantization_config ({method})"
    return None


def _quantised_dtypes(earlier: Mapping[str, SectionResult]) -> list[str]:
    result = earlier.get("resources")
    dtypes = getattr(result.value, "dtypes", None) if result is not None else None
    if not isinstance(dtypes, Mapping):
        return []
    return sorted(d for d in dtypes if isinstance(d, str) and d not in BITS and dtypes[d])


def _quantization_method(model: ModelFiles) -> str | None:
    config = next(iter(model.named("config.json")), None)
    text = model.text(config) if config is not None else None
    try:
        document = json.loads(text) if text is not None else None
    except (ValueError, RecursionError):
        return None
    settings = document.get("quantization_config") if isinstance(document, dict) else None
    if not isinstance(settings, dict):
        return None
    method = settings.get("quant_method")
    return str(method)[:40] if method else "method not stated"
