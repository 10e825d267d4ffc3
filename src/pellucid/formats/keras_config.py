"""Static reading of Keras model configs (``config.json`` in ``.keras``, ``model_config`` in
``.h5``, per-layer metadata in ``keras_metadata.pb``), Keras 2 and Keras 3 shapes alike.

Keras rebuilds a model by importing the ``module`` / ``class_name`` / ``registered_name`` each
object names and by unmarshalling Lambda bytecode, so those are what this module reports, as
neutral ``KerasHit`` records (the scanners turn them into findings). Nothing here imports or
loads anything; Lambda bytecode is summarised by ``marshal_strings`` without unmarshalling.
"""

from __future__ import annotations

import binascii
import enum
import json
import re
from dataclasses import dataclass

from pellucid.formats.marshal_strings import looks_like_code, summarize_code

MAX_NODES = 1_000_000  # JSON values walked in one config
MAX_HITS = 500

# Packages whose modules Keras itself imports while deserialising (keras/src/saving).
KERAS_PACKAGES = ("keras", "tf_keras", "keras_hub", "keras_nlp", "keras_cv")
KERAS_MODULE_PREFIXES = ("tensorflow.keras", "tensorflow.python.keras")

# Keras APIs that are not modelling code; Keras >= 3.11 refuses some of them, older releases
# do not (CVE-2025-8747 get_file, CVE-2025-9906 enable_unsafe_deserialization).
GADGETS: dict[str, str] = {
    "get_file": "get-file",
    "enable_unsafe_deserialization": "unsafe-deserialization",
    "load_model": "non-modeling",
    "model_from_json": "non-modeling",
    "save_model": "non-modeling",
    "load_weights": "non-modeling",
    "save_weights": "non-modeling",
    "load_img": "non-modeling",
    "save_img": "non-modeling",
    "clear_session": "non-modeling",
    "deserialize_keras_object": "non-modeling",
    "serialize_keras_object": "non-modeling",
    "register_keras_serializable": "non-modeling",
    # keras.utils.*_dataset_from_directory read whole directory trees (NON_MODELING_APIS)
    "image_dataset_from_directory": "non-modeling",
    "text_dataset_from_directory": "non-modeling",
    "audio_dataset_from_directory": "non-modeling",
}

# Python builtins that a "builtins" function reference must not name (Keras releases before
# the CVE-2025-1550 fix import the module and return the attribute).
PYTHON_GADGETS = frozenset(
    (
        "eval",
        "exec",
        "compile",
        "open",
        "__import__",
        "getattr",
        "setattr",
        "delattr",
        "input",
        "breakpoint",
        "globals",
        "vars",
    )
)
# Modules whose functions are a known code-execution or file-access technique.
DANGEROUS_MODULES = frozenset(
    (
        "os",
        "posix",
        "nt",
        "subprocess",
        "sys",
        "shutil",
        "pty",
        "socket",
        "importlib",
        "runpy",
        "pickle",
        "marshal",
        "ctypes",
        "code",
        "builtins",
        "__builtin__",
        "webbrowser",
        "urllib",
        "requests",
        "multiprocessing",
        "pathlib",
        "io",
        "tempfile",
    )
)


def is_dangerous_reference(value: str) -> bool:
    """``os.system``, ``builtins.eval`` ...: the root module is a known gadget source."""
    return value.split(".", 1)[0] in DANGEROUS_MODULES


class HitKind(enum.Enum):
    LAMBDA_CODE = "lambda-code"  # a Lambda with marshalled bytecode
    LAMBDA = "lambda"  # a Lambda whose code is not recognisable bytecode
    FUNCTION_REF = "function-ref"  # a function imported from outside Keras
    FOREIGN_MODULE = "foreign-module"  # a class imported from outside Keras
    CUSTOM_OBJECT = "custom-object"  # "package>Name" registered custom object
    GET_FILE = "get-file"
    UNSAFE_DESERIALIZATION = "unsafe-deserialization"
    NON_MODELING = "non-modeling"  # other Keras I/O / session APIs
    TORCH_MODULE = "torch-module"  # TorchModuleWrapper: torch.load of embedded bytes
    TFSM_LAYER = "tfsm-layer"  # TFSMLayer: loads an external SavedModel


