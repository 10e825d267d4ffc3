"""``pellucid sign`` / ``pellucid verify``: output and exit codes (0 / 1 / 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from signing_samples import make_ca, make_keys, make_model

from pellucid._cli.main import main


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out + captured.err


def test_sign_then_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = make_model(tmp_path)
    private, public = make_keys(tmp_path)
    code, out = _run(["sign", str(folder), "--key", str(private)], capsys)
    assert code == 0
    assert "model.sig" in out
    code, out = _run(["verify", str(folder), "--key", str(public)], capsys)
    assert code == 0
    assert "verified: 9 file(s)" in out


def test_verify_lists_differences(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = make_model(tmp_path)
    private, public = make_keys(tmp_path)
    _run(["sign", str(folder), "--key", str(private)], capsys)
    (folder / "A").write_bytes(b"changed")
    code, out = _run(["verify", str(folder), "--key", str(public)], capsys)
    assert code == 1
    assert out.splitlines()[0].split()[:2] == ["changed", "A"]


def test_wrong_key_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = make_model(tmp_path)
    private, _ = make_keys(tmp_path)
    _, other = make_keys(tmp_path, stem="other")
    _run(["sign", str(folder), "--key", str(private)], capsys)
    code, out = _run(["verify", str(folder), "--key", str(other)], capsys)
    assert code == 1
    assert "another key" in out


def test_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = make_model(tmp_path)
    code, out = _run(["sign", str(folder), "--key", str(tmp_path / "nope.pem")], capsys)
    assert code == 2
    assert "cannot read private key" in out
    assert "Traceback" not in out
    code, out = _run(["verify", str(folder), "--key", str(tmp_path / "nope.pub")], capsys)
    assert code == 2
    (folder / "model.sig").write_text("{")
    _, public = make_keys(tmp_path)
    code, out = _run(["verify", str(folder), "--key", str(public)], capsys)
    assert code == 2
    assert "not JSON" in out


def test_key_and_chain_are_exclusive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = make_model(tmp_path)
    ca, _, _ = make_ca(tmp_path)
    _, public = make_keys(tmp_path)
    argv = ["verify", str(folder), "--key", str(public), "--cert-chain", str(ca)]
    code, out = _run(argv, capsys)
    assert code == 2
    assert "exactly one" in out
