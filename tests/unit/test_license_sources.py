"""Licence evidence: every place a model folder states a licence, read within bounds."""

from __future__ import annotations

import os
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from license_samples import card, folder, write_gguf, write_safetensors
from pellucid.licensing.sources import collect, is_license_file
from pellucid.modelfiles import ModelFile, ModelFiles


def statements(root: Path) -> list[tuple[str, str, str, int | None]]:
    evidence = collect(ModelFiles.scan_folder(root))
    return [(s.source, s.text, s.kind, s.line) for s in evidence.statements]


def test_card_license_keys_with_lines(tmp_path: Path) -> None:
    text = card(
        "license: other\nlicense_name: flux-1-dev-non-commercial-license\n"
        "license_link: LICENSE.md\nbase_model: black-forest-labs/FLUX.1-dev"
    )
    root = folder(tmp_path / "m", {"README.md": text})
    evidence = collect(ModelFiles.scan_folder(root))
    found = [(s.source, s.text, s.kind, s.line) for s in evidence.statements]
    assert ("card:license", "other", "id", 2) in found
    assert ("card:license_name", "flux-1-dev-non-commercial-license", "name", 3) in found
    assert ("card:license_link", "LICENSE.md", "link", 4) in found
    assert [(b.repo, b.line) for b in evidence.bases] == [("black-forest-labs/FLUX.1-dev", 5)]


def test_license_files_at_any_depth(tmp_path: Path) -> None:
    root = folder(
        tmp_path / "m",
        {
            "LICENSE": "root licence",
            "LICENSE-MODEL": "model licence",
            "code/LICENCE.txt": "code licence",
            "NOTICE": "Llama 3.1 is licensed under ...",
            "USE_POLICY.md": "policy",
            "docs/THIRD_PARTY_LICENSES.md": "third party",
            "licenses.py": "print('not a licence file')",
            "model_license_notes.json": "{}",
        },
    )
    found = {(text, kind) for source, text, kind, _ in statements(root) if source == "file:LICENSE"}
    assert found == {
        ("root licence", "text"),
        ("model licence", "text"),
        ("code licence", "text"),
        ("Llama 3.1 is licensed under ...", "notice"),
        ("policy", "policy"),
        ("third party", "text"),
    }


def test_is_license_file_names() -> None:
    def named(rel: str) -> ModelFile:
        from pellucid.model import FileKind

        return ModelFile(rel, rel, Path(rel), FileKind.TEXT, 1)

    assert is_license_file(named("COPYING"))
    assert is_license_file(named("sub/LICENSE-CODE"))
    assert is_license_file(named("ACCEPTABLE_USE_POLICY.txt"))
    assert not is_license_file(named("license_check.py"))
    assert not is_license_file(named("README.md"))


def test_readme_license_section(tmp_path: Path) -> None:
    body = "# M\n\nIntro.\n\n## License\n\nReleased under the Apache 2.0 license.\n"
    root = folder(tmp_path / "m", {"README.md": card("tags: [x]", body)})
    assert ("readme:section", "\nReleased under the Apache 2.0 license.", "text", 8) in statements(
        root
    )


def test_gguf_general_license_keys(tmp_path: Path) -> None:
    root = tmp_path / "m"
    root.mkdir()
    write_gguf(
        root / "model.gguf",
        {
            "general.license": "apache-2.0",
            "general.license.link": "https://ai.google.dev/gemma/docs/gemma_4_license",
            "general.base_model.0.repo_url": "https://huggingface.co/google/gemma-4-e2b",
        },
    )
    evidence = collect(ModelFiles.scan_folder(root))
    found = {(s.source, s.text, s.kind) for s in evidence.statements}
    assert ("gguf:general.license", "apache-2.0", "id") in found
    assert (
        "gguf:general.license.link",
        "https://ai.google.dev/gemma/docs/gemma_4_license",
        "link",
    ) in found
    assert all(s.offset for s in evidence.statements)
    assert [b.repo for b in evidence.bases] == ["google/gemma-4-e2b"]


def test_safetensors_metadata_and_shards_once(tmp_path: Path) -> None:
    root = tmp_path / "m"
    root.mkdir()
    for shard in ("a", "b"):
        write_safetensors(root / f"model-{shard}.safetensors", {"format": "pt", "license": "mit"})
    found = [s for s in statements(root) if s[0] == "safetensors:metadata"]
    assert found == [("safetensors:metadata", "mit", "id", None)]


def test_config_and_code_header(tmp_path: Path) -> None:
    root = folder(
        tmp_path / "m",
        {
            "config.json": '{\n  "model_type": "x",\n  "license": "apache-2.0"\n}\n',
            "modeling_x.py": "#!/bin/env python\n# SPDX-License-Identifier: MIT OR Apache-2.0\n",
        },
    )
    found = statements(root)
    assert ("config:license", "apache-2.0", "id", 3) in found
    assert ("code:header", "MIT OR Apache-2.0", "id", 2) in found


def test_broken_yaml_is_a_problem_and_keys_are_rescued(tmp_path: Path) -> None:
    text = "---\nlicense: apache-2.0\ntags: [unclosed\n---\n# M\n"
    root = folder(tmp_path / "m", {"README.md": text})
    evidence = collect(ModelFiles.scan_folder(root))
    assert [p.kind for p in evidence.problems] == ["card-yaml"]
    assert [(s.source, s.text) for s in evidence.statements] == [("card:license", "apache-2.0")]


def test_huge_random_license_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    root = folder(tmp_path / "m", {"LICENSE": os.urandom(5 * 1024 * 1024)})
    started = time.monotonic()
    evidence = collect(ModelFiles.scan_folder(root))
    assert time.monotonic() - started < 5
    assert evidence.statements == []
    (problem,) = evidence.problems
    assert problem.kind == "unreadable"
    assert problem.file.endswith("LICENSE")
    assert "5242880 bytes" in problem.detail


def test_binary_small_license_is_a_problem(tmp_path: Path) -> None:
    root = folder(tmp_path / "m", {"LICENSE.txt": b"\x00\x01binary\x00" * 10})
    (problem,) = collect(ModelFiles.scan_folder(root)).problems
    assert "binary" in problem.detail


@settings(
    max_examples=100,
    deadline=2000,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    readme=st.binary(max_size=400),
    metadata=st.binary(max_size=200),
    gguf=st.binary(max_size=200),
)
def test_arbitrary_bytes_never_raise(
    tmp_path: Path, readme: bytes, metadata: bytes, gguf: bytes
) -> None:
    root = folder(
        tmp_path / "fuzz",
        {
            "README.md": b"---\nlicense: " + readme,
            "LICENSE": readme,
            "model.safetensors": len(metadata).to_bytes(8, "little") + metadata,
            "x.gguf": b"GGUF\x03\x00\x00\x00" + gguf,
            "config.json": metadata,
            "a.py": b"# SPDX-License-Identifier: " + gguf,
        },
    )
    collect(ModelFiles.scan_folder(root))


def test_license_link_to_a_file_in_the_folder_is_read(tmp_path: Path) -> None:
    text = card("license: other\nlicense_name: acme\nlicense_link: ./legal/TERMS.md")
    root = folder(tmp_path / "m", {"README.md": text, "legal/TERMS.md": "Acme terms"})
    found = [(s.source, s.text, s.rel) for s in collect(ModelFiles.scan_folder(root)).statements]
    assert ("file:LICENSE", "Acme terms", "legal/TERMS.md") in found
