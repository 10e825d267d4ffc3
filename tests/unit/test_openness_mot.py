"""Model Openness Tool records: scoring, validation, and the records pellucid writes."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pellucid.openness.mof import BY_ID, BY_NAME, evaluate
from pellucid.openness.mot import (
    MotRecordError,
    load_mot_record,
    record_licenses,
    score_mot_record,
    to_mot_record,
    validate,
)

DATA = Path(__file__).parent.parent / "data" / "mot"
SCHEMA = json.loads((DATA / "mof_schema.json").read_text(encoding="utf-8"))
CLASS_III = [9, 10, 13, 14, 11, 12]
CLASS_II = [7, 8, 18, 19]
CLASS_I = [15, 16, 24, 21]


def record(cids: list[int], licence: dict[str, str] | None = None, **own: str) -> str:
    """A record listing ``cids`` without own licences (they inherit), plus ``own`` ones."""
    components = [{"name": BY_ID[cid].name} for cid in cids]
    for name, value in own.items():
        components.append({"name": name.replace("_", " "), "license": value})
    global_licences = {key: {"name": value, "path": None} for key, value in (licence or {}).items()}
    data = {
        "framework": {"name": "Model Openness Framework", "version": "1.0", "date": "2024-12-15"},
        "release": {
            "name": "m",
            "license": global_licences,
            "producer": "p",
            "components": components,
        },
    }
    return yaml.safe_dump(data)


TYPED = {"code": "MIT", "data": "CDLA-Permissive-2.0", "document": "CC-BY-4.0"}


def test_sample_record_scores_as_the_tool_shows() -> None:
    result = score_mot_record((DATA / "sample_model.yml").read_text(encoding="utf-8"))
    # architecture is 'unlicensed'; everything else inherits Apache-2.0 or MIT
    assert result.mof_class is None
    assert result.completeness == {"III": 83, "II": 0, "I": 0}
    assert result.unmet == ("Class III: Model architecture is included without a licence",)
    assert result.licenses[7] == "MIT"  # inherits release.license.code
    assert result.licenses[24] == "Apache-2.0"  # data is empty: falls back to distribution
    assert result.licenses[16] == "Apache-2.0"  # its own licence


@pytest.mark.parametrize(
    ("cids", "expected", "completeness"),
    [
        (CLASS_III, "III", {"III": 100, "II": 60, "I": 0}),
        (CLASS_III + CLASS_II, "II", {"III": 100, "II": 100, "I": 71}),
        (CLASS_III + CLASS_II + CLASS_I, "I", {"III": 100, "II": 100, "I": 100}),
        (CLASS_III[1:] + CLASS_II, None, {"III": 83, "II": 0, "I": 0}),
    ],
)
def test_hand_written_record_per_class(
    cids: list[int], expected: str | None, completeness: dict[str, int]
) -> None:
    result = score_mot_record(record(cids, TYPED))
    assert result.mof_class == expected
    assert result.completeness == completeness
    assert result.warnings == ()


def test_distribution_licence_is_the_fallback() -> None:
    result = score_mot_record(record(CLASS_III, {"distribution": "Apache-2.0"}))
    assert result.mof_class == "III"
    assert len(result.warnings) == 1  # Apache-2.0 on the weights (data type)


def test_own_licence_wins_and_empty_means_unlicensed() -> None:
    text = record(CLASS_III[1:], TYPED, Model_architecture="")
    assert score_mot_record(text).licenses[9] is None
    text = record(CLASS_III[1:], TYPED, Model_architecture="unlicensed")
    assert score_mot_record(text).mof_class is None
    text = record(CLASS_III[1:], TYPED, Model_architecture="Apache 2.0")
    result = score_mot_record(text)
    assert result.mof_class is None
    assert "'Apache 2.0'" in result.unmet[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("framework: [", "not valid YAML at line"),
        ("- a list", "record: expected a mapping"),
        ("framework: {name: x, version: '1', date: d}\nrelease: {}", "framework.name"),
        (record([9]).replace("name: m", "name: ''"), "release.name: must not be empty"),
        (record([9]).replace("Model architecture", "Weights"), "release.components[0].name"),
        (record([9]).replace("producer: p", "producer: 3"), "release.producer: expected a string"),
        (record([9]).replace("'2024-12-15'", "2024-12-15"), "unquoted date"),
        ("a: 2024-13-45", "not valid YAML"),
    ],
)
def test_bad_records_raise_the_documented_error(text: str, message: str) -> None:
    with pytest.raises(MotRecordError, match=message.replace("[", r"\[").replace("]", r"\]")):
        score_mot_record(text)


def test_written_record_validates_against_the_schema_and_scores_the_same() -> None:
    components = [
        {"id": cid, "status": "included", "license": "OpenMDW-1.0", "path": f"c{cid}"}
        for cid in CLASS_III + CLASS_II
    ]
    components += [
        {"id": 15, "status": "referenced", "license": None},
        {"id": 16, "status": "absent", "license": None},
    ]
    text = to_mot_record(components, name="tiny", distribution="Apache-2.0", date="2025-01-02")
    jsonschema.validate(yaml.safe_load(text), SCHEMA)
    result = score_mot_record(text)
    assert result.mof_class == "II"
    assert result.licenses[15] is None  # referenced only: written as unlicensed
    assert 16 not in result.licenses
    expected = evaluate({c["id"]: c["license"] for c in components if c["status"] != "absent"})
    assert result.completeness == expected.completeness


def test_to_json_shape() -> None:
    result = score_mot_record(record(CLASS_III, TYPED))
    assert result.to_json() == {
        "class": "III",
        "completeness": {"III": 100, "II": 60, "I": 0},
        "unmet": list(result.unmet),
        "warnings": [],
    }
    assert "Class III" in result.summary()


# Records near the schema: the hand-written validator must agree with jsonschema.
_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8))
_names = st.sampled_from(sorted(BY_NAME))
_component = st.dictionaries(
    st.sampled_from(["name", "description", "license", "license_path", "component_path"]),
    st.one_of(_names, _scalar),
)
_licence = st.dictionaries(st.sampled_from(["name", "path"]), _scalar)
_release = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(st.text(max_size=4), _scalar),
        "producer": _scalar,
        "type": st.one_of(st.sampled_from(["", "language", "nope"]), _scalar),
        "treatment": st.sampled_from(["pre-trained", "x"]),
        "license": st.one_of(
            _scalar, st.dictionaries(st.sampled_from(["distribution", "code", "x"]), _licence)
        ),
        "components": st.one_of(_scalar, st.lists(_component, max_size=19)),
    },
)
_record = st.fixed_dictionaries(
    {},
    optional={
        "framework": st.fixed_dictionaries(
            {"version": st.just("1.0"), "date": st.just("2024-12-15")},
            optional={"name": st.sampled_from(["Model Openness Framework", "x"])},
        ),
        "release": _release,
    },
)


@given(_record)
@settings(max_examples=200, deadline=1000)
def test_validator_agrees_with_jsonschema(data: dict[str, object]) -> None:
    schema_ok = jsonschema.Draft202012Validator(SCHEMA).is_valid(data)
    error = ""
    try:
        validate(data)
    except MotRecordError as exc:
        error = str(exc)
    if error:
        # pellucid also refuses component names MOT does not know (the schema allows any)
        assert not schema_ok or ".name:" in error
    else:
        assert schema_ok
        release = data["release"]
        assert isinstance(release, dict)
        assert set(record_licenses(release)) <= set(BY_ID)


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=1000)
def test_random_text_raises_only_the_documented_error(text: str) -> None:
    with contextlib.suppress(MotRecordError):
        score_mot_record(text)


@given(st.recursive(_scalar, lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner)))
@settings(max_examples=150, deadline=1000)
def test_random_yaml_structures_raise_only_the_documented_error(value: object) -> None:
    text = yaml.safe_dump({"framework": value, "release": value})
    with contextlib.suppress(MotRecordError):
        load_mot_record(text)
