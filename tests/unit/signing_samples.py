"""Generated fixtures for the signing tests: EC keys, a CA with a leaf, a model folder."""

from __future__ import annotations

import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# names chosen to exercise PurePosixPath ordering, spaces and non-ASCII (reference §8.3)
NAMES = ("A", "a/b", "b c", "sub/x", "sub-y", "sub.txt", "é.txt", "config.json")
CURVES = {"p256": ec.SECP256R1(), "p384": ec.SECP384R1()}


def make_model(root: Path, name: str = "model") -> Path:
    """A small model folder with nested paths, an empty file and ignored git files."""
    folder = root / name
    for index, rel in enumerate(NAMES):
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"{rel} {index}\n".encode() * (index + 1))
    (folder / "empty.bin").write_bytes(b"")
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (folder / ".gitattributes").write_text("*.bin filter=lfs\n")
    return folder


def write_key(key: ec.EllipticCurvePrivateKey, root: Path, stem: str) -> tuple[Path, Path]:
    private, public = root / f"{stem}.pem", root / f"{stem}.pub"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def make_keys(root: Path, curve: str = "p256", stem: str = "key") -> tuple[Path, Path]:
    """(private PEM, public PEM) of a fresh EC key."""
    return write_key(ec.generate_private_key(CURVES[curve]), root, stem)


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: str,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def make_ca(root: Path, stem: str = "ca") -> tuple[Path, Path, Path]:
    """(CA certificate PEM, leaf private key PEM, leaf certificate PEM)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _certificate(f"{stem} root", ca_key, f"{stem} root", ca_key, ca=True)
    leaf_cert = _certificate("model publisher", leaf_key, f"{stem} root", ca_key, ca=False)
    ca_path, leaf_path = root / f"{stem}.crt", root / f"{stem}-leaf.crt"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    leaf_path.write_bytes(leaf_cert.public_bytes(serialization.Encoding.PEM))
    leaf_private, _ = write_key(leaf_key, root, f"{stem}-leaf")
    return ca_path, leaf_private, leaf_path
