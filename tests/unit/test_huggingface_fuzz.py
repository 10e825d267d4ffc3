"""The Hugging Face scanners never raise and finish quickly on arbitrary JSON and bytes."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pellucid.identify import identify
from pellucid.model import Artifact, FileKind
from pellucid.scanners.base import FolderFile, ScanContext
from pellucid.scanners.huggingface import HfConfigScanner, HfRepoAnalyzer
from pellucid.source import ByteSource

_KEYS = st.sampled_from(
    [
        "auto_map",
        "AutoModel",
        "AutoTokenizer",
        "chat_template",
        "template",
        "name",
        "trust_remote_code",
        "custom_pipelines",
        "impl",
        "weight_map",
        "_class_name",
        "_diffusers_version",
        "unet",
        "tokenizer_class",
        "x",
    ]
)
_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from(
        [
            "a--b.C",
            "/abs.C",
            "../x.C",
            "m.C",
            "{{ x.__class__ }}",
            "{% for",
            "diffusers",
            "model.safetensors",
        ]
    ),
)
_JSON = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(_KEYS, st.text(max_size=8)), inner, max_size=5),
    ),
    max_leaves=25,
)


def _scan(data: bytes, name: str = "config.json") -> None:
    artifact = Artifact(f"model/{name}", FileKind.JSON, len(data))
    result = HfConfigScanner().scan(artifact, ByteSource(data), ScanContext())
    assert all(f.rule_id.startswith(("PCL-HFR-", "PCL-TPL-")) for f in result.findings)


@settings(max_examples=200, deadline=2000)
@given(_JSON)
def test_random_json_configs_never_raise(doc: object) -> None:
    _scan(json.dumps(doc).encode())


@settings(max_examples=150, deadline=2000)
@given(_JSON, st.binary(min_size=1, max_size=4), st.integers(min_value=0))
def test_mutated_json_never_raises(doc: object, patch: bytes, where: int) -> None:
    data = bytearray(json.dumps(doc).encode())
    at = where % (len(data) + 1)
    data[at : at + len(patch)] = patch
    _scan(bytes(data))
    _scan(bytes(data), "something.json")


@settings(max_examples=40, deadline=5000)
@given(_JSON, _JSON)
def test_repo_analyzer_on_random_configs_never_raises(config: object, index: object) -> None:
    with tempfile.TemporaryDirectory() as name:
        root = Path(name)
        (root / "config.json").write_text(json.dumps(config))
        (root / "model.safetensors.index.json").write_text(json.dumps({"weight_map": index}))
        (root / "chat_template.jinja").write_text(str(index))
        files = []
        for path in sorted(root.iterdir()):
            source = ByteSource(path.read_bytes())
            kind = identify(source, path.name)
            files.append(FolderFile(Artifact(path.as_posix(), kind, source.size), path))
        result = HfRepoAnalyzer().analyze(root, files, ScanContext())
        assert all(f.rule_id.startswith(("PCL-HFR-", "PCL-TPL-")) for f in result.findings)
