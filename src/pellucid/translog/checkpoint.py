"""Signed checkpoints in the C2SP ``tlog-checkpoint`` / ``signed-note`` text formats.

A checkpoint body is ``<origin>\\n<size>\\n<base64 root>\\n``; the note adds a blank line and one
line per signature: ``— <origin> <base64(key hash[4] || signature)>``. C2SP defines the key hash
for Ed25519 as SHA-256(name || "\\n" || 0x01 || key)[:4]; pellucid's logs sign with ECDSA, so the
key hash here is SHA-256(name || "\\n" || 0x02 || DER SubjectPublicKeyInfo)[:4] and the signature
is DER ECDSA with SHA-256 over the body bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pellucid.errors import PellucidError

_DASH = "\u2014"  # the em dash C2SP notes put before every signature line
_ECDSA_TYPE = b"\x02"


class CheckpointError(PellucidError):
    """A checkpoint that is malformed or not signed by the expected key."""


@dataclass(frozen=True)
class Checkpoint:
    """One signed statement of a log's state: its origin, size and root hash."""

    origin: str
    size: int
    root: bytes

    def body(self) -> bytes:
        """The signed text: origin, size and base64 root, one per line."""
        root = base64.b64encode(self.root).decode("ascii")
        return f"{self.origin}\n{self.size}\n{root}\n".encode()


def key_hash(origin: str, key: ec.EllipticCurvePublicKey) -> bytes:
    """The 4-byte key id a note signature line starts with."""
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(origin.encode() + b"\n" + _ECDSA_TYPE + der).digest()[:4]


def sign_checkpoint(checkpoint: Checkpoint, key: ec.EllipticCurvePrivateKey) -> str:
    """The checkpoint as a signed note."""
    body = checkpoint.body()
    signature = key.sign(body, ec.ECDSA(hashes.SHA256()))
    blob = base64.b64encode(key_hash(checkpoint.origin, key.public_key()) + signature).decode()
    return f"{body.decode()}\n{_DASH} {checkpoint.origin} {blob}\n"


def open_checkpoint(text: str, origin: str, key: ec.EllipticCurvePublicKey) -> Checkpoint:
    """Parse a signed note and check it carries a valid signature by ``key`` for ``origin``."""
    body_text, sep, signatures = text.partition("\n\n")
    if not sep:
        raise CheckpointError("malformed checkpoint: no signature block")
    checkpoint = _parse_body(body_text + "\n")
    if checkpoint.origin != origin:
        raise CheckpointError(f"checkpoint is for log {checkpoint.origin!r}, not {origin!r}")
    wanted = key_hash(origin, key)
    for line in signatures.splitlines():
        blob = _signature_blob(line, origin)
        if blob is None or blob[:4] != wanted:
            continue
        try:
            key.verify(blob[4:], checkpoint.body(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise CheckpointError("checkpoint signature does not verify: it was altered") from None
        return checkpoint
    raise CheckpointError("checkpoint is not signed by this log's key")


def _parse_body(text: str) -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 4 or not lines[0]:
        raise CheckpointError("malformed checkpoint: origin, size and root hash expected")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not size_text.isascii() or not size_text.isdigit() or (size_text != str(int(size_text))):
        raise CheckpointError(f"malformed checkpoint: bad tree size {size_text!r:.30}")
    try:
        root = base64.b64decode(root_text, validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointError("malformed checkpoint: root hash is not base64") from None
    if len(root) != hashlib.sha256().digest_size:
        raise CheckpointError("malformed checkpoint: root hash is not 32 bytes")
    checkpoint = Checkpoint(origin, int(size_text), root)
    if checkpoint.body().decode() != text:
        raise CheckpointError("malformed checkpoint: body is not in canonical form")
    return checkpoint


def _signature_blob(line: str, origin: str) -> bytes | None:
    prefix = f"{_DASH} {origin} "
    if not line.startswith(prefix):
        return None
    try:
        blob = base64.b64decode(line[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        return None
    return blob if len(blob) > 4 else None
