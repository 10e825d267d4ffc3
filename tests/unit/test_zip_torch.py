"""Real PyTorch archives: benign ones are clean, and the zip reader agrees with torch.load."""

from __future__ import annotations

import io
import pickle
import warnings
import zipfile
from pathlib import Path

import pytest
from archive_samples import audit, make_zip, of_rule, patch, reached

from canary import call_pickle, fires_in_subprocess
from pellucid.formats.zip import Issue, read_directory
from pellucid.model import CoverageStatus, FileKind

torch = pytest.importorskip("torch")


class _Tiny(torch.nn.Module):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.linear(x))


def test_torch_save_zip_has_no_findings(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    torch.save({"state": _Tiny().state_dict(), "step": 3}, path)
    report = audit(path)
    assert report.findings == ()
    kinds = {c.artifact.member: c.artifact.kind for c in report.coverage}
    assert kinds[("model/data.pkl",)] is FileKind.PICKLE
    assert all(c.status is not CoverageStatus.INCOMPLETE for c in report.coverage)


def _script(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.script is deprecated
        torch.jit.save(torch.jit.script(_Tiny()), str(path))


def test_torchscript_archive_has_no_findings(tmp_path: Path) -> None:
    path = tmp_path / "scripted.pt"
    _script(path)
    report = audit(path)
    assert report.findings == ()
    code = [
        c for c in report.coverage if c.artifact.member and c.artifact.member[-1].endswith(".py")
    ]
    assert code
    assert all(c.artifact.kind is FileKind.TEXT for c in code)
    assert report.coverage[0].status is CoverageStatus.EXAMINED


def test_torchscript_custom_operator_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "custom.pt"
    _script(path)
    with zipfile.ZipFile(path) as archive:
        entries = [(i.filename, archive.read(i)) for i in archive.infolist()]
    code = next(n for n, _ in entries if "/code/" in n and n.endswith(".py"))
    text = (
        b"def forward(self, x):\n    torch.ops.load_library('/tmp/x.so')\n"
        b"    return ops.evil_ns.run(x)\n"
    )
    path.write_bytes(make_zip([(n, text if n == code else d) for n, d in entries]))
    report = audit(path)
    [native] = of_rule(report, "PCL-ZIP-015")
    [custom] = of_rule(report, "PCL-ZIP-016")
    assert (native.evidence.member, native.evidence.line) == ((code,), 2)
    assert (custom.evidence.line, custom.detail) == (3, "namespace 'evil_ns'")


def _tagged_copies(order: list[str], extra: int) -> bytes:
    """A torch zip whose data.pkl exists once per tag in ``order`` (benign dicts)."""
    buffer = io.BytesIO()
    torch.save({"tag": "template"}, buffer)
    with zipfile.ZipFile(buffer) as template:
        rest = [
            (i.filename, template.read(i))
            for i in template.infolist()
            if not i.filename.endswith("data.pkl")
        ]
    rest += [(f"archive/extra/{i}", b"x") for i in range(extra)]
    pickles = [("archive/data.pkl", pickle.dumps({"tag": tag}, protocol=2)) for tag in order]
    return make_zip(rest[:1] + pickles + rest[1:])


@pytest.mark.parametrize(("copies", "extra"), [(2, 0), (2, 3), (3, 0), (4, 0), (7, 2)])
def test_duplicate_member_names_reader_picks_the_copy_torch_loads(copies: int, extra: int) -> None:
    order = [f"copy{i}" for i in range(copies)]
    data = _tagged_copies(order, extra)
    loaded = torch.load(io.BytesIO(data), weights_only=True)["tag"]
    directory = read_directory(memoryview(data), 1000)
    [duplicate] = [a for a in directory.anomalies if a.issue is Issue.DUPLICATE]
    picked = next(
        e
        for e in directory.entries
        if e.name == "archive/data.pkl"
        and pickle.loads(data[e.data_offset : e.data_offset + e.size]) == {"tag": loaded}
    )
    assert f"torch.load (miniz, case-insensitive) reads #{picked.index}," in duplicate.detail


@pytest.mark.slow
def test_bad_crc_sample_really_fires_in_torch_load(tmp_path: Path) -> None:
    marker = tmp_path / "fired"
    buffer = io.BytesIO()
    torch.save({"a": 1}, buffer)
    with zipfile.ZipFile(buffer) as template:
        entries = [(i.filename, template.read(i)) for i in template.infolist()]
    evil = call_pickle("os", "system", f"touch {marker}", protocol=2)
    data = make_zip([(n, evil if n.endswith("data.pkl") else d) for n, d in entries])
    data = patch(data, 14, b"\x00\x00\x00\x00")
    central = data.find(b"PK\x01\x02")
    sample = tmp_path / "crc.pt"
    sample.write_bytes(patch(data, central + 16, b"\x00\x00\x00\x00"))
    report = audit(sample)
    assert of_rule(report, "PCL-ZIP-001")
    assert reached(report) == [(entries[0][0],)]
    code = f"import torch; torch.load({str(sample)!r}, weights_only=False)"
    assert fires_in_subprocess(code, marker)
