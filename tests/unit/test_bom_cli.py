"""``pellucid bom``: writes a BOM to stdout or a file; bad input exits 2 with one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pellucid._cli.main import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


def readme_folder(tmp_path: Path) -> Path:
    path = tmp_path / "m"
    path.mkdir()
    (path / "README.md").write_text("---\nlicense: mit\n---\n# m\n")
    return path


def test_cyclonedx_to_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        ["bom", str(readme_folder(tmp_path)), "--timestamp", "2026-01-02T03:04:05Z"], capsys
    )
    assert code == 0
    data = json.loads(out)
    assert data["bomFormat"] == "CycloneDX"
    assert data["metadata"]["timestamp"] == "2026-01-02T03:04:05Z"


def test_spdx_to_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "bom.spdx.json"
    code, out, _ = run(
        ["bom", str(readme_folder(tmp_path)), "--format", "spdx", "-o", str(target)], capsys
    )
    assert code == 0
    assert out == ""
    assert "@graph" in json.loads(target.read_text())


def test_missing_path_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["bom", str(tmp_path / "absent")], capsys)
    assert code == 2
    assert "no such file or directory" in err


def test_bad_timestamp_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["bom", str(readme_folder(tmp_path)), "--timestamp", "yesterday"], capsys)
    assert code == 2
    assert "--timestamp" in err
