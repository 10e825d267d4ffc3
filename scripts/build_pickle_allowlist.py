"""Regenerate src/pellucid/data/pickle_allowlist.json from real pickles (a dev-time tool).

    python scripts/build_pickle_allowlist.py            # rewrite the JSON and the evidence
    python scripts/build_pickle_allowlist.py --check    # exit 1 if either would change

Every global is harvested from a file a framework wrote itself (``torch.save``, ``pickle``,
``joblib.dump``, a Trainer or Lightning checkpoint directory) and read back with
``pickletools.genops``; nothing is ever unpickled. Samples are grouped by framework; each group
leaves its harvest in scripts/allowlist_evidence/<group>.txt. A group whose packages are not
installed (the CI environment has only torch, numpy, scikit-learn, scipy, joblib) is taken from
its evidence file instead, so the JSON is the same in the full and the CI environment. Run it
in an environment with every framework to refresh the evidence (notes/ or the report say which).

A harvested class is a data constructor. Any other harvested global must be reviewed in
allowlist_review.py (allowed, allowed with an argument check, or refused); a known gadget that
is not refused fails the build, and so does an unreviewed callable.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

# Hub libraries must never reach the network while samples are built.
os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_HUB_DISABLE_PROGRESS_BARS="1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import allowlist_groups as evidence
from allowlist_harvest import torch_weights_only
from allowlist_review import (
    ARGUMENT_CHECK,
    EXTRA,
    NOT_GENERATED,
    REFUSED,
    REVIEWED,
    SKIPPED,
    SOURCE_NAMES,
)

from pellucid.scanners.pickle_knowledge import known_gadget

OUT = Path(__file__).resolve().parents[1] / "src/pellucid/data/pickle_allowlist.json"
VERSION = "2026.12"

# Top-level package -> framework label; anything else is the standard library.
_OWN_LABEL = (
    "torch numpy sklearn joblib scipy pandas xgboost lightgbm statsmodels omegaconf hydra "
    "transformers accelerate diffusers peft timm tokenizers sentence_transformers"
)
LABELS = {name: name for name in _OWN_LABEL.split()} | {
    "pytorch_lightning": "lightning",
    "lightning": "lightning",
    "lightning_fabric": "lightning",
}

LABEL_NOTES = {
    "torch": "torch 2.13: weights_only allowlist plus globals harvested from torch.save of "
    "modules, state dicts, optimizers, schedulers and GradScaler (zip and legacy formats)",
    "numpy": "numpy 2.4 harvested (arrays, scalars, dtypes, generators); numpy 1.x spellings "
    "(numpy.core, old RandomState constructors) added by hand",
    "sklearn": "scikit-learn 1.9 harvested from pickle and joblib dumps of fitted estimators, "
    "also fitted on pandas DataFrames",
    "joblib": "joblib 1.6 harvested from joblib.dump",
    "scipy": "scipy 1.17 harvested from sparse matrices and arrays; pre-1.8 module paths by hand",
    "stdlib": "CPython 3.11 data constructors harvested from pickles of plain data and from the "
    "framework files below (protocol-2 __builtin__ spellings, typing special forms)",
    "lightning": "lightning / pytorch_lightning 2.6 harvested from Trainer.fit checkpoints and "
    "Fabric.save (2.x checkpoints carry no Lightning class but AttributeDict); 1.x class paths "
    "from source",
    "transformers": "transformers 5.23 harvested from Trainer checkpoints (training_args.bin, "
    "optimizer.pt, scheduler.pt, rng_state.pth), pytorch_model.bin and torch.save of full "
    "tiny models; older class paths from source",
    "accelerate": "accelerate 1.15 harvested from Accelerator.save_state and training_args.bin",
    "diffusers": "diffusers 0.42 harvested from pickled schedulers, UNet2DModel, DDPMPipeline, "
    "EMAModel state",
    "peft": "peft 0.21 harvested from adapter_model.bin, adapter state dicts, LoraConfig and a "
    "full PeftModel",
    "timm": "timm 1.0 harvested from CheckpointSaver checkpoints and full model objects",
    "tokenizers": "tokenizers 0.23 harvested from a pickled sentence-transformers model",
    "sentence_transformers": "sentence-transformers 6.2 harvested from a full model object",
    "omegaconf": "omegaconf 2.3 harvested from DictConfig / ListConfig (plain and structured), "
    "pickled, in torch.save and in Lightning hyperparameters",
    "hydra": "hydra-core 1.3 harvested from configs composed with the Hydra node",
    "pandas": "pandas 3.1 harvested from DataFrames, Series, indexes and extension arrays "
    "(pickle, joblib, torch.save) and from sklearn fitted on DataFrames",
    "xgboost": "xgboost 3.2 harvested from sklearn-API estimators and Boosters (pickle, joblib)",
    "lightgbm": "lightgbm 4.7 harvested from sklearn-API estimators and Boosters (pickle, joblib)",
    "statsmodels": "statsmodels 0.15 harvested from OLS, Logit (formula) and GLM results",
}


def label_of(entry: str) -> str:
    return LABELS.get(entry.split(".", 1)[0].split(":", 1)[0], "stdlib")


def allowed_entries(harvested: dict[str, evidence.Harvest], trusted: set[str]) -> set[str]:
    """Harvested globals that may be allowed: classes, and reviewed non-classes."""
    reviewed = REVIEWED.keys() | ARGUMENT_CHECK.keys() | REFUSED.keys() | trusted
    unreviewed = sorted(e for e, h in harvested.items() if h.kind != "class" and e not in reviewed)
    if unreviewed:
        raise SystemExit(f"harvested callables or objects to review in allowlist_review.py: "
                         f"{unreviewed}")  # fmt: skip
    return {e for e in harvested if e not in REFUSED}


def check_not_generated(harvested: dict[str, evidence.Harvest]) -> None:
    """A hand-written class path must still resolve to a class where its package is installed,
    unless its reason names the older version it comes from."""
    stale = [
        e
        for e, why in NOT_GENERATED.items()
        if e not in harvested
        and evidence.importable(e.split(".", 1)[0].split(":", 1)[0])
        and evidence.kind_of(e) != "class"
        and "<" not in why
    ]
    if stale:
        raise SystemExit(f"hand-written entries that no longer resolve: {sorted(stale)}")


def build(harvested: dict[str, evidence.Harvest], weights_only: set[str]) -> dict[str, Any]:
    trusted = weights_only | set(EXTRA)  # torch's own list, and the reasoned hand entries
    entries = allowed_entries(harvested, trusted) | trusted | set(NOT_GENERATED)
    clashes = sorted(e for e in entries if known_gadget(*e.split(":", 1)) is not None)
    if clashes:
        raise SystemExit(f"allowlist entries that are known gadgets: {clashes}")
    frameworks: dict[str, dict[str, Any]] = {}
    for entry in sorted(entries):
        group = frameworks.setdefault(
            label_of(entry), {"note": "", "globals": [], "not_generated": {}, "notes": {}}
        )
        group["globals"].append(entry)
        if entry in NOT_GENERATED and entry not in harvested:
            why = NOT_GENERATED[entry]
            source = f"from {SOURCE_NAMES[label_of(entry)]} source, not generated"
            group["not_generated"][entry] = f"{source}: {why}" if why else source
        elif entry in ARGUMENT_CHECK:
            group["notes"][entry] = (
                f"needs an argument check by the scanner: {ARGUMENT_CHECK[entry]}"
            )
        elif entry in EXTRA or entry in REVIEWED:  # ARGUMENT_CHECK first: it says more
            group["notes"][entry] = EXTRA.get(entry) or REVIEWED[entry]
    for label, group in frameworks.items():
        group["note"] = LABEL_NOTES[label]
        for key in ("not_generated", "notes"):
            if not group[key]:
                del group[key]
    refused = {e: f"{REFUSED[e]} (seen in: {'; '.join(sorted(harvested[e].samples))})"
               for e in sorted(REFUSED) if e in harvested}  # fmt: skip
    return {
        "version": VERSION,
        "generated_by": "scripts/build_pickle_allowlist.py",
        "frameworks": dict(sorted(frameworks.items())),
        "refused": refused,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if anything is stale")
    args = parser.parse_args()
    weights_only = torch_weights_only(
        SKIPPED
    )  # before any framework registers its own safe globals
    groups = evidence.collect()
    harvested = evidence.merged(groups)
    check_not_generated(harvested)
    text = json.dumps(build(harvested, weights_only), indent=1) + "\n"
    files = {OUT: text} | evidence.texts(groups)
    stale = sorted(str(p) for p, t in files.items() if not p.exists() or p.read_text() != t)
    if args.check:
        print("\n".join(f"stale: {p}" for p in stale), file=sys.stderr)
        return 1 if stale else 0
    for path, content in files.items():
        path.write_text(content, encoding="utf-8")
    print(f"wrote {len(files)} files ({len(stale)} changed)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
