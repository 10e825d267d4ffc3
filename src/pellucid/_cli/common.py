"""Pieces every command module shares: exit codes and safe writing of outputs."""

from __future__ import annotations

from pathlib import Path

EXIT_CLEAN, EXIT_FINDINGS, EXIT_INCOMPLETE = 0, 1, 2


def write_atomic(path: Path, text: str) -> None:
    """Write next to the target, then rename: a crash never leaves half a report."""
    import os
    import tempfile

    from pellucid.errors import InputError

    try:
        directory = path.parent if str(path.parent) else Path()
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        Path(tmp).replace(path)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
