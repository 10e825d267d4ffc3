"""Build a small "model shelf" for the demo: five model folders, three of them hostile.

The hostile payloads are harmless: each would only create the marker file ``CANARY-FIRED`` in
the shelf folder if something ever executed it. ``check_canary.py`` checks it never appears.
Files are assembled byte by byte where the real framework is not needed, so the demo installs
only pellucid itself plus scikit-learn for the clean joblib sample.
"""

from __future__ import annotations

import base64
import io
import json
import marshal
import shutil
import struct
import sys
import zipfile
from pathlib import Path

MARKER_NAME = "CANARY-FIRED"


def main() -> None:
    shelf = Path(sys.argv[1] if len(sys.argv) > 1 else "demo/shelf")
    if shelf.exists():
        shutil.rmtree(shelf)
    shelf.mkdir(parents=True)
    marker = (shelf / MARKER_NAME).resolve()
    build_llama(shelf / "llama-3-tiny")
    build_sd_checkpoint(shelf / "sd-v1-style", marker)
    build_gguf(shelf / "chat-gguf", marker)
    build_keras(shelf / "keras-lambda", marker)
    build_sklearn(shelf / "sklearn-iris")
    print(f"built demo shelf in {shelf}")


# --- a clean Llama-like folder --------------------------------------------------------------

LLAMA3_STYLE_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' }}"
    "{{ message['content'] | trim }}{{ '<|eot_id|>' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
    "{% endif %}"
)


def build_llama(folder: Path) -> None:
    folder.mkdir()
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": 8,
        "intermediate_size": 16,
        "num_attention_heads": 2,
        "num_hidden_layers": 1,
        "num_key_value_heads": 2,
        "vocab_size": 16,
        "torch_dtype": "float32",
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    (folder / "generation_config.json").write_text(json.dumps({"bos_token_id": 1}))
    (folder / "tokenizer_config.json").write_text(
        json.dumps(
            {"bos_token": "<|begin_of_text|>", "chat_template": LLAMA3_STYLE_TEMPLATE}, indent=2
        )
    )
    tensors = {
        "model.embed_tokens.weight": (16, 8),
        "model.layers.0.mlp.up_proj.weight": (16, 8),
        "lm_head.weight": (16, 8),
    }
    write_safetensors(folder / "model.safetensors", tensors)
    (folder / "README.md").write_text(
        "---\nlicense: llama3.1\nbase_model: meta-llama/Llama-3.1-8B\n"
        "base_model_relation: finetune\ndatasets:\n- tatsu-lab/alpaca\n---\n"
        "# llama-3-tiny\n\nA toy Llama-shaped model with random weights, built for the demo.\n\n"
        "## Intended use\n\nDemonstrating pellucid. Not for any real task.\n\n"
        "## Training data\n\nFine-tuned on 52K instructions (about 10 million tokens).\n\n"
        "## Limitations\n\nRandom weights: the model says nothing meaningful.\n"
    )
    copy_license_text("llama-3.1-license-2024", folder / "LICENSE")
    # a second copy of the model whose card claims MIT although the text is Llama 3.1's
    twin = folder.parent / "llama-claims-mit"
    shutil.copytree(folder, twin)
    card = (twin / "README.md").read_text().replace("license: llama3.1", "license: mit")
    (twin / "README.md").write_text(card.replace("# llama-3-tiny", "# TinyChat (claims MIT)"))


def copy_license_text(scancode_key: str, target: Path) -> None:
    """Licence texts are not shipped with pellucid: take one from ScanCode's data when that
    package is installed (make demo installs it), else leave a pointer."""
    import importlib.util

    spec = importlib.util.find_spec("licensedcode")
    if spec is not None and spec.submodule_search_locations:
        source = Path(next(iter(spec.submodule_search_locations)))
        text = source / "data" / "licenses" / f"{scancode_key}.LICENSE"
        if text.exists():
            body = text.read_text(encoding="utf-8").split("---", 2)[-1].lstrip()
            target.write_text(body, encoding="utf-8")
            return
    target.write_text(f"See the {scancode_key} licence text.\n", encoding="utf-8")


def write_safetensors(path: Path, tensors: dict[str, tuple[int, int]]) -> None:
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, shape in tensors.items():
        size = shape[0] * shape[1] * 4
        header[name] = {
            "dtype": "F32",
            "shape": list(shape),
            "data_offsets": [offset, offset + size],
        }
        offset += size
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + bytes(offset))


# --- a Stable-Diffusion-style .ckpt with a planted payload -------------------------------------


def _short(text: str) -> bytes:
    data = text.encode()
    return b"\x8c" + bytes([len(data)]) + data


