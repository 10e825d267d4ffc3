"""Signature and attestation state of a model folder, for the audit's model profile.

The audit has no key, so it cannot check who signed: it reports who the bundle says signed
(the key hint or certificate subject), whether the files on disk still match what was signed
or attested, and exactly what differs. ``pellucid verify --key`` checks the signature itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from pellucid.errors import PellucidError
from pellucid.model import Rule
from pellucid.modelanalysis import SectionResult
from pellucid.modelfiles import ModelFiles

ATTESTATION_NAMES = ("pellucid.att.json",)
COMPARE_LIMIT = 512 * 1024 * 1024
"""Above this many bytes of files the audit does not hash the folder to compare it with a
signature (principle: read less unless hashing is asked for); ``pellucid verify`` does."""
UNCHECKED = "signature not checked: the audit has no key (run pellucid verify --key PUB)"


class SignatureAnalyzer:
    """Reads ``model.sig`` and ``pellucid.att.json`` in the model folder, keyless."""

    id: ClassVar[str] = "signatures"
    rules: ClassVar[Sequence[Rule]] = ()

    def analyze(self, model: ModelFiles, earlier: Mapping[str, SectionResult]) -> SectionResult:
        from pellucid.signing.bundle import SIGNATURE_NAME

        folder = Path(model.root)
        size = sum(f.size for f in model.files)
        if size > COMPARE_LIMIT:
            skipped = {
                "present": (folder / SIGNATURE_NAME).is_file(),
                "content": f"not compared: {size / 1024**3:.1f} GiB of files would have to be "
                "hashed; run pellucid verify --key PUB",
            }
            return SectionResult({"signature": skipped, "attestations": []})
        signature = _signature(folder, folder / SIGNATURE_NAME)
        attestations = [
            _attestation(folder, folder / name)
            for name in ATTESTATION_NAMES
            if (folder / name).is_file()
        ]
        return SectionResult({"signature": signature, "attestations": attestations})


def _signature(folder: Path, path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {"present": False}
    from pellucid.signing.bundle import read_bundle
    from pellucid.signing.verify import compare_folder

    state: dict[str, Any] = {
        "present": True,
        "file": path.name,
        "verified": False,
        "verification": UNCHECKED,
    }
    try:
        parsed = read_bundle(path)
        state["signer"] = _signer(parsed)
        differences, _ = compare_folder(folder, parsed, path)
    except PellucidError as exc:
        state["error"] = str(exc)
        return state
    state["content"] = "matches what was signed" if not differences else "differs"
    state["differences"] = [
        {"kind": d.kind, "name": d.name, "detail": d.detail} for d in differences
    ]
    return state


def _signer(parsed: Any) -> str:
    if parsed.chain:
        from cryptography import x509

        try:
            leaf = x509.load_der_x509_certificate(parsed.chain[0])
            return f"certificate {leaf.subject.rfc4514_string()}"
        except ValueError:
            return "a certificate that cannot be read"
    return f"key sha256:{parsed.hint}" if parsed.hint else "an unnamed key"


def _attestation(folder: Path, path: Path) -> dict[str, Any]:
    from pellucid.signing.attestation import inspect_attestation
    from pellucid.signing.dsse import bundle_hint

    state: dict[str, Any] = {"file": path.name, "verified": False, "verification": UNCHECKED}
    try:
        result = inspect_attestation(folder, path)
        hint = bundle_hint(json.loads(path.read_bytes()))
    except (PellucidError, OSError, ValueError) as exc:
        state["error"] = str(exc)
        return state
    state["signer"] = f"key sha256:{hint}" if hint else "an unnamed key"
    state["content"] = "matches what was attested" if result.ok else "differs"
    state["differences"] = list(result.differences)
    predicate = result.predicate if isinstance(result.predicate, Mapping) else {}
    for key in ("tool", "timeAudited", "timeAttested", "result", "findings", "license", "openness"):
        if key in predicate:
            state[key] = predicate[key]
    return state