@dataclass(frozen=True, slots=True)
class KerasHit:
    """One suspicious reference in a config: where (JSON path, text position) and what."""

    kind: HitKind
    path: str  # JSON path, e.g. "config.layers[2].config.function"
    layer: str  # name of the enclosing layer, "" at the top
    value: str  # the offending value, short
    line: int | None = None
    offset: int | None = None  # byte offset in the UTF-8 text
    payload: bytes | None = None  # decoded bytes worth scanning (TorchModuleWrapper module)


@dataclass(frozen=True, slots=True)
class KerasAnalysis:
    is_keras: bool
    hits: tuple[KerasHit, ...] = ()
    incomplete: tuple[str, ...] = ()


def is_keras_module(module: str) -> bool:
    """True for modules Keras would import on its own (``keras.src.layers``, ``tf_keras``)."""
    package = module.split(".", 1)[0]
    return package in KERAS_PACKAGES or module.startswith(KERAS_MODULE_PREFIXES)


# ``"class_name"`` with any of its letters written as a \u escape, which json.loads decodes
# (``"class\u005fname"`` is the same key to Keras; a plain substring search misses it).
_CLASS_NAME_KEY = re.compile(
    '"' + "".join(f"(?:{re.escape(c)}|\\\\u00{ord(c):02x})" for c in "class_name") + '"',
    re.IGNORECASE,
)


def looks_like_keras_text(text: str | bytes | memoryview) -> bool:
    """Cheap pre-check before parsing: Keras configs always carry ``"class_name"`` keys."""
    if not isinstance(text, str):
        text = bytes(text).decode("utf-8", "replace")
    return '"class_name"' in text or _CLASS_NAME_KEY.search(text) is not None


def decode_json_bytes(data: bytes) -> str:
    """Text of JSON bytes as ``json.loads(bytes)`` (what Keras calls) decodes them: UTF-8 with
    or without a BOM, UTF-16 and UTF-32 are all accepted there, so they must be here."""
    try:
        return data.decode(json.detect_encoding(data), "surrogatepass").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace")


def analyze_config_text(text: str, *, force: bool = False) -> KerasAnalysis:
    """Parse a JSON config and report Keras hits; never raises.

    Without ``force`` a document that is not shaped like a Keras object (top-level
    ``class_name`` + ``config``, or a Keras 2 ``model_config``) is reported as not Keras.
    """
    try:
        document = json.loads(text)
    except RecursionError:
        # Keras parses the same text with the same json module, but from a shallower call
        # stack: nesting just under the limit loads there and fails here. Fail closed.
        return KerasAnalysis(True, (), ("config nested too deeply for the JSON parser",))
    except ValueError as exc:
        return KerasAnalysis(
            force, (), (f"config is not valid JSON: {str(exc)[:120]}",) if force else ()
        )
    walker = _Walker(text)
    walker.walk(document)
    # deserialize_keras_object walks plain dicts and lists too, so a Keras object anywhere in
    # the document (not only at the top) is rebuilt, and its code run, by load_model.
    if not (force or _is_keras_document(document) or walker.keras_objects):
        return KerasAnalysis(False)
    reasons: tuple[str, ...] = ()
    if walker.truncated:
        reasons = (f"config walk stopped after {MAX_NODES} values (budget)",)
    return KerasAnalysis(True, tuple(walker.hits), reasons)


def _is_keras_document(document: object) -> bool:
    if not isinstance(document, dict):
        return False
    if "class_name" in document and "config" in document:
        return True
    return "model_config" in document or "keras_version" in document


