"""HfRepoAnalyzer and the Hugging Face scanners end to end on generated model folders."""

from __future__ import annotations

import json
import pickle
import struct
import zipfile
from pathlib import Path

from canary import Canary, fires_in_subprocess
from chat_template_samples import BENIGN, hostile
from pellucid.audit import AuditOptions, run_audit
from pellucid.identify import TORCH_LEGACY_MAGIC
from pellucid.model import AuditReport, Finding, Severity
from pellucid.scanners.huggingface import HfConfigScanner, HfRepoAnalyzer, LfsPointerScanner
from pellucid.scanners.python_code import PythonCodeScanner

MODELING_THAT_SPAWNS = """\
import subprocess
import torch
from torch import nn

subprocess.run({command!r}, shell=True, check=False)


class TinyModel(nn.Module):
    def forward(self, x):
        return torch.relu(x)
"""


def audit(*paths: Path) -> AuditReport:
    scanners = [HfConfigScanner(), LfsPointerScanner(), PythonCodeScanner()]
    return run_audit(
        list(paths), AuditOptions(scanners=scanners, folder_analyzers=[HfRepoAnalyzer()])
    )


def rules(report: AuditReport, prefix: str = "PCL-") -> list[tuple[str, str, Severity]]:
    return sorted(
        (f.rule_id, Path(f.evidence.file).name, f.severity)
        for f in report.findings
        if f.rule_id.startswith(prefix)
    )


def of(report: AuditReport, rule_id: str) -> list[Finding]:
    return [f for f in report.findings if f.rule_id == rule_id]


def write_json(path: Path, doc: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2))


