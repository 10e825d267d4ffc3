"""OSAID 1.0 verdicts and OSAI Index dimensions of generated folders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openness_samples import LLAMA_CARD, card_only_folder, pythia_folder

from pellucid.formats.modelcard import find_card
from pellucid.modelfiles import ModelFiles
from pellucid.openness.components import LicenseScopes, inventory
from pellucid.openness.osai_index import DIMENSIONS, assess_index
from pellucid.openness.osaid import assess_osaid


def assess(model: ModelFiles, scopes: LicenseScopes) -> tuple[dict[str, Any], dict[str, Any]]:
    card = find_card(model)
    items = inventory(model, card, scopes)
    return assess_osaid(items, scopes), assess_index(items, scopes, card)


def test_apache_pythia_folder_is_undetermined_on_data_information(tmp_path: Path) -> None:
    # Licences and code pass; OSAID's data information (a skilled person could build a
    # substantially equivalent system) cannot be judged from files, so no "conformant".
    osaid, index = assess(pythia_folder(tmp_path), LicenseScopes(primary="Apache-2.0"))
    assert osaid["verdict"] == "undetermined"
    elements = osaid["elements"]
    assert elements["parameters"]["status"] == "pass"
    assert elements["code"]["status"] == "pass"
    assert elements["data_information"]["status"] == "undetermined"
    assert "(1) training data description: found" in elements["data_information"]["reasons"]
    assert index["dimensions"]["licenses"]["class"] == "open"
    assert index["dimensions"]["weights_endmodel"]["class"] == "open"
    assert index["dimensions"]["paper"]["class"] == "undetermined"
    assert (
        index["coverage"] == f"{index['decided']} of {len(DIMENSIONS)} dimensions decidable offline"
    )


@pytest.mark.parametrize(
    ("licence", "shown"),
    [
        ("llama3.1", "'llama3.1'"),  # Llama community licence: no SPDX id, not OSI-approved
        ("CreativeML-OpenRAIL-M", "'CreativeML-OpenRAIL-M'"),  # use restrictions
        ("CC-BY-NC-4.0", "'CC-BY-NC-4.0'"),  # non-commercial
    ],
)
def test_restricted_weights_are_not_conformant(tmp_path: Path, licence: str, shown: str) -> None:
    osaid, index = assess(card_only_folder(tmp_path, LLAMA_CARD), LicenseScopes(primary=licence))
    assert osaid["verdict"] == "not_conformant"
    assert osaid["elements"]["parameters"]["status"] == "fail"
    assert shown in osaid["elements"]["parameters"]["reasons"][0]
    assert index["dimensions"]["licenses"]["class"] == "closed"
    # a fine-tune: the base model's data and weights are elsewhere
    assert index["dimensions"]["weights_basemodel"]["class"] == "undetermined"
    assert index["dimensions"]["weights_endmodel"]["class"] == "partial"  # gated


def test_free_data_licence_on_weights_is_undetermined(tmp_path: Path) -> None:
    osaid, _ = assess(card_only_folder(tmp_path, LLAMA_CARD), LicenseScopes(primary="CC-BY-4.0"))
    assert osaid["elements"]["parameters"]["status"] == "undetermined"
    assert osaid["verdict"] == "undetermined"


def test_unknown_licence_is_never_guessed(tmp_path: Path) -> None:
    osaid, index = assess(card_only_folder(tmp_path, LLAMA_CARD), LicenseScopes())
    assert osaid["verdict"] == "undetermined"
    assert "no licence identified" in osaid["elements"]["parameters"]["reasons"][0]
    assert index["dimensions"]["licenses"]["class"] == "undetermined"
