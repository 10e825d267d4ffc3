"""Hydra `_target_` call sites in configs: gadgets critical, unknown callables high."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canary import Canary
from pellucid.model import Artifact, FileKind
from pellucid.scanners.base import ScanContext
from pellucid.scanners.hydra import HydraConfigScanner
from pellucid.source import ByteSource


def scan(text: str) -> list[tuple[str, int | None, str]]:
    data = text.encode()
    artifact = Artifact("model_config.yaml", FileKind.TEXT, len(data))
    result = HydraConfigScanner().scan(artifact, ByteSource(data), ScanContext())
    return [(f.rule_id, f.evidence.line, f.evidence.snippet) for f in result.findings]


def test_gadget_target_in_block_yaml(canary: Canary) -> None:
    text = f"model:\n  encoder:\n    _target_: subprocess.run\n    args: ['{canary.shell}']\n"
    assert scan(text) == [("PCL-HYD-001", 3, "_target_: subprocess.run")]


@pytest.mark.parametrize(
    "text",
    [
        "x: {_target_: os.system, _args_: [id]}\n",  # flow style
        '{"x": {"_target_": "os.system"}}',  # JSON
        "x:\n  '_target_': \"os.system\"  # quoted\n",
        "- _target_: os.system\n",  # list item
    ],
)
def test_target_spellings(text: str) -> None:
    assert [rule for rule, _, _ in scan(text)] == ["PCL-HYD-001"]


def test_unknown_target_is_high() -> None:
    assert scan("a:\n  _target_: mypkg.tools.Downloader\n") == [
        ("PCL-HYD-002", 2, "_target_: mypkg.tools.Downloader")
    ]


def test_modelling_targets_pass() -> None:
    text = (
        "encoder:\n  _target_: nemo.collections.asr.modules.ConformerEncoder\n"
        "optim:\n  _target_: torch.optim.AdamW\n"
        "loss:\n  _target_: torch.nn.CrossEntropyLoss\n"
    )
    assert scan(text) == []


def test_gadget_under_a_modelling_prefix_is_still_reported() -> None:
    assert [r for r, _, _ in scan("x:\n  _target_: torch.hub.load\n")] != []


def test_dunder_walk_is_not_a_modelling_target() -> None:
    text = "x:\n  _target_: torch.nn.Module.__init__.__globals__\n"
    assert [r for r, _, _ in scan(text)] == ["PCL-HYD-002"]


def test_text_without_targets_is_quick_and_clean() -> None:
    assert scan("# A model card\n\nNothing to instantiate here.\n") == []


@settings(max_examples=150, deadline=500)
@given(st.text(max_size=2000))
def test_random_text_never_raises(text: str) -> None:
    scan("_target_: " + text)
