"""The executable's own reading of ``pellucid sign`` (pellucid/_cli/entry.py): the forms it
takes, the forms it leaves to click, and the same output, exit code and bundle either way."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from signing_samples import make_ca, make_keys, make_model

from pellucid._cli import entry
from pellucid._cli import main as click_main
from pellucid._cli.signing import sign as sign_command


def test_option_table_matches_the_click_command() -> None:
    options = [p for p in sign_command.params if isinstance(p, click.Option)]
    takes_value = {name for p in options if not p.is_flag for name in p.opts}
    assert takes_value == entry.SIGN_OPTIONS
    assert all(p.is_flag for p in options if not set(p.opts) & entry.SIGN_OPTIONS)
    [hash_option] = [p for p in options if "--hash" in p.opts]
    assert isinstance(hash_option.type, click.Choice)
    assert tuple(hash_option.type.choices) == entry.SIGN_ALGORITHMS
    assert hash_option.default == entry.SIGN_ALGORITHMS[0]
    assert [p.name for p in sign_command.params if isinstance(p, click.Argument)] == ["path"]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["sign", "m", "--key", "k"], ("m", "k", None, (), "sha256")),
        (["sign", "--key=k", "m/"], ("m/", "k", None, (), "sha256")),
        (
            ["sign", "m", "--key", "k", "--signature", "s", "--hash=blake2b"],
            ("m", "k", "s", (), "blake2b"),
        ),
        (
            ["sign", "m", "--key", "a", "--cert", "c1", "--cert=c2", "--key", "b"],
            ("m", "b", None, ("c1", "c2"), "sha256"),
        ),
        (["sign", "a=b", "--key", "k"], ("a=b", "k", None, (), "sha256")),
        (["verify", "m", "--key", "k"], None),
        (["--version"], None),
        ([], None),
        (["sign", "m"], None),  # --key missing: click says so
        (["sign", "m", "n", "--key", "k"], None),
        (["sign", "--key", "k"], None),
        (["sign", "m", "--key"], None),
        (["sign", "m", "--key="], None),
        (["sign", "m", "--key", "k", "--help"], None),
        (["sign", "m", "--key", "k", "-h"], None),
        (["sign", "m", "--key", "k", "--hash", "md5"], None),
        (["sign", "m", "--key", "k", "--force"], None),
        (["sign", "--", "m", "--key", "k"], None),
        (["sign", "-", "--key", "k"], None),
    ],
)
def test_sign_arguments(argv: list[str], expected: tuple[object, ...] | None) -> None:
    assert entry.sign_arguments(argv) == expected


def _outcome(
    run: object, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        run(argv)  # type: ignore[operator]
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


CASES = {
    "plain": lambda f, k, t: ["sign", str(f), "--key", str(k)],
    "blake2b, signature elsewhere": lambda f, k, t: [
        "sign", str(f), "--key", str(k), "--hash", "blake2b", "--signature", str(t / "out.sig")
    ],
    "missing key": lambda f, k, t: ["sign", str(f), "--key", str(t / "nope.pem")],
    "missing folder": lambda f, k, t: ["sign", str(t / "nowhere"), "--key", str(k)],
    "file, not folder": lambda f, k, t: ["sign", str(k), "--key", str(k)],
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_outcome_as_click(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_model(tmp_path)
    private, _ = make_keys(tmp_path)
    argv = CASES[case](folder, private, tmp_path)
    assert entry.sign_arguments(argv) is not None
    outcomes, bundles = [], []
    for run in (entry.main, click_main.main):
        outcomes.append(_outcome(run, argv, capsys))
        written = sorted(tmp_path.rglob("*.sig"))
        bundles.append([(p.name, p.read_bytes()) for p in written])
        for path in written:
            path.unlink()
    assert outcomes[0] == outcomes[1]
    assert bundles[0] == bundles[1]
    code, out, err = outcomes[0]
    assert "Traceback" not in out + err
    assert code == (0 if case in {"plain", "blake2b, signature elsewhere"} else 2)
    assert bool(bundles[0]) == (code == 0)


def test_certificate_mode_same_as_click(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = make_model(tmp_path)
    _, leaf_key, leaf_cert = make_ca(tmp_path)
    argv = ["sign", str(folder), "--key", str(leaf_key), "--cert", str(leaf_cert)]
    fast = _outcome(entry.main, argv, capsys)
    first = (folder / "model.sig").read_bytes()
    assert _outcome(click_main.main, argv, capsys) == fast
    assert (folder / "model.sig").read_bytes() == first
    assert b"x509CertificateChain" in first


def test_plain_sign_does_not_import_click(tmp_path: Path) -> None:
    folder = make_model(tmp_path)
    private, _ = make_keys(tmp_path)
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'click', 'sqlalchemy', 'jinja2'} or m == 'pellucid._cli.main'), file=sys.stderr))\n"
        "from pellucid._cli.entry import main\n"
        f"main(['sign', {str(folder)!r}, '--key', {str(private)!r}])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "[]"
    assert (folder / "model.sig").is_file()


def test_other_forms_reach_click(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _outcome(entry.main, ["sign", str(tmp_path)], capsys)
    assert code == 2
    assert "Missing option '--key'" in err
    entry.main(["sign", "--help"])  # click's help returns without exiting
    assert "Sign the model folder PATH" in capsys.readouterr().out


def test_executable_exits_without_teardown(tmp_path: Path) -> None:
    """``python -m pellucid`` (argv from sys.argv): output flushed, exit codes kept."""
    folder = make_model(tmp_path)
    private, public = make_keys(tmp_path)
    command = [sys.executable, "-m", "pellucid", "sign", str(folder), "--key"]
    done = subprocess.run([*command, str(private)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"signed {folder} -> {folder / 'model.sig'} (bundle sha256:")
    assert done.stdout.endswith(")\n")
    verified = subprocess.run(
        [sys.executable, "-m", "pellucid", "verify", str(folder), "--key", str(public)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stdout + verified.stderr
    missing = subprocess.run(
        [*command, str(tmp_path / "nope.pem")], capture_output=True, text=True, check=False
    )
    assert missing.returncode == 2
    assert "cannot read private key" in missing.stderr
    assert "Traceback" not in missing.stderr


TOKENS = st.sampled_from(
    ["sign", "m", "n", "a=b", "--key", "--key=k", "--key=", "k", "--signature", "--signature=s",
     "--cert", "--cert=c", "--hash", "--hash=blake2b", "--hash=md5", "sha256", "blake2b",
     "--help", "-h", "--", "-", "--force", "-k", "", "--KEY", "--hash="]
)  # fmt: skip


UNITS = st.sampled_from(
    [("m",), ("--key", "k"), ("--key=k2",), ("--signature", "s"), ("--signature=t",),
     ("--cert", "c"), ("--cert=d",), ("--hash", "blake2b"), ("--hash=sha256",), ("x y",)]
)  # fmt: skip
PLAUSIBLE = st.lists(UNITS, min_size=2, max_size=7).map(lambda units: [t for u in units for t in u])


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.lists(TOKENS, max_size=8), PLAUSIBLE))
def test_sign_arguments_agree_with_click(tail: list[str]) -> None:
    """Any argv the executable reads itself, click reads to the same values (and accepts)."""
    arguments = entry.sign_arguments(["sign", *tail])
    if arguments is None:
        return  # click decides, and explains
    context = sign_command.make_context("sign", list(tail))
    params = context.params
    path, key, signature, certificates, algorithm = arguments
    assert params["path"] == Path(path)
    assert params["key"] == Path(key)
    assert params["signature"] == (Path(signature) if signature else None)
    assert params["certificates"] == tuple(map(Path, certificates))
    assert params["algorithm"] == algorithm
