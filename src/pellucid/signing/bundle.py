"""OpenSSF model-signing v1.0 signatures: Sigstore bundle v0.3 + DSSE + in-toto Statement v1.

``sign`` writes what ``model_signing sign key`` writes, with two differences that only make
the output reproducible: the payload is canonical JSON (sorted keys, no spaces, sorted
``ignore_paths``) and ECDSA is deterministic (RFC 6979), so the same folder and key give the
same bundle bytes. Upstream verifiers only decode the payload, so both are accepted there.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pellucid.fileio import canonical_json, write_atomic
from pellucid.signing.manifest import (
    Manifest,
    SigningError,
    plan_manifest,
)

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
) -> bytes:
    """Sign ``folder`` with an EC key; write the bundle (default ``folder/model.sig``).

    With ``certificates`` (the signing certificate first, then intermediates) the bundle
    carries that chain instead of a public-key hint, as ``model_signing sign certificate``.
    """
    target = signature_path if signature_path is not None else folder / SIGNATURE_NAME
    ignore = signature_ignore(folder, target)
    # The folder hashes while cryptography is imported and the key is read.
    hashing = _Background(folder, algorithm, ignore)
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


class _Background:
    """``build_manifest`` with the walk in the caller's thread and the hashing in a thread of
    its own; ``result()`` waits and returns or raises the outcome. (The walk is not threaded:
    beside the imports that follow it, it would wait for the GIL. concurrent.futures is not
    used: it imports logging before the first byte is hashed.)"""

    def __init__(self, folder: Path, algorithm: str, ignore: tuple[str, ...]) -> None:
        self._stop = threading.Event()
        self._outcome: list[Manifest | BaseException] = []
        self.thread = threading.Thread(target=self._run, name="pellucid-manifest", daemon=True)
        try:
            self._plan = plan_manifest(folder, algorithm=algorithm, ignore=ignore)
        except BaseException as exc:  # raised by result(), where sign expects it
            self._outcome.append(exc)
            return
        self.thread.start()

    def _run(self) -> None:
        try:
            self._outcome.append(self._plan.hash(stop=self._stop))
        except BaseException as exc:  # re-raised in the caller's thread by result()
            self._outcome.append(exc)

    def result(self) -> Manifest:
        if self.thread.ident is not None:
            self.thread.join()
        (outcome,) = self._outcome
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def cancel(self) -> None:
        """Stop hashing (within one window) and wait for the thread to finish."""
        self._stop.set()
        if self.thread.ident is not None:
            self.thread.join()


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
    try:
        return (target.resolve().relative_to(folder.resolve()).as_posix(),)
    except ValueError:
        return ()


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
