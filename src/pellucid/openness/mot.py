"""Model Openness Tool records: score one, or write pellucid's own result as one.

A MOT record is YAML with ``framework`` and ``release`` (schema ``schema/mof_schema.json`` of
lfai/model_openness_tool). Scoring follows the tool: each listed component is included; its
licence is its own ``license`` (``unlicensed`` or an empty value: none), else the release's
global licence for its content type, else the distribution licence, else none. The record is
checked against the schema's constraints before scoring; anything else is a
``MotRecordError`` with the path of the offending value.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from pellucid.errors import PellucidError
from pellucid.openness.mof import BY_ID, BY_NAME, MofResult, evaluate

MAX_RECORD = 1024 * 1024
FRAMEWORK = {"name": "Model Openness Framework", "version": "1.0", "date": "2024-12-15"}
TYPES = ("", "language", "vision", "image", "audio", "video", "3d", "code", "multimodal", "other")
ARCHITECTURES = (
    *("", "transformer", "transformer decoder", "transformer encoder-decoder", "decoder"),
    *("encoder", "diffusion", "RNN", "CNN", "LSTM", "NeRF", "hybrid", "undisclosed", "other"),
)
TREATMENTS = ("pre-trained", "instruct fine-tuned", "chat fine-tuned")
GLOBAL_LICENSES = ("distribution", "code", "data", "document")
COMPONENT_FIELDS = ("name", "description", "license", "license_path", "component_path")


class MotRecordError(PellucidError):
    """A Model Openness Tool record that is not valid YAML or breaks the MOT schema."""

    hint = "see schema/mof_schema.json of the Model Openness Tool for the record format"


def score_mot_record(yaml_text: str) -> MofResult:
    """The MOF class and completeness the Model Openness Tool shows for this record."""
    record = load_mot_record(yaml_text)
    return evaluate(record_licenses(record["release"]))


def load_mot_record(yaml_text: str) -> dict[str, Any]:
    """Parse (``yaml.safe_load``) and validate a record; raises ``MotRecordError`` only."""
    if len(yaml_text) > MAX_RECORD:
        raise MotRecordError(f"record larger than {MAX_RECORD} characters")
    import yaml

    try:
        record = yaml.safe_load(yaml_text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise MotRecordError(f"not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    except (ValueError, OverflowError, RecursionError, TypeError) as exc:
        # safe_load builds dates and numbers from scalars; a bad one raises these
        raise MotRecordError(f"not valid YAML: {exc}") from None
    validate(record)
    return dict(record)


def validate(record: object) -> None:
    """Check ``record`` against the MOT schema (mof_schema.json), raising ``MotRecordError``."""
    top = _mapping(record, "record", ("framework", "release"))
    framework = _mapping(top["framework"], "framework", ("name", "version", "date"))
    for key in ("name", "version", "date"):
        _string(framework[key], f"framework.{key}")
    if framework["name"] != FRAMEWORK["name"]:
        raise MotRecordError(f"framework.name: must be {FRAMEWORK['name']!r}")
    release = _mapping(top["release"], "release", ("name", "license", "producer", "components"))
    if not _string(release["name"], "release.name"):
        raise MotRecordError("release.name: must not be empty")
    for key in ("version", "date", "origin", "producer", "contact"):
        if key in release:
            _string(release[key], f"release.{key}")
    for key, allowed in (("type", TYPES), ("architecture", ARCHITECTURES)):
        if key in release and _string(release[key], f"release.{key}") not in allowed:
            raise MotRecordError(f"release.{key}: {release[key]!r} is not one of {allowed}")
    if (
        "treatment" in release
        and _string(release["treatment"], "release.treatment") not in TREATMENTS
    ):
        raise MotRecordError(f"release.treatment: {release['treatment']!r} not in {TREATMENTS}")
    _validate_licenses(release["license"])
    _validate_components(release["components"])


def record_licenses(release: Mapping[str, Any]) -> dict[int, str | None]:
    """The resolved licence of each component a (validated) release lists."""
    glob = release.get("license") or {}
    resolved: dict[int, str | None] = {}
    for item in release["components"]:
        component = BY_NAME[item["name"]]
        own = item.get("license")
        if own is not None:  # PHP isset(): a listed licence, even empty, is the component's
            resolved[component.cid] = None if own == "unlicensed" or _php_empty(own) else own
            continue
        typed = (glob.get(component.content_type) or {}).get("name")
        distribution = (glob.get("distribution") or {}).get("name")
        resolved[component.cid] = next(
            (name for name in (typed, distribution) if not _php_empty(name)), None
        )
    return resolved


def to_mot_record(
    components: Sequence[Mapping[str, Any]],
    *,
    name: str,
    producer: str = "",
    version: str = "",
    date: str | None = None,
    distribution: str | None = None,
    origin: str = "",
) -> str:
    """A MOT record for pellucid's inventory: each present component with its explicit licence.

    ``components`` are dicts with ``id``, ``status`` (``included`` / ``referenced`` /
    ``absent``), ``license`` (an id or None) and optionally ``path``.
    """
    import yaml

    listed = []
    for item in sorted(components, key=lambda c: int(c["id"])):
        if item.get("status") not in ("included", "referenced"):
            continue
        component = BY_ID[int(item["id"])]
        entry = {"name": component.name, "description": str(item.get("description") or "")}
        entry["license"] = str(item.get("license") or "unlicensed")
        if item.get("path"):
            entry["component_path"] = str(item["path"])
        listed.append(entry)
    release: dict[str, Any] = {
        "name": name or "unnamed-model",
        "version": version,
        "license": {"distribution": {"name": distribution, "path": None}},
        "type": "",
        "architecture": "",
        "origin": origin,
        "producer": producer,
        "contact": "",
        "components": listed,
    }
    if date:
        release["date"] = date
    record = {"framework": dict(FRAMEWORK), "release": release}
    validate(record)
    text: str = yaml.safe_dump(record, sort_keys=False, allow_unicode=True)
    return text


def _validate_licenses(value: object) -> None:
    licenses = _mapping(value, "release.license", ())
    for key in GLOBAL_LICENSES:
        if key in licenses:
            entry = _mapping(licenses[key], f"release.license.{key}", ())
            for part in ("name", "path"):
                if part in entry and entry[part] is not None:
                    _string(entry[part], f"release.license.{key}.{part}")


def _validate_components(value: object) -> None:
    if not isinstance(value, list):
        raise MotRecordError(f"release.components: expected a list, got {_kind(value)}")
    if len(value) > len(BY_ID):
        raise MotRecordError(f"release.components: {len(value)} items, at most {len(BY_ID)}")
    for index, item in enumerate(value):
        where = f"release.components[{index}]"
        entry = _mapping(item, where, ())
        for key in COMPONENT_FIELDS:
            if key in entry:
                _string(entry[key], f"{where}.{key}")
        # the schema allows any name; MOT itself cannot score one it does not know
        if entry.get("name") not in BY_NAME:
            known = ", ".join(sorted(BY_NAME))
            raise MotRecordError(f"{where}.name: {entry.get('name')!r} is not one of: {known}")


def _mapping(value: object, where: str, required: tuple[str, ...]) -> dict[Any, Any]:
    if not isinstance(value, dict):
        raise MotRecordError(f"{where}: expected a mapping, got {_kind(value)}")
    absent = [key for key in required if key not in value]
    if absent:
        raise MotRecordError(f"{where}: missing required {', '.join(absent)}")
    return value


def _string(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise MotRecordError(f"{where}: expected a string, got {_kind(value)}")
    return value


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, datetime.date):
        return "an unquoted date (quote it)"
    return type(value).__name__


def _php_empty(value: object) -> bool:
    """PHP ``empty()`` for the scalars a record holds: None, "", "0", 0, false."""
    return value is None or value in ("", "0") or (not isinstance(value, str) and not value)
