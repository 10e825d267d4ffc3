"""Build src/pellucid/data/license_fingerprints.json from ScanCode's licence texts (dev time).

Licence texts may not be committed, so pellucid ships a fingerprint of each one instead: the
sorted, de-duplicated 32-bit hashes of its normalised token 5-gram shingles plus its token
count (see pellucid.licensing.normalize). The texts come from the ``scancode-toolkit`` package
installed in the development environment; its files are read, its code is never imported.

Entries whose knowledge-base text facts say ``"fingerprint": "scancode"`` use the text of their
first ScanCode key. ``"derived"`` entries have no published reference text in ScanCode (Meta
Llama 3): their fingerprint is the set of shingles shared by all the sibling texts named in
``derived_from``, and the marker phrases of the knowledge base decide the version.

Usage: .venv/bin/python scripts/build_license_fingerprints.py [--check]
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import json
import struct
import sys
from importlib.metadata import version
from pathlib import Path

from pellucid.licensing import knowledge
from pellucid.licensing.normalize import HASH_NAME, SHINGLE, shingle_hashes, tokenize

OUT = (
    Path(__file__).resolve().parents[1] / "src" / "pellucid" / "data" / "license_fingerprints.json"
)


def licenses_folder() -> Path:
    """ScanCode's licence data folder, located without importing licensedcode's code."""
    spec = importlib.util.find_spec("licensedcode")
    if spec is None or not spec.submodule_search_locations:
        sys.exit(
            "scancode-toolkit is not installed: pip install --no-deps scancode-toolkit==32.5.0"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "licenses"


def scancode_text(folder: Path, key: str) -> str:
    """The licence text of ``key`` without its YAML front matter."""
    raw = (folder / f"{key}.LICENSE").read_text(encoding="utf-8")
    if raw.startswith("---"):
        _, _, rest = raw[3:].partition("\n---")
        raw = rest.partition("\n")[2]
    return raw


def pack(hashes: set[int]) -> str:
    """Sorted hashes as base64 of big-endian uint32s (a compact, reviewable-by-tool list)."""
    ordered = sorted(hashes)
    return base64.b64encode(struct.pack(f">{len(ordered)}I", *ordered)).decode("ascii")


def fingerprint(text: str) -> tuple[set[int], int]:
    words = tokenize(text).words
    return set(shingle_hashes(words)), len(words)


def build() -> dict[str, object]:
    folder = licenses_folder()
    made: dict[str, dict[str, object]] = {}
    texts: dict[str, tuple[set[int], int]] = {}
    for entry in knowledge.entries():
        facts = knowledge.text_facts(entry.id)
        if facts is None or facts.fingerprint != "scancode":
            continue
        key = entry.scancode_keys[0]
        texts[entry.id] = fingerprint(scancode_text(folder, key))
        made[entry.id] = {"source": f"scancode:{key}"}
    for entry in knowledge.entries():
        facts = knowledge.text_facts(entry.id)
        if facts is None or facts.fingerprint != "derived":
            continue
        shared = set.intersection(*(texts[sibling][0] for sibling in facts.derived_from))
        tokens = min(texts[sibling][1] for sibling in facts.derived_from)
        texts[entry.id] = (shared, tokens)
        made[entry.id] = {"source": "derived:" + ",".join(facts.derived_from)}
    for license_id, record in made.items():
        hashes, tokens = texts[license_id]
        record.update(tokens=tokens, count=len(hashes), hashes=pack(hashes))
    return {
        "format": 1,
        "shingle": SHINGLE,
        "hash": HASH_NAME,
        "kb_version": knowledge.kb_version(),
        "scancode_toolkit": version("scancode-toolkit"),
        "note": "Fingerprints, not texts: sorted base64 big-endian uint32 shingle hashes per id.",
        "entries": dict(sorted(made.items())),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the shipped file is stale")
    args = parser.parse_args()
    text = json.dumps(build(), indent=1) + "\n"
    if args.check:
        stale = not OUT.exists() or OUT.read_text(encoding="utf-8") != text
        print("stale" if stale else "up to date")
        return int(stale)
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
