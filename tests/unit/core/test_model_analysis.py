"""Whole-model analyses: model folders from inputs, ordered runs, failures kept apart."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar

import pytest

import pellucid.modelanalysis as ma
from pellucid.audit import AuditOptions, run_audit
from pellucid.model import FileKind, Rule
from pellucid.modelfiles import ModelFile, ModelFiles


def entry(path: str) -> ModelFile:
    return ModelFile(path, path, Path(path), FileKind.TEXT, 1)


def test_folder_with_files_is_one_model(tmp_path: Path) -> None:
    (tmp_path / "m" / "sub").mkdir(parents=True)
    files = [entry(f"{tmp_path}/m/config.json"), entry(f"{tmp_path}/m/sub/a.py")]
    (model,) = ma.model_folders([tmp_path / "m"], files)
    assert model.root == f"{tmp_path}/m"
    assert [f.rel for f in model] == ["config.json", "sub/a.py"]


def test_shelf_of_folders_is_one_model_each(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    files = [
        entry(f"{tmp_path}/a/x.json"),
        entry(f"{tmp_path}/b/y.json"),
        entry(f"{tmp_path}/b/deep/z.bin"),
    ]
    models = ma.model_folders([tmp_path], files)
    assert [(m.root, [f.rel for f in m]) for m in models] == [
        (f"{tmp_path}/a", ["x.json"]),
        (f"{tmp_path}/b", ["deep/z.bin", "y.json"]),
    ]


def test_single_file_is_its_own_model(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    path.write_bytes(b"GGUF")
    (model,) = ma.model_folders([path], [entry(str(path))])
    assert model.root == str(tmp_path)


class Counting:
    id: ClassVar[str] = "count"
    rules: ClassVar[Sequence[Rule]] = ()

    def analyze(
        self, model: ModelFiles, earlier: Mapping[str, ma.SectionResult]
    ) -> ma.SectionResult:
        return ma.SectionResult({"files": len(model.files)}, value=len(model.files))


class UsesEarlier:
    id: ClassVar[str] = "double"
    rules: ClassVar[Sequence[Rule]] = ()

    def analyze(
        self, model: ModelFiles, earlier: Mapping[str, ma.SectionResult]
    ) -> ma.SectionResult:
        return ma.SectionResult({"twice": 2 * earlier["count"].value})


class Broken:
    id: ClassVar[str] = "broken"
    rules: ClassVar[Sequence[Rule]] = ()

    def analyze(
        self, model: ModelFiles, earlier: Mapping[str, ma.SectionResult]
    ) -> ma.SectionResult:
        raise ValueError("boom")


@pytest.fixture
def fake_table(monkeypatch: pytest.MonkeyPatch) -> None:
    table = {"count": "test:Counting", "double": "test:UsesEarlier", "broken": "test:Broken"}
    classes = {"count": Counting, "double": UsesEarlier, "broken": Broken}
    monkeypatch.setattr(ma, "BUILTIN_MODEL_ANALYZERS", table)
    monkeypatch.setattr(ma, "load_analyzer", lambda name: classes[name]())


@pytest.mark.usefixtures("fake_table")
def test_audit_runs_analyses_in_order_and_keeps_failures_apart(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "README.md").write_text("# card\n")
    report = run_audit([tmp_path], AuditOptions(assess=True, scanners=[], folder_analyzers=[]))
    root = tmp_path.as_posix()
    assert report.sections["count"] == {root: {"files": 2}}
    assert report.sections["double"] == {root: {"twice": 4}}
    assert report.sections["broken"][root] == {"error": "broken: ValueError: boom"}
    assert [f.rule_id for f in report.findings] == [ma.ANALYSIS_FAILED.id]


@pytest.mark.usefixtures("fake_table")
def test_scan_does_not_assess(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    report = run_audit([tmp_path], AuditOptions(scanners=[], folder_analyzers=[]))
    assert report.sections == {}