def safetensors_bytes() -> bytes:
    header = json.dumps({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
    return struct.pack("<Q", len(header)) + header + b"\0\0\0\0"


def torch_zip(path: Path, with_pickle: bool = True) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        if with_pickle:
            archive.writestr("archive/data.pkl", pickle.dumps({"w": 1}, protocol=2))
        archive.writestr("archive/version", "3\n")


def test_remote_code_model_that_spawns_a_process(tmp_path: Path, canary: Canary) -> None:
    model = tmp_path / "model"
    write_json(
        model / "config.json",
        {
            "model_type": "tiny",
            "auto_map": {
                "AutoModel": "modeling_tiny.TinyModel",
                "AutoModelForCausalLM": "someone-else/tiny-code--modeling_tiny.TinyForCausalLM",
            },
        },
    )
    (model / "modeling_tiny.py").write_text(MODELING_THAT_SPAWNS.format(command=canary.shell))
    (model / "model.safetensors").write_bytes(safetensors_bytes())
    report = audit(model)
    assert rules(report) == [
        ("PCL-HFR-001", "config.json", Severity.MEDIUM),
        ("PCL-HFR-002", "config.json", Severity.HIGH),
        ("PCL-PY-001", "modeling_tiny.py", Severity.HIGH),
    ]
    (spawn,) = of(report, "PCL-PY-001")
    assert spawn.evidence.line == 5
    assert spawn.evidence.snippet.startswith("subprocess.run(")
    assert "modeling_tiny.py (present)" in of(report, "PCL-HFR-001")[0].detail
    # The sample is real: importing the module (what trust_remote_code does) runs the command.
    proof = tmp_path / "proof"
    probe = tmp_path / "probe.py"
    probe.write_text(
        MODELING_THAT_SPAWNS.format(command=f"touch {proof}")
        .replace("import torch\nfrom torch import nn\n", "")
        .replace("(nn.Module)", "")
        .replace("torch.relu(x)", "x")
    )
    assert fires_in_subprocess(f"import runpy; runpy.run_path({str(probe)!r})", proof)


def test_pickle_only_weights_versus_safetensors(tmp_path: Path) -> None:
    only = tmp_path / "pickle-only"
    only.mkdir()
    torch_zip(only / "pytorch_model.bin")
    (only / "optimizer.pt").write_bytes(TORCH_LEGACY_MAGIC + b"\x80\x02}q\x00.")
    (only / "extra.pkl").write_bytes(pickle.dumps([1, 2], protocol=2))
    torch_zip(only / "notes_model.bin", with_pickle=False)  # a zip, but no pickle inside
    write_json(only / "config.json", {"model_type": "tiny"})
    both = tmp_path / "both"
    both.mkdir()
    torch_zip(both / "pytorch_model.bin")
    (both / "model.safetensors").write_bytes(safetensors_bytes())
    report = audit(tmp_path)
    assert rules(report, "PCL-HFR") == [
        ("PCL-HFR-009", "extra.pkl", Severity.LOW),
        ("PCL-HFR-010", "pytorch_model.bin", Severity.INFO),
    ]
    (pickle_only,) = of(report, "PCL-HFR-009")
    assert pickle_only.evidence.snippet == "extra.pkl, optimizer.pt, pytorch_model.bin"


def test_sharded_index_with_a_missing_shard_and_a_parent_path(tmp_path: Path) -> None:
    model = tmp_path / "model"
    (model / "model-00001-of-00002.safetensors").parent.mkdir(parents=True)
    (model / "model-00001-of-00002.safetensors").write_bytes(safetensors_bytes())
    write_json(
        model / "model.safetensors.index.json",
        {
            "metadata": {},
            "weight_map": {
                "a.weight": "model-00001-of-00002.safetensors",
                "b.weight": "model-00002-of-00002.safetensors",
                "c.weight": "../../other/pytorch_model.bin",
                "d.weight": 7,
            },
        },
    )
    report = audit(model)
    assert rules(report) == [
        ("PCL-HFR-013", "model.safetensors.index.json", Severity.LOW),
        ("PCL-HFR-014", "model.safetensors.index.json", Severity.HIGH),
    ]
    (missing,) = of(report, "PCL-HFR-013")
    assert missing.evidence.snippet == "model-00002-of-00002.safetensors"
    assert "1 entries are not file names" in missing.detail
    (outside,) = of(report, "PCL-HFR-014")
    assert outside.evidence.snippet == '"c.weight": "../../other/pytorch_model.bin"'


def test_code_named_by_auto_map_is_missing(tmp_path: Path) -> None:
    write_json(
        tmp_path / "tokenizer_config.json",
        {"auto_map": {"AutoTokenizer": ["tokenization_tiny.TinyTokenizer", None]}},
    )
    report = audit(tmp_path)
    (missing,) = of(report, "PCL-HFR-011")
    assert missing.evidence.snippet == "auto_map.AutoTokenizer[0]: tokenization_tiny.TinyTokenizer"
    assert "tokenization_tiny.py is not in" in missing.detail


def test_python_files_without_auto_map(tmp_path: Path) -> None:
    stray = tmp_path / "stray"
    write_json(stray / "config.json", {"model_type": "bert"})
    (stray / "convert_weights.py").write_text("import json\n")
    used = tmp_path / "used"
    write_json(used / "config.json", {"auto_map": {"AutoModel": "modeling_x.X"}})
    (used / "modeling_x.py").write_text("import torch\n")
    (used / "utils_x.py").write_text("import math\n")  # imported by modeling_x: expected
    project = tmp_path / "project"  # not a model folder: no config, no weights
    project.mkdir()
    (project / "train.py").write_text("import json\n")
    report = audit(tmp_path)
    (unused,) = of(report, "PCL-HFR-012")
    assert (unused.severity, unused.evidence.snippet) == (Severity.INFO, "convert_weights.py")


def test_diffusers_component_code_is_referenced_from_the_pipeline_folder(tmp_path: Path) -> None:
    write_json(
        tmp_path / "model_index.json",
        {
            "_class_name": "StableDiffusionPipeline",
            "_diffusers_version": "0.30.0",
            "unet": ["my_unet", "MyUNet"],
        },
    )
    write_json(tmp_path / "unet" / "config.json", {"_class_name": "MyUNet"})
    (tmp_path / "unet" / "my_unet.py").write_text("import torch\n")
    report = audit(tmp_path)
    assert rules(report, "PCL-HFR") == [("PCL-HFR-001", "model_index.json", Severity.MEDIUM)]


def test_chat_template_jinja_files(tmp_path: Path, canary: Canary) -> None:
    write_json(tmp_path / "config.json", {"model_type": "llama"})
    (tmp_path / "chat_template.jinja").write_text(hostile(canary.shell)["lipsum-globals"])
    (tmp_path / "additional_chat_templates").mkdir()
    (tmp_path / "additional_chat_templates" / "rag.jinja").write_text(BENIGN["llama3-headers"])
    report = audit(tmp_path)
    found = [f for f in report.findings if f.rule_id.startswith("PCL-TPL")]
    assert found
    assert {Path(f.evidence.file).name for f in found} == {"chat_template.jinja"}
    assert max(f.severity for f in found) is Severity.CRITICAL


def test_hugging_face_cache_snapshot_links(tmp_path: Path) -> None:
    repo = tmp_path / "models--org--tiny"
    blobs, snapshot = repo / "blobs", repo / "snapshots" / "0123abc"
    blobs.mkdir(parents=True)
    snapshot.mkdir(parents=True)
    (blobs / "b1").write_text(
        json.dumps(
            {"model_type": "tiny", "auto_map": {"AutoModel": "org/tiny--modeling_tiny.TinyModel"}}
        )
    )
    (blobs / "b2").write_text("import torch\n")
    (blobs / "b3").write_text(json.dumps({"weight_map": {"w": "model-1.safetensors"}}))
    (snapshot / "config.json").symlink_to("../../blobs/b1")
    (snapshot / "modeling_tiny.py").symlink_to("../../blobs/b2")
    (snapshot / "model.safetensors.index.json").symlink_to("../../blobs/b3")
    (snapshot / "model-1.safetensors").symlink_to("../../blobs/not-downloaded")
    # The snapshot is what users point at; its links resolve into blobs/ of the same repo.
    report = audit(snapshot)
    assert rules(report) == [
        ("PCL-HFR-001", "config.json", Severity.MEDIUM),
        ("PCL-HFR-013", "model.safetensors.index.json", Severity.LOW),
    ]
    assert "(present)" in of(report, "PCL-HFR-001")[0].detail
