"""Policy files and baselines: exact allowances, muting keeps the record, bad files explain."""

from __future__ import annotations

from pathlib import Path

import pytest

from pellucid.errors import PolicyError
from pellucid.model import Evidence, Rule, Severity
from pellucid.policy import Baseline, Policy

RULE = Rule("PCL-TST-001", "test", Severity.HIGH, None, "d", "r")


def finding(snippet: str = "x"):  # type: ignore[no-untyped-def]
    return RULE.finding(Evidence("m.pkl", snippet=snippet))


def test_policy_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        '[pickle]\nallow = ["mypkg.models:TinyNet"]\n'
        '[rules]\nignore = ["PCL-TST-002"]\nseverity = { "PCL-TST-001" = "low" }\n'
        '[paths]\nignore = ["*/old/*"]\n'
    )
    policy = Policy.load(path)
    assert policy.allows_global("mypkg.models", "TinyNet")
    assert not policy.allows_global("mypkg.models", "Other")
    assert policy.apply(finding()).severity == Severity.LOW
    assert policy.ignores_path("shelf/old/a.bin")
    assert policy.digest is not None
    assert len(policy.digest) == 64


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[pickle]\nallow = ["os"]\n', "module:qualname"),
        ('[pickle]\nallow = ["os:*"]\n', "module:qualname"),
        ("[nonsense]\n", "unknown section"),
        ("[rules]\nseverity = { X = 'huge' }\n", "unknown severity"),
        ("this is = = not toml", "not valid TOML"),
    ],
)
def test_bad_policy_explains_itself(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(PolicyError, match=message):
        Policy.load(path)


def test_muted_findings_stay_in_the_report() -> None:
    muted = Policy(ignore_rules=frozenset({"PCL-TST-001"})).apply(finding())
    assert muted.suppressed_by == "policy"
    assert not muted.blocking


def test_baseline_is_pinned_to_the_file_digest(tmp_path: Path) -> None:
    f = finding()
    path = tmp_path / "baseline.json"
    path.write_text(Baseline.dump([(f, "aa" * 32)]))
    policy = Policy().with_baseline(Baseline.load(path))
    assert policy.apply(f, "aa" * 32).suppressed_by == "baseline"
    assert policy.apply(f, "bb" * 32).suppressed_by is None  # file changed: finding is back
    assert policy.apply(finding("other"), "aa" * 32).suppressed_by is None


def test_bad_baseline_explains_itself(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text("[1, 2]")
    with pytest.raises(PolicyError, match="not a pellucid baseline"):
        Baseline.load(path)
