"""The ``pellucid`` executable: ``sign`` in its plain form without the command line library.

``pellucid sign`` spends nearly all its time hashing, on every core. Importing click and the
command modules costs about 50 ms of CPU that, on a machine with few cores, is taken from the
hashing threads, and the signing modules another 40 ms before the first byte could be hashed.
When the arguments are ``sign`` in a form this module reads without doubt (one PATH, ``--key``,
and only the options below, as ``--opt value`` or ``--opt=value``), it starts hashing the folder
first (pellucid.hashing imports little), then runs the command through the same ``run_sign``
the click command calls, with the same messages and exit codes. Every other form (``--help``,
an unknown option, a missing value) goes to click, which explains it.
tests/unit/test_signing_entry.py holds both paths to the same output.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not typing's: importing typing costs 14 ms before hashing starts
if TYPE_CHECKING:  # at run time neither is imported before hashing starts
    from pathlib import Path

    from pellucid.hashing import FolderHash

    # (PATH, --key, --signature, --cert..., --hash) as given on the command line
    SignArguments = tuple[str, str, str | None, tuple[str, ...], str]

# the value-taking options of ``pellucid sign``; test_signing_entry.py compares them with click
SIGN_OPTIONS = frozenset({"--key", "--signature", "--cert", "--hash"})
SIGN_ALGORITHMS = ("sha256", "blake2b")


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
    """``run_sign``'s exit code, the folder hashing from the start; errors reported as
    pellucid._cli.main.main reports them."""
    from pellucid.errors import PellucidError
    from pellucid.hashing import relative, sign_hashing

    path, key, signature, certificates, algorithm = arguments
    started: FolderHash | None = None
    try:
        started = sign_hashing(relative(path), algorithm, signature)  # relative: str(Path(path))
        from pathlib import Path

        return run_sign(
            Path(path), Path(key), Path(signature) if signature else None,
            tuple(map(Path, certificates)), algorithm, started=started,
        )  # fmt: skip
    except PellucidError as exc:
        _stderr(exc.diagnostics())
    except KeyboardInterrupt:
        _stderr("interrupted")
        return 130
    except BrokenPipeError:
        pass
    finally:
        if started is not None:  # nothing to stop once signed; stops the threads on any error
            started.cancel()
    return 2


def run_sign(
    path: Path,
    key: Path,
    signature: Path | None,
    certificates: tuple[Path, ...],
    algorithm: str,
    started: FolderHash | None = None,
) -> int:
    """The ``sign`` command: sign, report the bundle's digest on stdout, return the exit code."""
    import hashlib

    from pellucid.signing.bundle import sign

    if algorithm != "sha256":
        _stderr("warning: model_signing's CLI verifies only sha256 signatures")
    data = sign(
        path, key, signature_path=signature, algorithm=algorithm, certificates=certificates,
        started=started,
    )  # fmt: skip
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
    certificates = tuple(values.get("--cert", []))
    return positional[0], values["--key"][-1], signature, certificates, algorithm


def _stderr(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()
