"""The CycloneDX ``modelCard`` of a model, from its Hugging Face card and config.json.

Only what the card or config states goes in: a field the card does not fill is left out rather
than guessed. Card sections are matched by words in their headings.
"""

from __future__ import annotations

from typing import Any

from pellucid.bom.facts import ModelFacts

MAX_METRICS = 200

# HF pipeline tags whose input and output formats are plain to see
_IO = {
    "text-generation": ("text", "text"),
    "text2text-generation": ("text", "text"),
    "translation": ("text", "text"),
    "summarization": ("text", "text"),
    "fill-mask": ("text", "text"),
    "text-classification": ("text", "label"),
    "token-classification": ("text", "label"),
    "feature-extraction": ("text", "vector"),
    "sentence-similarity": ("text", "vector"),
    "image-classification": ("image", "label"),
    "object-detection": ("image", "bounding boxes"),
    "text-to-image": ("text", "image"),
    "image-to-text": ("image", "text"),
    "automatic-speech-recognition": ("audio", "text"),
    "text-to-speech": ("text", "audio"),
}

# CycloneDX considerations field -> card heading keywords
CONSIDERATIONS = {
    "users": ("intended users", "users", "audience"),
    "useCases": ("intended use", "uses", "use case"),
    "technicalLimitations": ("limitation",),
    "performanceTradeoffs": ("tradeoff", "trade-off"),
}


def model_card(facts: ModelFacts, dataset_refs: list[str]) -> dict[str, Any]:
    """The ``modelCard`` object; every part is optional, so what the card lacks is left out."""
    card: dict[str, Any] = {}
    parameters = _parameters(facts, dataset_refs)
    if parameters:
        card["modelParameters"] = parameters
    metrics = [
        {"type": kind, "value": value, **({"slice": where} if where else {})}
        for kind, value, where in performance_metrics(facts)
    ]
    if metrics:
        card["quantitativeAnalysis"] = {"performanceMetrics": metrics}
    considerations = _considerations(facts)
    if considerations:
        card["considerations"] = considerations
    return card


def task(facts: ModelFacts) -> str | None:
    return facts.card_value("pipeline_tag")


def architecture(facts: ModelFacts) -> tuple[str | None, str | None]:
    """(family, architecture) from config.json: ``model_type`` and ``architectures[0]``."""
    family = facts.config.get("model_type")
    names = facts.config.get("architectures")
    first = names[0] if isinstance(names, list) and names else None
    return (
        family if isinstance(family, str) else None,
        first if isinstance(first, str) else None,
    )


def performance_metrics(facts: ModelFacts) -> list[tuple[str, str, str | None]]:
    """(metric type, value as text, dataset) from the card's ``model-index``."""
    index = facts.card.metadata.get("model-index") if facts.card is not None else None
    found: list[tuple[str, str, str | None]] = []
    for entry in index if isinstance(index, list) else []:
        results = entry.get("results") if isinstance(entry, dict) else None
        for result in results if isinstance(results, list) else []:
            if not isinstance(result, dict):
                continue
            dataset = result.get("dataset")
            where = dataset.get("name") if isinstance(dataset, dict) else None
            metrics = result.get("metrics")
            for metric in metrics if isinstance(metrics, list) else []:
                if isinstance(metric, dict) and metric.get("value") is not None:
                    kind = metric.get("type") or metric.get("name") or "metric"
                    where_text = str(where) if where is not None else None
                    found.append((str(kind), str(metric["value"]), where_text))
    return found[:MAX_METRICS]


def _parameters(facts: ModelFacts, dataset_refs: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    pipeline = task(facts)
    if pipeline:
        params["task"] = pipeline
    family, arch = architecture(facts)
    if family:
        params["architectureFamily"] = family
    if arch:
        params["modelArchitecture"] = arch
    if dataset_refs:
        params["datasets"] = [{"ref": ref} for ref in dataset_refs]
    io = _IO.get(pipeline or "")
    if io:
        params["inputs"] = [{"format": io[0]}]
        params["outputs"] = [{"format": io[1]}]
    return params


def _considerations(facts: ModelFacts) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for field, keywords in CONSIDERATIONS.items():
        text = facts.card_text(*keywords)
        if text:
            found[field] = [text]
    ethics = facts.card_text("ethic", "risk", "bias")
    if ethics:
        found["ethicalConsiderations"] = [{"name": ethics}]
    fairness = facts.card_text("fairness")
    if fairness:
        # the card's prose does not split into group / benefit / harm; keep it whole
        found["fairnessAssessments"] = [{"harms": fairness}]
    return found
