"""Whole-model commands: ``pellucid license`` and ``pellucid openness`` (no security scan)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from pellucid._cli.common import EXIT_CLEAN, EXIT_FINDINGS, write_atomic


@click.command("license")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the licence assessment as JSON.")
def license_command(path: Path, as_json: bool) -> None:
    """What the licences of the model at PATH allow and require (no security scan).

    Exit 0 when a licence was identified without findings at or above medium, 1 otherwise.
    """
    from pellucid.model import Severity
    from pellucid.render.json import finding_to_dict

    section = _model_section(path, "license")
    data = section.data if isinstance(section.data, dict) else {}
    if as_json:
        payload = {**data, "findings": [finding_to_dict(f) for f in section.findings]}
        click.echo(_dumps(payload))
    else:
        click.echo(_license_text(data, section.findings))
    serious = any(f.severity >= Severity.MEDIUM for f in section.findings)
    sys.exit(EXIT_FINDINGS if serious or not data.get("primary") else EXIT_CLEAN)


@click.command()
@click.argument("path", type=click.Path(path_type=Path), required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the openness assessment as JSON.")
@click.option(
    "--mot-yaml",
    type=click.Path(path_type=Path),
    help="Score a Model Openness Tool record (YAML) instead of a model folder.",
)
@click.option(
    "--write-mot",
    type=click.Path(path_type=Path),
    help="Also write the folder's result as a Model Openness Tool record.",
)
def openness(
    path: Path | None, as_json: bool, mot_yaml: Path | None, write_mot: Path | None
) -> None:
    """How open the model at PATH is: MOF class, OSAID 1.0, OSAI Index dimensions."""
    from pellucid.errors import InputError, UsageError

    if mot_yaml is not None:
        from pellucid.openness.mot import MotRecordError, score_mot_record

        try:
            text = mot_yaml.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {mot_yaml}: {exc}") from None
        try:
            result = score_mot_record(text)
        except MotRecordError as exc:
            raise InputError(f"{mot_yaml}: {exc}") from None
        click.echo(_dumps({"mof": result.to_json()}) if as_json else result.summary())
        return
    if path is None:
        raise UsageError("give a model folder, or --mot-yaml FILE")
    section = _model_section(path, "openness")
    data = section.data if isinstance(section.data, dict) else {}
    if write_mot is not None:
        record = data.get("mot_record")
        if not isinstance(record, str):
            raise UsageError("this folder's assessment has no Model Openness Tool record")
        write_atomic(write_mot, record)
    click.echo(_dumps(data) if as_json else _openness_text(data))


def _model_section(path: Path, name: str) -> Any:
    """Run the whole-model analyses up to ``name`` on the folder at ``path``."""
    from pellucid.errors import InputError
    from pellucid.modelanalysis import analyze_model
    from pellucid.modelfiles import ModelFiles

    if not path.exists():
        raise InputError(f"no such file or directory: {path}")
    model = ModelFiles.scan_folder(path)
    return analyze_model(model, until=name)[name]


def _dumps(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False)


def _license_text(data: dict[str, Any], findings: Any) -> str:
    lines = [f"primary licence: {data.get('primary') or 'unrecognised'}"]
    lines += [
        f"  {found.get('id')}  ({found.get('source')}, score {found.get('score')})"
        for found in data.get("licenses", [])
    ]
    obligations = data.get("obligations", {})
    for heading, key in (("you must", "must"), ("you must not", "must_not")):
        items = obligations.get(key, []) if isinstance(obligations, dict) else []
        if items:
            lines.append(f"{heading}:")
            lines += [f"  - {item.get('text')} [{item.get('license')}]" for item in items]
    for finding in findings:
        lines.append(f"{finding.severity.label.upper():<8} {finding.rule_id}  {finding.title}")
    return "\n".join(lines)


def _openness_text(data: dict[str, Any]) -> str:
    mof = data.get("mof", {}) if isinstance(data.get("mof"), dict) else {}
    osaid = data.get("osaid", {}) if isinstance(data.get("osaid"), dict) else {}
    lines = [
        f"MOF class: {mof.get('class') or 'none'}  completeness: {mof.get('completeness')}",
        f"OSAID 1.0: {osaid.get('verdict', 'undetermined')}",
    ]
    lines += [f"  unmet: {reason}" for reason in mof.get("unmet", [])]
    return "\n".join(lines)
