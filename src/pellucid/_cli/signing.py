"""Model integrity commands: ``pellucid sign`` and ``pellucid verify`` (OpenSSF v1.0)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pellucid._cli.common import EXIT_CLEAN, EXIT_FINDINGS


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--key", required=True, type=click.Path(path_type=Path), help="EC private key (PEM).")
@click.option(
    "--signature",
    type=click.Path(path_type=Path),
    help="Where to write the bundle (default: PATH/model.sig).",
)
@click.option(
    "--cert",
    "certificates",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Signing certificate (PEM) matching --key, then intermediates; repeatable.",
)
@click.option(
    "--hash",
    "algorithm",
    type=click.Choice(["sha256", "blake2b"]),
    default="sha256",
    show_default=True,
    help="File hash; only sha256 verifies with the model_signing CLI.",
)
def sign(
    path: Path, key: Path, signature: Path | None, certificates: tuple[Path, ...], algorithm: str
) -> None:
    """Sign the model folder PATH (OpenSSF model signing v1.0, key or certificate mode)."""
    from pellucid._cli.entry import run_sign

    sys.exit(run_sign(path, key, signature, certificates, algorithm))


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--key", type=click.Path(path_type=Path), help="EC public key (PEM).")
@click.option(
    "--cert-chain",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Trusted certificate(s), PEM; repeatable.",
)
@click.option(
    "--signature",
    type=click.Path(path_type=Path),
    help="The bundle to check (default: PATH/model.sig).",
)
def verify(
    path: Path, key: Path | None, cert_chain: tuple[Path, ...], signature: Path | None
) -> None:
    """Verify the signature on the model folder PATH and list every file that differs.

    Exit 0 verified, 1 does not verify (files differ or the signature is bad), 2 bad input.
    """
    from pellucid.errors import UsageError
    from pellucid.signing import SignatureInvalidError
    from pellucid.signing import verify as verify_folder

    if (key is None) == (not cert_chain):
        raise UsageError("give exactly one of --key or --cert-chain")
    try:
        result = verify_folder(
            path, public_key_path=key, cert_chain=list(cert_chain), signature_path=signature
        )
    except SignatureInvalidError as exc:
        click.echo(f"FAILED: {exc}")
        sys.exit(EXIT_FINDINGS)
    for difference in result.differences:
        click.echo(f"{difference.kind:8} {difference.name}  ({difference.detail})")
    if not result.ok:
        click.echo(f"FAILED: {len(result.differences)} difference(s); signer {result.signer}")
        sys.exit(EXIT_FINDINGS)
    count = len(result.manifest.entries) if result.manifest else 0
    click.echo(f"verified: {count} file(s) signed by {result.signer}")
    if result.uncovered:
        click.echo(
            f"warning: the signer left {len(result.uncovered)} file(s) out of the signature "
            "(ignore_paths); they are not covered:"
        )
        for name in result.uncovered:
            click.echo(f"  not covered  {name}")
    sys.exit(EXIT_CLEAN)
