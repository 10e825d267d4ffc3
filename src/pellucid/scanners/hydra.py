"""Hydra ``_target_`` entries in YAML and JSON configs (NeMo, Lightning CLI, diffusers-style).

``hydra.utils.instantiate`` imports and calls whatever dotted name ``_target_`` holds, with
the sibling keys (or ``_args_``) as arguments: a config is a call site. NeMo instantiates the
``model_config.yaml`` inside every ``.nemo`` archive this way (CVE-2025-23304). The config is
read as text and never parsed by a YAML loader, so no tag in it can run either.
"""

from __future__ import annotations

import re
from typing import ClassVar

from pellucid.model import Artifact, Confidence, FileKind, Rule, Severity
from pellucid.scanners.base import ScanContext, ScanResult
from pellucid.scanners.pickle_knowledge import known_gadget
from pellucid.source import ByteSource

_REFERENCES = (
    "https://nvd.nist.gov/vuln/detail/CVE-2025-23304",
    "https://hydra.cc/docs/advanced/instantiate_objects/overview/",
)
GADGET_TARGET = Rule(
    id="PCL-HYD-001",
    title="Config instantiates a known code-execution callable",
    severity=Severity.CRITICAL,
    cwe=94,
    description=(
        "A `_target_` in a Hydra-style config names a callable that runs commands, evaluates "
        "code or reads and writes files (the same gadget list the pickle scanner uses). "
        "Frameworks such as NeMo call `hydra.utils.instantiate` on the config shipped inside "
        "the model, so loading the model calls it with the arguments written next to it."
    ),
    remediation="Do not load the model; a modelling config has no reason to name this callable.",
    references=_REFERENCES,
)
UNKNOWN_TARGET = Rule(
    id="PCL-HYD-002",
    title="Config instantiates a callable outside the modelling allowlist",
    severity=Severity.HIGH,
    cwe=470,
    description=(
        "A `_target_` in a Hydra-style config names a callable outside the modules modelling "
        "frameworks instantiate (NeMo collections, torch.nn and torch.optim, Lightning, "
        "transformers, diffusers, ...). Instantiation imports the module and calls the name, so "
        "an unfamiliar target is code that runs when the model loads."
    ),
    remediation=(
        "Check what the target does before loading the model; if it is your own code, accept "
        "the finding in a baseline."
    ),
    references=_REFERENCES,
    confidence=Confidence.MEDIUM,
)

# Modules whose classes modelling configs are built from. A known gadget inside one of them
# (torch.hub.load, say) is still reported: the gadget check comes first.
MODELLING_PREFIXES = (
    "nemo.collections.",
    "nemo.core.",
    "nemo.lightning.",
    "torch.nn.",
    "torch.optim.",
    "torch.utils.data.",
    "torchmetrics.",
    "lightning.pytorch.",
    "pytorch_lightning.",
    "transformers.",
    "diffusers.",
    "timm.",
    "omegaconf.",
    "peft.",
    "sentencepiece.",
)
_TARGET = re.compile(rb"""["']?_target_["']?[ \t]*:[ \t]*["']?([^\s"',}\]#]+)""")
_MAX_FINDINGS = 50


class HydraConfigScanner:
    """Reads `_target_` call sites out of YAML and JSON configs without loading them."""

    id: ClassVar[str] = "hydra"
    rules: ClassVar[tuple[Rule, ...]] = (GADGET_TARGET, UNKNOWN_TARGET)

    def accepts(self, kind: FileKind) -> bool:
        return kind in (FileKind.TEXT, FileKind.JSON)

    def scan(self, artifact: Artifact, source: ByteSource, ctx: ScanContext) -> ScanResult:
        if source.size > ctx.budget.max_text_bytes:
            reason = f"text larger than {ctx.budget.max_text_bytes} bytes not read for _target_"
            return ScanResult(incomplete=(reason,))
        data = source.read()
        if b"_target_" not in data:
            return ScanResult()
        findings = []
        for match in _TARGET.finditer(data):
            target = match.group(1).decode("utf-8", "replace")
            rule = _judge(target)
            if rule is None:
                continue
            line = data.count(b"\n", 0, match.start()) + 1
            evidence = artifact.evidence(
                line=line, offset=match.start(), snippet=f"_target_: {target}"
            )
            findings.append(rule.finding(evidence, f"instantiating this config calls {target}"))
            if len(findings) >= _MAX_FINDINGS:
                break
        return ScanResult(tuple(findings))


def _judge(target: str) -> Rule | None:
    parts = target.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        if known_gadget(".".join(parts[:cut]), ".".join(parts[cut:])) is not None:
            return GADGET_TARGET
    if target.startswith(MODELLING_PREFIXES) and "__" not in target:
        return None
    return UNKNOWN_TARGET