def lambda_code_bytes(code: str) -> bytes:
    """The bytes ``keras.src.utils.python_utils.func_load`` unmarshals for ``code``.

    It base64-decodes ASCII text and, when that fails (non-ASCII characters, bad padding),
    falls back to ``code.encode("raw_unicode_escape")``: raw marshal bytes written as
    ``\u00e3...`` escapes load just as well as base64.
    """
    try:
        return binascii.a2b_base64(code.encode("ascii"))
    except (UnicodeEncodeError, binascii.Error, ValueError):
        try:
            return code.encode("raw_unicode_escape")
        except UnicodeEncodeError:  # lone surrogates: func_load fails on them too
            return b""


def summarize_lambda_code(code: object) -> tuple[HitKind, str]:
    """Decode base64 Lambda code and describe it: (LAMBDA_CODE or LAMBDA, description)."""
    if not isinstance(code, str):
        return HitKind.LAMBDA, f"code of type {type(code).__name__}"
    raw = lambda_code_bytes(code)
    if not looks_like_code(raw):
        return HitKind.LAMBDA, f"{len(raw)} bytes that are not marshalled code"
    summary = summarize_code(raw)
    parts = ["marshalled code"]
    if summary.names:
        parts.append("referencing " + ", ".join(summary.names[:12]))
    if summary.strings:
        parts.append("strings " + ", ".join(repr(s[:80]) for s in summary.strings[:8]))
    if not (summary.names or summary.strings):
        parts.append("(no names or strings)")
    if not summary.complete:
        parts.append("(partly parsed)")
    return HitKind.LAMBDA_CODE, " ".join(parts)


