"""The ``pellucid`` executable: ``sign`` in its plain form without the command line library.

``pellucid sign`` spends nearly all its time hashing, on every core. Importing click and the
command modules costs about 50 ms of CPU that, on a machine with few cores, is taken from the
hashing threads. When the arguments are ``sign`` in a form this module reads without doubt
(one PATH, ``--key``, and only the options below, as ``--opt value`` or ``--opt=value``), it
runs the command itself, through the same ``run_sign`` the click command calls, with the same
messages and exit codes. Every other form (``--help``, an unknown option, a missing value) goes
to click, which explains it. tests/unit/test_signing_entry.py holds both paths to the same
output.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NamedTuple

# the value-taking options of ``pellucid sign``; test_signing_entry.py compares them with click
SIGN_OPTIONS = frozenset({"--key", "--signature", "--cert", "--hash"})
SIGN_ALGORITHMS = ("sha256", "blake2b")


class SignArguments(NamedTuple):
    """``pellucid sign`` arguments, as the click command receives them."""

    path: Path
    key: Path
    signature: Path | None
    certificates: tuple[Path, ...]
    algorithm: str


def main(argv: list[str] | None = None) -> None:
    """Run the command line on ``argv``, or on ``sys.argv`` as the executable does.

    The executable's plain ``sign`` ends the process with ``os._exit`` once its output is
    flushed: interpreter teardown (about 20 ms on the benchmark machine, a fifth of the command's
    fixed cost) has nothing left to do, as the bundle is already written, synced and renamed.
    """
    arguments = sign_arguments(sys.argv[1:] if argv is None else argv)
    if arguments is None:
        from pellucid._cli.main import main as run

        run(argv)
        return
    code = _guarded_sign(arguments)
    if argv is None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except OSError:  # a closed pipe: the exit code still tells
                code = code or 2
        os._exit(code)
    sys.exit(code)


def _guarded_sign(arguments: SignArguments) -> int:
    """``run_sign``'s exit code; errors reported as pellucid._cli.main.main reports them."""
    from pellucid.errors import PellucidError

    try:
        return run_sign(*arguments)
    except PellucidError as exc:
        _stderr(exc.diagnostics())
    except KeyboardInterrupt:
        _stderr("interrupted")
        return 130
    except BrokenPipeError:
        pass
    return 2


def run_sign(
    path: Path, key: Path, signature: Path | None, certificates: tuple[Path, ...], algorithm: str
) -> int:
    """The ``sign`` command: sign, report the bundle's digest on stdout, return the exit code."""
    import hashlib

    from pellucid.signing.bundle import sign

    if algorithm != "sha256":
        _stderr("warning: model_signing's CLI verifies only sha256 signatures")
    data = sign(path, key, signature_path=signature, algorithm=algorithm, certificates=certificates)
    target = signature if signature is not None else path / "model.sig"
    sys.stdout.write(
        f"signed {path} -> {target} (bundle sha256:{hashlib.sha256(data).hexdigest()})\n"
    )
    sys.stdout.flush()
    return 0


def sign_arguments(args: list[str]) -> SignArguments | None:
    """The arguments of a plain ``pellucid sign ...``; None for anything click should read."""
    if args[:1] != ["sign"]:
        return None
    values: dict[str, list[str]] = {}
    positional: list[str] = []
    rest = iter(args[1:])
    for token in rest:
        name, equals, value = token.partition("=")
        if name in SIGN_OPTIONS:
            value = value if equals else next(rest, "")
            if not value:
                return None
            values.setdefault(name, []).append(value)
        elif token.startswith("-"):  # --help, --, an unknown option: click decides
            return None
        else:
            positional.append(token)
    algorithm = values.get("--hash", ["sha256"])[-1]
    if len(positional) != 1 or "--key" not in values or algorithm not in SIGN_ALGORITHMS:
        return None
    signature = values.get("--signature", [None])[-1]
    return SignArguments(
        path=Path(positional[0]),
        key=Path(values["--key"][-1]),
        signature=Path(signature) if signature else None,
        certificates=tuple(map(Path, values.get("--cert", []))),
        algorithm=algorithm,
    )


def _stderr(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()
