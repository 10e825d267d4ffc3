"""The MOF component inventory of generated model folders."""

from __future__ import annotations

from pathlib import Path

from openness_samples import (
    LLAMA_CARD,
    PYTHIA_CARD,
    card_only_folder,
    pythia_folder,
    safetensors_bytes,
    write,
)

from pellucid.formats.modelcard import find_card
from pellucid.openness.components import InventoryItem, LicenseScopes, inventory, scopes_from

APACHE = LicenseScopes(primary="Apache-2.0")


def items_of(root: Path, scopes: LicenseScopes = APACHE) -> dict[int, InventoryItem]:
    from pellucid.modelfiles import ModelFiles

    model = ModelFiles.scan_folder(root)
    return {item.cid: item for item in inventory(model, find_card(model), scopes)}


def test_full_folder_includes_every_component(tmp_path: Path) -> None:
    pythia_folder(tmp_path)
    items = items_of(tmp_path)
    assert {cid for cid, item in items.items() if item.status == "included"} == set(items) - {11}
    assert items[11].status == "absent"  # no technical report: the paper stands in
    assert items[10].evidence[0].file.endswith("/model.safetensors")
    assert items[24].evidence[0].file.endswith("checkpoint-1000/model.safetensors")
    assert items[7].evidence[0].snippet == "train.py (by name)"
    assert items[21].evidence[0].file.endswith("pythia_paper.pdf")
    assert all(item.license == "Apache-2.0" for item in items.values() if item.status == "included")


def test_card_only_folder_references_what_it_links(tmp_path: Path) -> None:
    card_only_folder(tmp_path, PYTHIA_CARD)
    items = items_of(tmp_path)
    assert items[15].status == "referenced"
    assert items[15].evidence[0].snippet == "EleutherAI/pile"
    assert items[15].license is None  # referenced: its terms are not in the folder
    assert items[21].status == "referenced"
    assert items[7].status == "referenced"  # a training repository linked from the card
    assert items[24].status == "referenced"
    assert items[8].status == "included"  # the usage example is in the card
    assert items[8].evidence[0].line is not None
    assert items[12].status == "included"  # model-index
    assert items[12].evidence[0].snippet == "model-index"
    assert items[14].status == "included"  # the Training Data section
    assert items[19].status == "referenced"  # a model-index dataset


def test_git_lfs_pointer_is_not_the_weights(tmp_path: Path) -> None:
    pointer = (
        "version https://git-lfs.github.com/spec/v1\noid sha256:" + "a" * 64 + "\nsize 123456\n"
    )
    write(tmp_path, {"model.safetensors": pointer, "README.md": LLAMA_CARD})
    items = items_of(tmp_path)
    assert items[10].status == "referenced"
    assert "Git LFS pointer" in items[10].evidence[0].snippet


def test_numbered_epoch_files_are_intermediate_checkpoints(tmp_path: Path) -> None:
    weights = safetensors_bytes()
    write(
        tmp_path,
        {
            "model_epoch1.safetensors": weights,
            "model_epoch2.safetensors": weights,
            "model_epoch3.safetensors": weights,
        },
    )
    items = items_of(tmp_path)
    assert items[24].status == "included"
    assert len(items[24].evidence) == 2
    assert items[10].evidence[0].file.endswith("model_epoch3.safetensors")


def test_python_files_sorted_by_calls_not_only_names(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "run.py": "import torch\n\nloss = f()\nloss.backward()\n",
            "tool.py": "out = model.generate(ids)\n",
            "notes.txt": "loss.backward()",
        },
    )
    items = items_of(tmp_path)
    assert items[7].status == "included"
    assert items[7].evidence[0].line == 4
    assert items[8].evidence[0].file.endswith("tool.py")
    assert items[13].status == "absent"  # no card


def test_scopes_from_a_licence_assessment() -> None:
    from types import SimpleNamespace

    scopes_map = {"weights": ("MIT", "llama3.1"), "code": "mit", "data": None}
    assessment = SimpleNamespace(primary="llama3.1", scopes=scopes_map)

    scopes = scopes_from(assessment, lambda license_id: license_id.upper())
    assert scopes.weights == "LLAMA3.1"
    assert scopes.code == "MIT"
    assert scopes.for_component(15) == "LLAMA3.1"  # no data licence: the primary one
    assert scopes_from(None) == LicenseScopes()