def _global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def build_sd_checkpoint(folder: Path, marker: Path) -> None:
    """A torch-zip checkpoint whose state dict also carries an exec() call (never run)."""
    folder.mkdir()
    tensor = (
        _global("torch._utils", "_rebuild_tensor_v2")
        + b"(("  # args tuple, then the persistent id tuple
        + _short("storage")
        + _global("torch", "FloatStorage")
        + _short("0")
        + _short("cpu")
        + b"K\x10tQ"  # 16 elements; BINPERSID
        + b"K\x00"
        + b"K\x04K\x04\x86"
        + b"K\x04K\x01\x86"
        + b"\x89"  # offset, size, stride, grad
        + _global("collections", "OrderedDict")
        + b")R"  # backward hooks
        + b"tR"
    )
    payload = (
        _global("builtins", "exec") + b"(" + _short(f"open({str(marker)!r}, 'w').close()") + b"tR"
    )
    state_dict = (
        _global("collections", "OrderedDict")
        + b")R"
        + b"("
        + _short("model.diffusion_model.input_blocks.0.0.weight")
        + tensor
        + _short("cond_stage_model.transformer.text_model.final_layer_norm.bias")
        + payload
        + b"u"
    )
    data_pkl = (
        b"\x80\x02}(" + _short("state_dict") + state_dict + _short("global_step") + b"K\x01u."
    )
    with zipfile.ZipFile(folder / "sd-v1-style.ckpt", "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", data_pkl)
        archive.writestr("archive/byteorder", "little")
        archive.writestr("archive/data/0", bytes(64))
        archive.writestr("archive/version", "3\n")
    (folder / "README.md").write_text(
        "---\nlicense: creativeml-openrail-m\nbase_model: runwayml/stable-diffusion-v1-5\n---\n"
        "# sd-v1-style\n\nA checkpoint in the style of SD 1.x.\n"
    )


# --- a GGUF file with a hostile chat template --------------------------------------------------


def _gguf_string(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<Q", len(data)) + data


def build_gguf(folder: Path, marker: Path) -> None:
    folder.mkdir()
    template = (
        "{% for message in messages %}{{ message['content'] }}{% endfor %}"
        "{{ cycler.__init__.__globals__.os.popen('touch " + str(marker) + "').read() }}"
    )
    kvs = [
        ("general.architecture", "llama"),
        ("general.name", "tiny-chat"),
        ("tokenizer.chat_template", template),
    ]
    out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, 1, len(kvs)))
    for key, value in kvs:
        out += _gguf_string(key) + struct.pack("<I", 8) + _gguf_string(value)  # 8 = STRING
    out += _gguf_string("token_embd.weight") + struct.pack("<IQIQ", 1, 8, 0, 0)  # F32 [8]
    out += bytes(-len(out) % 32)
    out += bytes(32)
    (folder / "tiny-chat.Q8_0.gguf").write_bytes(bytes(out))


# --- a Keras file with a Lambda layer ----------------------------------------------------------


def build_keras(folder: Path, marker: Path) -> None:
    folder.mkdir()
    source = f"lambda x: (open({str(marker)!r}, 'w').close(), x)[1]"
    code = compile(source, "<demo>", "eval")  # compiled only, never executed
    lambda_code = next(c for c in code.co_consts if hasattr(c, "co_code"))
    encoded = base64.b64encode(marshal.dumps(lambda_code)).decode()
    config = {
        "module": "keras",
        "class_name": "Sequential",
        "registered_name": None,
        "config": {
            "name": "sequential",
            "layers": [
                {
                    "module": "keras.layers",
                    "class_name": "InputLayer",
                    "registered_name": None,
                    "config": {"batch_shape": [None, 4], "dtype": "float32", "name": "input_layer"},
                },
                {
                    "module": "keras.layers",
                    "class_name": "Lambda",
                    "registered_name": None,
                    "config": {
                        "name": "lambda",
                        "function": {
                            "class_name": "__lambda__",
                            "config": {"code": encoded, "defaults": None, "closure": None},
                        },
                    },
                },
            ],
        },
    }
    metadata = {"keras_version": "3.15.1", "date_saved": "2026-11-23@00:00:00"}
    with zipfile.ZipFile(folder / "model.keras", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.json", json.dumps(metadata))
        archive.writestr("config.json", json.dumps(config))


# --- a clean scikit-learn pipeline saved with joblib -------------------------------------------


def build_sklearn(folder: Path) -> None:
    folder.mkdir()
    try:
        import joblib
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
    except ImportError:
        (folder / "README.md").write_text("scikit-learn is not installed; no sample built.\n")
        return
    features = [[5.1, 3.5], [4.9, 3.0], [6.2, 3.4], [5.9, 3.0], [6.9, 3.1], [5.5, 2.3]]
    labels = [0, 0, 1, 1, 1, 0]
    pipeline = make_pipeline(StandardScaler(), LogisticRegression()).fit(features, labels)
    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer)
    (folder / "pipeline.joblib").write_bytes(buffer.getvalue())


if __name__ == "__main__":
    main()
