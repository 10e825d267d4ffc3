"""`pellucid license`, `pellucid openness` and the audit's model profile, end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from cli_run import pellucid

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def shelf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("licensedcode", reason="licence texts come from scancode-toolkit's data")
    target = tmp_path_factory.mktemp("demo") / "shelf"
    subprocess.run(
        [sys.executable, str(ROOT / "demo" / "build_shelf.py"), str(target)],
        check=True,
        capture_output=True,
    )
    return target


def test_license_json_shape_and_the_mit_claim(shelf: Path) -> None:
    result = pellucid("license", str(shelf / "llama-claims-mit"), "--json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    ids = [entry["id"] for entry in data["licenses"]]
    assert "llama-3.1-community" in ids
    assert data["primary"] == "llama-3.1-community"
    for entry in data["licenses"]:
        assert {"id", "spdx_id", "source", "score", "span"} <= set(entry)
    assert any(f["rule_id"] == "PCL-LIC-010" for f in data["findings"])
    text_entry = next(e for e in data["licenses"] if e["source"].startswith("file:"))
    assert text_entry["spdx_id"] is None
    assert text_entry["span"][1] > text_entry["span"][0]


def test_license_text_output(shelf: Path) -> None:
    result = pellucid("license", str(shelf / "llama-3-tiny"))
    assert result.stdout.startswith("primary licence: llama-3.1-community")
    assert "700 million" in result.stdout


def test_openness_of_a_mot_record() -> None:
    record = ROOT / "tests" / "data" / "mot" / "sample_model.yml"
    result = pellucid("openness", "--mot-yaml", str(record), "--json")
    assert result.returncode == 0
    mof = json.loads(result.stdout)["mof"]
    assert set(mof["completeness"]) == {"I", "II", "III"}
    assert mof["class"] in (None, "I", "II", "III")


def test_openness_bad_record_is_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("framework: [unclosed\n")
    result = pellucid("openness", "--mot-yaml", str(bad))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_audit_json_has_every_analysis_and_fits_the_schema(shelf: Path, tmp_path: Path) -> None:
    result = pellucid("audit", str(shelf), "--json", "--no-html", "-q", cwd=tmp_path)
    report = json.loads(result.stdout)
    schema = json.loads((ROOT / "docs" / "report-schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(report)
    model = f"{shelf}/llama-3-tiny"
    for name in ("license", "openness", "regulation", "lineage", "resources"):
        assert model in report["sections"][name], name
    assert report["sections"]["resources"][model]["parameters"] == 384
    assert report["sections"]["lineage"][model]["bases"][0]["name"] == "meta-llama/Llama-3.1-8B"
