"""The JSON report: schema-valid, deterministic, and readable back."""

from __future__ import annotations

import copy
import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pellucid.model import REPORT_SCHEMA_VERSION, FileKind
from pellucid.render.json import render_json, report_from_dict, report_to_dict
from render_samples import SHA, clean_report, incomplete_report, rich_report

SCHEMA_PATH = Path(__file__).parents[2] / "docs" / "report-schema.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("make", [rich_report, clean_report, incomplete_report])
def test_rendered_report_matches_schema(validator: Any, make: Any) -> None:
    validator.validate(json.loads(render_json(make())))


def _broken(mutate: Any) -> dict[str, Any]:
    data = copy.deepcopy(report_to_dict(rich_report()))
    mutate(data)
    return data


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("coverage"),
        lambda d: d["findings"][0].update(severity="severe"),
        lambda d: d["findings"][0]["evidence"].update(offset=-1),
        lambda d: d["coverage"][0].update(sha256="not-a-hash"),
        lambda d: d["coverage"][0].update(status="clean"),
        lambda d: d["summary"].update(verdict="fine"),
        lambda d: d.update(schema_version="2.0"),
        lambda d: d["findings"][0].update(unexpected=1),
    ],
    ids=[
        "no-coverage",
        "bad-severity",
        "negative-offset",
        "bad-sha",
        "bad-status",
        "bad-verdict",
        "major-2",
        "extra-key",
    ],
)
def test_schema_rejects_broken_report(validator: Any, mutate: Any) -> None:
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(_broken(mutate))


def test_every_schema_property_has_a_description() -> None:
    missing: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                if "description" not in sub and "$ref" not in sub:
                    missing.append(f"{where}/{name}")
            for key, sub in node.items():
                walk(sub, f"{where}/{key}")
        elif isinstance(node, list):
            for i, sub in enumerate(node):
                walk(sub, f"{where}/{i}")

    schema = json.loads(SCHEMA_PATH.read_text())
    assert schema["$id"]
    assert schema["title"]
    assert schema["version"] == REPORT_SCHEMA_VERSION
    walk(schema, "")
    assert missing == []


def test_round_trip_through_dict() -> None:
    report = rich_report()
    data = json.loads(render_json(report))
    back = report_from_dict(data)
    assert set(back.findings) == set(report.findings)
    assert set(back.coverage) == set(report.coverage)
    assert back.sections == report.sections
    assert (back.policy_digest, back.started_at, back.inputs) == (
        report.policy_digest,
        report.started_at,
        report.inputs,
    )
    assert back.summary == report.summary
    assert report_to_dict(back) == data


def test_output_does_not_depend_on_input_order() -> None:
    report = rich_report()
    findings, coverage = list(report.findings), list(report.coverage)
    random.Random(7).shuffle(findings)
    random.Random(7).shuffle(coverage)
    shuffled = replace(report, findings=tuple(reversed(findings)), coverage=tuple(coverage))
    assert render_json(shuffled) == render_json(report)


def test_findings_sorted_by_severity_then_location_and_keys_in_schema_order() -> None:
    data = report_to_dict(rich_report())
    assert list(data) == [
        "schema_version",
        "tool",
        "started_at",
        "duration_seconds",
        "inputs",
        "policy_digest",
        "summary",
        "findings",
        "coverage",
        "sections",
    ]
    severities = [f["severity"] for f in data["findings"]]
    assert severities == ["critical", "critical", "high", "high", "medium", "low"]
    assert [f["evidence"]["location"] for f in data["findings"][:2]] == [
        "model.7z!archive/model.pt!archive/data.pkl@42",
        "weird name #1.pkl@0",
    ]
    assert [c["path"] for c in data["coverage"]] == sorted(c["path"] for c in data["coverage"])
    nested = next(c for c in data["coverage"] if len(c["member"]) == 2)
    assert nested["member"] == ["archive/model.pt", "archive/data.pkl"]
    assert nested["sha256"] == SHA


def test_suppressed_finding_kept_but_not_blocking() -> None:
    data = report_to_dict(rich_report())
    muted = [f for f in data["findings"] if f["suppressed_by"]]
    assert [(f["suppressed_by"], f["blocking"], f["severity"]) for f in muted] == [
        ("policy", False, "high")
    ]
    assert data["summary"]["suppressed"] == 1
    assert data["summary"]["findings_by_severity"]["high"] == 1


def test_newer_major_version_is_refused() -> None:
    data = report_to_dict(clean_report())
    data["schema_version"] = "2.0"
    with pytest.raises(ValueError, match="schema_version"):
        report_from_dict(data)


def test_newer_minor_version_reads_and_unknown_kind_degrades() -> None:
    data = report_to_dict(clean_report())
    data["schema_version"] = "1.7"
    data["coverage"][0]["kind"] = "some-future-kind"
    back = report_from_dict(data)
    assert back.coverage[0].artifact.kind is FileKind.UNKNOWN


def test_malformed_report_raises_value_error() -> None:
    data = report_to_dict(rich_report())
    del data["findings"][0]["evidence"]
    with pytest.raises(ValueError, match="malformed"):
        report_from_dict(data)


def test_schema_knows_the_model_sections(validator: jsonschema.Draft202012Validator) -> None:
    data = report_to_dict(rich_report())
    validator.validate(data)
    broken = json.loads(json.dumps(data))
    del broken["sections"]["license"]["models/demo"]["primary"]
    assert not validator.is_valid(broken)
    failed = json.loads(json.dumps(data))
    failed["sections"]["license"]["models/demo"] = {"error": "license: ValueError: x"}
    validator.validate(failed)
