"""The licence knowledge base: well-formed entries, every spelling resolves, facts hold."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from license_samples import scancode_text
from pellucid.data import load_json
from pellucid.licensing import knowledge
from pellucid.licensing.normalize import normalize_phrase

ENTRIES = knowledge.entries()
IDS = [e.id for e in ENTRIES]
KINDS = {"model", "software", "data", "documentation", "policy"}
MODEL_FAMILIES = {
    "llama", "gemma", "rail", "stability", "flux", "falcon", "qwen", "deepseek", "mistral",
    "nvidia", "ai2-impact",
}  # fmt: skip
FAMILIES = MODEL_FAMILIES | {"openmdw", "permissive", "copyleft", "creative-commons", "data"}
# SPDX ids named in the reference notes (openness-licensing.md §2.1, §2.2); the others must
# equal the SPDX key ScanCode records for the same licence.
REFERENCE_SPDX = {
    "OpenMDW-1.0", "Apache-2.0", "MIT", "CC-BY-4.0", "CC-BY-SA-4.0", "CC-BY-NC-4.0",
    "GPL-3.0-only", "AGPL-3.0-only", "CDLA-Permissive-1.0", "CDLA-Permissive-2.0",
    "CDLA-Sharing-1.0",
}  # fmt: skip
# Hub `license:` ids (hub-docs repositories-licenses.md) of covered licences -> entry.
HF_IDS = {
    "apache-2.0": "apache-2.0", "mit": "mit", "openrail": "openrail",
    "bigscience-openrail-m": "bigscience-openrail-m",
    "creativeml-openrail-m": "creativeml-openrail-m",
    "bigscience-bloom-rail-1.0": "bigscience-bloom-rail-1.0",
    "bigcode-openrail-m": "bigcode-openrail-m-v1", "bsd": "bsd", "bsd-2-clause": "bsd-2-clause",
    "bsd-3-clause": "bsd-3-clause", "cc0-1.0": "cc0-1.0", "cc-by-4.0": "cc-by-4.0",
    "cc-by-sa-4.0": "cc-by-sa-4.0", "cc-by-nc-2.0": "cc-by-nc-2.0", "cc-by-nc-3.0": "cc-by-nc-3.0",
    "cc-by-nc-4.0": "cc-by-nc-4.0", "cc-by-nc-nd-3.0": "cc-by-nc-nd-3.0",
    "cc-by-nc-nd-4.0": "cc-by-nc-nd-4.0", "cc-by-nc-sa-2.0": "cc-by-nc-sa-2.0",
    "cc-by-nc-sa-3.0": "cc-by-nc-sa-3.0", "cc-by-nc-sa-4.0": "cc-by-nc-sa-4.0",
    "cdla-sharing-1.0": "cdla-sharing-1.0", "cdla-permissive-1.0": "cdla-permissive-1.0",
    "cdla-permissive-2.0": "cdla-permissive-2.0", "agpl-3.0": "agpl-3.0", "gpl": "gpl",
    "gpl-2.0": "gpl-2.0", "gpl-3.0": "gpl-3.0", "lgpl": "lgpl", "lgpl-2.1": "lgpl-2.1",
    "lgpl-3.0": "lgpl-3.0", "openmdw-1.0": "openmdw-1.0", "openmdw-1.1": "openmdw-1.1",
    "openrail++": "openrail++-m", "llama2": "llama-2-community", "llama3": "llama-3-community",
    "llama3.1": "llama-3.1-community", "llama3.2": "llama-3.2-community",
    "llama3.3": "llama-3.3-community", "llama4": "llama-4-community", "gemma": "gemma-terms",
}  # fmt: skip
# `license_name` values seen with `license: other` (reference §2.1).
LICENSE_NAMES = {
    "qwen": "qwen-2024", "qwen-research": "qwen-research", "mrl": "mistral-mrl-0.1",
    "mnpl": "mistral-mnpl-0.1", "deepseek": "deepseek-la-1.0",
    "deepseek-license": "deepseek-la-1.0",
    "stabilityai-ai-community": "stability-ai-community", "tongyi-qianwen": "tongyi-qianwen-2023",
    "flux-1-dev-non-commercial-license": "flux-1-dev-non-commercial",
}  # fmt: skip
_ISO = re.compile(r"\d{4}-\d{2}(-\d{2})?")


def entry(license_id: str) -> knowledge.LicenseEntry:
    found = knowledge.by_id(license_id)
    assert found is not None, license_id
    return found


def test_ids_are_unique_lowercase_and_stable() -> None:
    assert len(IDS) == len(set(IDS))
    for license_id in IDS:
        assert re.fullmatch(r"[a-z0-9][a-z0-9.+-]*", license_id), license_id


@pytest.mark.parametrize("item", ENTRIES, ids=IDS)
def test_entry_is_well_formed(item: knowledge.LicenseEntry) -> None:
    assert item.kind in KINDS
    assert item.family in FAMILIES
    assert item.name.strip()
    assert item.date is None or _ISO.fullmatch(item.date)
    expected_ref = item.spdx_id or f"LicenseRef-pellucid-{item.id}"
    assert item.license_ref == expected_ref
    terms = item.terms
    assert terms.commercial_use in {"yes", "no", "conditional"}
    assert terms.art53_foss in {"yes", "no", "doubtful"}
    if terms.commercial_use == "no":
        assert terms.art53_foss == "no"
    if terms.user_threshold or terms.revenue_threshold_usd:
        assert terms.commercial_use == "conditional"
    assert item.sources
    assert all(s.startswith("https://") for s in item.sources)
    for duty in item.must + item.must_not:
        assert duty.strip().endswith(".")
        assert len(duty) < 300
    if item.policy is not None:
        assert entry(item.policy).kind == "policy"


@pytest.mark.parametrize(("hf_id", "license_id"), sorted(HF_IDS.items()))
def test_hub_license_ids_resolve(hf_id: str, license_id: str) -> None:
    assert entry(license_id).id == license_id
    found = knowledge.lookup(hf_id)
    assert found is not None
    assert found.id == license_id


@pytest.mark.parametrize(("name", "license_id"), sorted(LICENSE_NAMES.items()))
def test_license_name_spellings_resolve(name: str, license_id: str) -> None:
    found = knowledge.lookup(name)
    assert found is not None
    assert found.id == license_id


@pytest.mark.parametrize("item", ENTRIES, ids=IDS)
def test_every_spelling_resolves_whatever_the_case_spaces_or_dashes(
    item: knowledge.LicenseEntry,
) -> None:
    names = [item.id, item.license_ref, *item.hf_ids, *item.scancode_keys, *item.aliases]
    names += [f"LicenseRef-scancode-{key}" for key in item.scancode_keys]
    for name in names:
        for spelling in (
            name,
            name.upper(),
            f"  {name.replace('-', ' ')} ",
            name.replace("-", "_"),
        ):
            found = knowledge.lookup(spelling)
            assert found == item, spelling


def test_no_spelling_is_claimed_by_two_entries() -> None:
    assert knowledge.name_collisions() == []


@pytest.mark.parametrize("name", ["other", "unknown", "cc", "", "llama", "open source", "MIT-ish"])
def test_unknown_or_ambiguous_names_are_not_guessed(name: str) -> None:
    assert knowledge.lookup(name) is None


@settings(max_examples=150, deadline=500)
@given(st.text(max_size=400))
def test_lookup_never_raises(name: str) -> None:
    found = knowledge.lookup(name)
    assert found is None or found in ENTRIES


def test_spdx_ids_are_real_ones() -> None:
    for item in ENTRIES:
        if item.spdx_id is None or item.spdx_id in REFERENCE_SPDX:
            continue
        assert item.scancode_keys, item.id
        header = _scancode_header(item.scancode_keys[0])
        assert f"spdx_license_key: {item.spdx_id}\n" in header, item.id


@pytest.mark.parametrize("item", [e for e in ENTRIES if e.family in MODEL_FAMILIES], ids=str)
def test_model_licences_have_no_spdx_id(item: knowledge.LicenseEntry) -> None:
    assert item.spdx_id is None
    assert item.license_ref == f"LicenseRef-pellucid-{item.id}"


def test_llama_terms_follow_the_texts() -> None:
    for version in ("2", "3", "3.1", "3.2", "3.3", "4"):
        license_id = f"llama-{version}-community"
        item = entry(license_id)
        assert item.terms.user_threshold == 700_000_000
        assert item.terms.use_restrictions
        assert item.terms.art53_foss == "no"
        assert item.policy is not None
        assert item.policy.endswith("-aup")
        forbids = (item.terms.improve_other_models or "").startswith("forbidden")
        assert forbids == (license_id in {"llama-2-community", "llama-3-community"})
    assert 'Built with Meta Llama 3"' in (entry("llama-3-community").terms.attribution or "")
    assert 'Built with Llama"' in (entry("llama-3.1-community").terms.attribution or "")
    assert entry("llama-3.1-community").terms.eu_restriction is None
    assert entry("llama-3.2-community").terms.eu_restriction is not None
    assert entry("qwen-2024").terms.user_threshold == 100_000_000
    assert entry("stability-ai-community").terms.revenue_threshold_usd == 1_000_000


def test_llama_3_entry_says_its_fingerprint_is_derived() -> None:
    facts = knowledge.text_facts("llama-3-community")
    assert facts is not None
    assert facts.fingerprint == "derived"
    assert facts.note is not None
    assert "ScanCode" in facts.note
    assert facts.derived_from
    assert entry("llama-3-community").scancode_keys == ()


def test_fingerprints_match_the_knowledge_base() -> None:
    shipped = load_json("license_fingerprints.json")
    assert shipped["kb_version"] == knowledge.kb_version()
    with_text = {
        e.id for e in ENTRIES if (f := knowledge.text_facts(e.id)) is not None and f.fingerprint
    }
    assert set(shipped["entries"]) == with_text


def test_shipped_fingerprints_equal_a_fresh_build() -> None:
    scancode_text("mit")  # skips without scancode-toolkit
    script = Path(__file__).resolve().parents[2] / "scripts" / "build_license_fingerprints.py"
    spec = importlib.util.spec_from_file_location("build_license_fingerprints", script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fresh = module.build()
    assert fresh["entries"] == load_json("license_fingerprints.json")["entries"]


def test_markers_appear_in_their_text_and_in_no_sibling() -> None:
    texts = {
        e.id: " " + normalize_phrase(scancode_text(e.scancode_keys[0])) + " "
        for e in ENTRIES
        if (f := knowledge.text_facts(e.id)) is not None and f.fingerprint == "scancode"
    }
    for item in ENTRIES:
        facts = knowledge.text_facts(item.id)
        if facts is None:
            continue
        for marker in facts.markers:
            phrase = " " + normalize_phrase(marker) + " "
            if item.id in texts:
                assert phrase in texts[item.id], (item.id, marker)
            kin = (item.family, item.kind)
            siblings = [
                e.id
                for e in ENTRIES
                if e.id != item.id and e.id in texts and (e.family, e.kind) == kin
            ]
            assert all(phrase not in texts[s] for s in siblings), (item.id, marker)


def _scancode_header(key: str) -> str:
    spec = importlib.util.find_spec("licensedcode")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("scancode-toolkit (licence data) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "licenses"
    return (path / f"{key}.LICENSE").read_text(encoding="utf-8").split("\n---", 1)[0] + "\n"
