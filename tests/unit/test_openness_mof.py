"""MOF classes and progress, checked against the Model Openness Tool's algorithm
(ModelEvaluator.php) at each class boundary."""

from __future__ import annotations

import pytest

from pellucid.openness.mof import COMPONENTS, evaluate, is_open, is_type_appropriate

# type-appropriate open licences for each MOT content type
TYPED = {"code": "Apache-2.0", "data": "CDLA-Permissive-2.0", "document": "CC-BY-4.0"}
CLASS_III = [9, 10, 13, 14, 11, 12]
CLASS_II = [7, 8, 18, 19]
CLASS_I = [15, 16, 24, 21]


def licensed(*cids: int, license_id: str | None = None) -> dict[int, str | None]:
    by_id = {c.cid: c for c in COMPONENTS}
    return {cid: license_id or TYPED[by_id[cid].content_type] for cid in cids}


def test_class_iii_only() -> None:
    result = evaluate(licensed(*CLASS_III))
    assert result.mof_class == "III"
    assert result.completeness == {"III": 100, "II": 60, "I": 0}
    assert result.warnings == ()
    assert result.unmet[0] == "Class II: Training code is not included"


def test_lower_class_unmet_zeroes_higher_progress() -> None:
    # III at 5/6 with all of II: MOT shows II as 0, not 9/10
    components = [c for c in CLASS_III if c != 14] + CLASS_II
    result = evaluate(licensed(*components))
    assert result.mof_class is None
    assert result.completeness == {"III": 83, "II": 0, "I": 0}
    assert "Class III: Data card is not included" in result.unmet


def test_class_ii_with_part_of_class_i() -> None:
    result = evaluate(licensed(*CLASS_III, *CLASS_II, 15, 16))
    assert result.mof_class == "II"
    assert result.completeness == {"III": 100, "II": 100, "I": 86}  # 12/14 = 85.7
    assert result.progress["I"] == pytest.approx(12 / 14 * 100)


def test_full_class_i() -> None:
    result = evaluate(licensed(*CLASS_III, *CLASS_II, *CLASS_I))
    assert result.mof_class == "I"
    assert result.completeness == {"III": 100, "II": 100, "I": 100}
    assert result.unmet == ()


def test_research_paper_replaces_technical_report() -> None:
    without_report = [c for c in CLASS_III if c != 11]
    result = evaluate(licensed(*without_report, *CLASS_II, *CLASS_I))
    assert result.mof_class == "I"  # class I needs 13, not 14
    assert result.completeness == {"III": 100, "II": 100, "I": 100}
    assert not any("Technical report" in reason for reason in result.unmet)
    only_paper = evaluate(licensed(*without_report, 21))
    assert only_paper.mof_class == "III"  # the paper stands in for the report in class III


def test_technical_report_without_paper_leaves_class_i_short() -> None:
    result = evaluate(licensed(*CLASS_III, *CLASS_II, 15, 16, 24))
    assert result.completeness["I"] == 93  # 13/14
    assert result.unmet == ("Class I: Research paper is not included",)


def test_unlicensed_component_is_not_counted() -> None:
    components = licensed(*CLASS_III)
    components[10] = None
    result = evaluate(components)
    assert result.mof_class is None
    assert result.completeness == {"III": 83, "II": 0, "I": 0}
    assert "Class III: Model parameters (Final) is included without a licence" in result.unmet


def test_free_text_licence_name_is_not_open() -> None:
    assert not is_open("Apache 2.0")
    assert not is_open("apache-2.0")  # ids are compared exactly, case included
    components = licensed(*CLASS_III)
    components[9] = "Apache 2.0"
    result = evaluate(components)
    assert result.mof_class is None
    assert any("'Apache 2.0'" in reason for reason in result.unmet)


def test_openmdw_everywhere_reaches_class_i_without_warnings() -> None:
    result = evaluate(licensed(*CLASS_III, *CLASS_II, *CLASS_I, license_id="OpenMDW-1.0"))
    assert result.mof_class == "I"
    assert result.warnings == ()


def test_open_but_not_type_appropriate_counts_with_warning() -> None:
    components = licensed(*CLASS_III)
    components[10] = "Apache-2.0"  # code licence on the weights (data)
    result = evaluate(components)
    assert result.mof_class == "III"
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith("Model parameters (Final) is under Apache-2.0")


def test_mot_licence_list_quirks() -> None:
    # CC0-1.0 is listed twice (data, then document); the last entry wins
    assert is_open("CC0-1.0")
    assert is_type_appropriate("CC0-1.0", "document")
    assert not is_type_appropriate("CC0-1.0", "data")
    # type-appropriate but not open: the open-data list names ODC-PDDL-1.0, not PDDL-1.0
    assert is_type_appropriate("PDDL-1.0", "data")
    assert not is_open("PDDL-1.0")
    assert not is_open("MulanPSL-1.0")


def test_optional_components_never_count() -> None:
    result = evaluate(licensed(20, 22, 17))
    assert result.completeness == {"III": 0, "II": 0, "I": 0}
    assert result.mof_class is None


def test_non_commercial_licence_is_invalid() -> None:
    result = evaluate(licensed(*CLASS_III, license_id="CC-BY-NC-4.0"))
    assert result.mof_class is None
    assert len(result.unmet) == 14
