"""OpenSSF model-signing v1.0 signatures: Sigstore bundle v0.3 + DSSE + in-toto Statement v1.

``sign`` writes what ``model_signing sign key`` writes, with two differences that only make
the output reproducible: the payload is canonical JSON (sorted keys, no spaces, sorted
``ignore_paths``) and ECDSA is deterministic (RFC 6979), so the same folder and key give the
same bundle bytes. Upstream verifiers only decode the payload, so both are accepted there.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pellucid.fileio import canonical_json, write_atomic
from pellucid.hashing import FolderHash, signature_ignore_paths
from pellucid.signing.manifest import Manifest, ManifestBuild, SigningError

BUNDLE_MEDIA_TYPES = (
    "application/vnd.dev.sigstore.bundle.v0.3+json",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
)
PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://model_signing/signature/v1.0"
SIGNATURE_NAME = "model.sig"


class BundleError(SigningError):
    """A signature file that is not a readable model-signing v1.0 bundle."""


def statement(manifest: Manifest) -> dict[str, Any]:
    """The in-toto Statement v1 that model-signing v1.0 signs for ``manifest``."""
    serialization: dict[str, Any] = {
        "method": manifest.serialization,
        "hash_type": manifest.resource_algorithm,
        "allow_symlinks": manifest.allow_symlinks,
        "ignore_paths": list(manifest.ignore_paths),
    }
    if manifest.shard_size is not None:
        serialization["shard_size"] = manifest.shard_size
    resources = [
        {"name": e.name, "algorithm": manifest.resource_algorithm, "digest": e.digest_hex}
        for e in manifest.entries
    ]
    return {
        "_type": STATEMENT_TYPE,
        "subject": [
            {"name": manifest.model_name, "digest": {"sha256": manifest.root_digest.hex()}}
        ],
        "predicateType": PREDICATE_TYPE,
        "predicate": {"serialization": serialization, "resources": resources},
    }


def sign(
    folder: Path,
    private_key_pem_path: Path,
    *,
    signature_path: Path | None = None,
    algorithm: str = "sha256",
    certificates: Sequence[Path] = (),
    started: FolderHash | None = None,
) -> bytes:
    """Sign ``folder`` with an EC key; write the bundle (default ``folder/model.sig``).

    With ``certificates`` (the signing certificate first, then intermediates) the bundle
    carries that chain instead of a public-key hint, as ``model_signing sign certificate``.
    ``started`` is the folder's hashing begun earlier with ``sign_hashing`` (the executable
    does so before importing this module); it is used when its inputs are these.
    """
    target = signature_path if signature_path is not None else folder / SIGNATURE_NAME
    ignore = signature_ignore(folder, target)
    # The folder hashes while cryptography is imported and the key is read.
    hashing = ManifestBuild(folder, algorithm=algorithm, ignore=ignore, started=started)
    try:
        from pellucid.signing import keys
        from pellucid.signing.dsse import pae

        key = keys.load_private_key(private_key_pem_path)
        material = _material(key, certificates)
        manifest = hashing.result()
    except BaseException:
        hashing.cancel()
        raise
    payload = canonical_json(statement(manifest))
    signature = keys.sign_bytes(key, pae(PAYLOAD_TYPE, payload))
    bundle = {
        "mediaType": BUNDLE_MEDIA_TYPES[0],
        "verificationMaterial": material,
        "dsseEnvelope": {
            "payload": base64.b64encode(payload).decode(),
            "payloadType": PAYLOAD_TYPE,
            "signatures": [{"sig": base64.b64encode(signature).decode(), "keyid": ""}],
        },
    }
    data = canonical_json(bundle)
    write_atomic(target, data)
    return data


def _material(key: Any, certificates: Sequence[Path]) -> dict[str, Any]:
    from pellucid.signing import keys

    if not certificates:
        return {"publicKey": {"hint": keys.public_key_hint(key.public_key())}, "tlogEntries": []}
    from cryptography.hazmat.primitives import serialization

    chain = keys.load_certificates(certificates)
    if keys.leaf_public_key(chain[0]).public_numbers() != key.public_key().public_numbers():
        raise SigningError("the signing certificate does not match the private key")
    raw = [c.public_bytes(serialization.Encoding.DER) for c in chain]
    return {
        "x509CertificateChain": {
            "certificates": [{"rawBytes": base64.b64encode(r).decode()} for r in raw]
        },
        "tlogEntries": [],
    }


def signature_ignore(folder: Path, target: Path) -> tuple[str, ...]:
    """The signature file's path relative to ``folder`` when it lies inside it."""
    return signature_ignore_paths(folder, target)


@dataclass(frozen=True)
class ParsedBundle:
    payload: bytes
    signature: bytes
    hint: str | None
    chain: list[bytes]


def read_bundle(path: Path) -> ParsedBundle:
    """Parse a bundle file; BundleError names what is wrong with it."""
    try:
        document = json.loads(path.read_bytes())
    except OSError as exc:
        raise BundleError(f"cannot read signature {path}: {exc.strerror or exc}") from None
    except (ValueError, RecursionError) as exc:
        raise BundleError(f"{path} is not JSON (truncated or garbled?): {exc}") from None
    try:
        if document["mediaType"] not in BUNDLE_MEDIA_TYPES:
            raise BundleError(f"{path}: unsupported bundle media type {document['mediaType']!r}")
        envelope = document["dsseEnvelope"]
        if envelope["payloadType"] != PAYLOAD_TYPE:
            raise BundleError(f"{path}: unexpected DSSE payload type {envelope['payloadType']!r}")
        material = document["verificationMaterial"]
        chain = material.get("x509CertificateChain", {}).get("certificates", [])
        return ParsedBundle(
            payload=base64.b64decode(envelope["payload"], validate=True),
            signature=base64.b64decode(envelope["signatures"][0]["sig"], validate=True),
            hint=material.get("publicKey", {}).get("hint"),
            chain=[base64.b64decode(c["rawBytes"], validate=True) for c in chain],
        )
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        raise BundleError(f"{path} is not a model-signing bundle: bad field {exc}") from None