class _Walker:
    """Depth-first, document-order walk with an explicit stack (hostile nesting is fine)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.cursor = 0
        self.nodes = 0
        self.keras_objects = 0  # objects with a string class_name and a config
        self.truncated = False
        self.hits: list[KerasHit] = []

    def walk(self, document: object) -> None:
        stack: list[tuple[object, str, str]] = [(document, "$", "")]
        while stack:
            value, path, layer = stack.pop()
            self.nodes += 1
            if self.nodes > MAX_NODES:
                self.truncated = True
                return
            if isinstance(value, dict):
                layer = self._object(value, path, layer)
                items = [(v, f"{path}.{k}", layer) for k, v in value.items()]
            elif isinstance(value, list):
                items = [(v, f"{path}[{i}]", layer) for i, v in enumerate(value)]
            else:
                # Gadget names may sit in any position (function config, Lambda "function",
                # registered_name); a layer merely *named* "get_file" is not one.
                name = value.rsplit(".", 1)[-1] if isinstance(value, str) else ""
                if name in GADGETS and not path.endswith(".name"):
                    self._hit(HitKind(GADGETS[name]), path, layer, str(value), str(value))
                continue
            stack.extend(reversed(items))

    def _object(self, obj: dict[str, object], path: str, layer: str) -> str:
        """Check one JSON object; returns the layer name its children belong to."""
        class_name = obj.get("class_name")
        config = obj.get("config")
        if not isinstance(class_name, str):
            return layer
        self.keras_objects += "config" in obj
        if isinstance(config, dict) and isinstance(config.get("name"), str):
            layer = str(config["name"])
        module = obj.get("module")
        before = len(self.hits)
        if class_name == "__lambda__":
            # Lambda.from_config unmarshals "code", deserialize_keras_object "value": both
            codes = (
                [config[k] for k in ("code", "value") if k in config]
                if isinstance(config, dict)
                else []
            )
            for code in codes or [None]:
                self._lambda(code[0] if isinstance(code, list) and code else code, path, layer)
        elif class_name == "function":
            self._function(module, config, obj.get("registered_name"), path, layer)
        elif isinstance(module, str) and not is_keras_module(module):
            self._hit(HitKind.FOREIGN_MODULE, path, layer, f"{module}.{class_name}", module)
        if class_name == "Lambda" and isinstance(config, dict):
            self._keras2_lambda(config, path, layer)
        elif class_name == "TorchModuleWrapper":
            self._torch_module(config, path, layer)
        elif class_name == "TFSMLayer":
            target = config.get("filepath") if isinstance(config, dict) else None
            self._hit(HitKind.TFSM_LAYER, path, layer, f"filepath={target!r}", "TFSMLayer")
        if len(self.hits) == before:  # a custom name only matters when nothing worse was seen
            self._registered(obj.get("registered_name"), path, layer)
        return layer

    def _function(
        self, module: object, name: object, registered: object, path: str, layer: str
    ) -> None:
        if not isinstance(name, str):
            name = registered if isinstance(registered, str) else repr(name)
        if name.rsplit(".", 1)[-1] in GADGETS:
            return  # reported by the string check on the value itself
        keras_builtin = module in (None, "builtins") and name not in PYTHON_GADGETS
        if keras_builtin or (isinstance(module, str) and is_keras_module(module)):
            return
        self._hit(HitKind.FUNCTION_REF, path, layer, f"{module}.{name}", str(module))

    def _keras2_lambda(self, config: dict[str, object], path: str, layer: str) -> None:
        """Keras 2 stores (code, defaults, closure) lists with a ``*_type`` discriminator."""
        for key in ("function", "output_shape", "mask"):
            value = config.get(key)
            kind = config.get(f"{key}_type", "lambda" if key == "function" else "raw")
            if isinstance(value, list) and value and kind == "lambda":
                self._lambda(value[0], f"{path}.config.{key}", layer)
            elif isinstance(value, str) and kind == "lambda":
                self._lambda(value, f"{path}.config.{key}", layer)
            elif isinstance(value, str) and kind == "function":
                module = config.get("module" if key == "function" else f"{key}_module")
                if not (isinstance(module, str) and is_keras_module(module)):
                    self._hit(
                        HitKind.FUNCTION_REF,
                        f"{path}.config.{key}",
                        layer,
                        f"{module}.{value}",
                        value,
                    )

    def _lambda(self, code: object, path: str, layer: str) -> None:
        kind, description = summarize_lambda_code(code)
        needle = json.dumps(code)[:41] if isinstance(code, str) else '"__lambda__"'
        self._hit(kind, path, layer, description, needle, exact=False)

    def _torch_module(self, config: object, path: str, layer: str) -> None:
        blob = config.get("module") if isinstance(config, dict) else None
        payload = None
        if isinstance(blob, str):
            try:
                payload = binascii.a2b_base64(blob.encode("ascii", "ignore"))
            except (binascii.Error, ValueError):
                payload = None
        size = f"{len(payload)} bytes of torch.save data" if payload else "no embedded module"
        self._hit(
            HitKind.TORCH_MODULE,
            path,
            layer,
            f"TorchModuleWrapper with {size}",
            "TorchModuleWrapper",
            payload,
        )

    def _registered(self, registered: object, path: str, layer: str) -> None:
        if not isinstance(registered, str) or ">" not in registered:
            return
        if registered.split(">", 1)[0] not in KERAS_PACKAGES:
            self._hit(HitKind.CUSTOM_OBJECT, path, layer, registered, registered)

    def _hit(
        self,
        kind: HitKind,
        path: str,
        layer: str,
        value: str,
        needle: str,
        payload: bytes | None = None,
        *,
        exact: bool = True,
    ) -> None:
        if len(self.hits) >= MAX_HITS:
            return
        line, offset = self._locate(json.dumps(needle) if exact else needle)
        self.hits.append(KerasHit(kind, path, layer, value, line, offset, payload))

    def _locate(self, needle: str) -> tuple[int | None, int | None]:
        """Find the value in the text after the previous hit (document order), else anywhere."""
        at = self.text.find(needle, self.cursor)
        if at == -1:
            at = self.text.find(needle)
        if at == -1:
            return None, None
        self.cursor = at + 1
        return self.text.count("\n", 0, at) + 1, len(self.text[:at].encode("utf-8", "replace"))
