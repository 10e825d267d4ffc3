"""The ``pellucid bom`` command: an AI-BOM of a model folder, from a fresh audit."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pellucid._cli.common import EXIT_CLEAN, write_atomic


@click.command("bom")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["cyclonedx", "spdx"]),
    default="cyclonedx",
    show_default=True,
    help="CycloneDX 1.6 JSON or SPDX 3.0.1 JSON-LD.",
)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the BOM here.")
@click.option("--timestamp", help="Creation time (RFC 3339, UTC); fixed by default.")
@click.option("--serial", help="CycloneDX serial number (urn:uuid:...); derived by default.")
def bom(
    path: Path, fmt: str, output: Path | None, timestamp: str | None, serial: str | None
) -> None:
    """Write an AI-BOM of the model folder at PATH (files hashed, licences, lineage, findings).

    The same folder gives the same BOM byte for byte. Exit 0, or 2 on bad input.
    """
    import re

    from pellucid.audit import AuditOptions, run_audit
    from pellucid.bom import cyclonedx_bom, spdx_bom
    from pellucid.errors import InputError, UsageError

    if not path.exists():
        raise InputError(f"no such file or directory: {path}")
    if timestamp is not None and not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", timestamp):
        raise UsageError(f"--timestamp {timestamp!r} is not of the form 2026-01-31T12:00:00Z")
    if serial is not None and fmt != "cyclonedx":
        raise UsageError("--serial applies to --format cyclonedx only")
    if serial is not None and not re.fullmatch(
        r"urn:uuid:[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", serial
    ):
        raise UsageError(f"--serial {serial!r} is not a urn:uuid: in lower case")
    report = run_audit([path], AuditOptions(assess=True, hash_files=True))
    if fmt == "cyclonedx":
        text = cyclonedx_bom(report, serial=serial, timestamp=timestamp)
    else:
        text = spdx_bom(report, created=timestamp)
    if output is None:
        sys.stdout.write(text)
    else:
        write_atomic(output, text)
    sys.exit(EXIT_CLEAN)
