"""Rules of the Keras config (PCL-KRS) and HDF5 (PCL-H5) scanners, kept apart from the scanner
code so that ``scanners/keras.py`` stays readable."""

from __future__ import annotations

from pellucid.formats.keras_config import HitKind
from pellucid.model import Confidence, Rule, Severity


def _nvd(cve: str) -> str:
    return f"https://nvd.nist.gov/vuln/detail/{cve}"


_SAFE_LOAD = (
    "Do not load the model. If you trust its author, ask for a version without this "
    "reference; otherwise rebuild the architecture in code and load only the weights."
)

LAMBDA_CODE = Rule(
    id="PCL-KRS-001",
    title="Keras Lambda layer carries marshalled Python bytecode",
    severity=Severity.CRITICAL,
    cwe=94,
    description=(
        "A Lambda layer in the model config stores a Python function as base64-encoded marshal "
        "data. Keras unmarshals it and calls it while rebuilding or running the model, so "
        "whoever wrote the file runs code on your machine. The evidence lists the names and "
        "strings the bytecode refers to, read without unmarshalling it."
    ),
    remediation=_SAFE_LOAD + " Never pass safe_mode=False for files you did not create.",
    references=(_nvd("CVE-2024-3660"),),
)
LAMBDA_OTHER = Rule(
    id="PCL-KRS-002",
    title="Keras Lambda layer with unrecognised code",
    severity=Severity.HIGH,
    cwe=94,
    description=(
        "A Lambda layer is present but its code is not recognisable marshal data (it may be "
        "damaged, encoded differently or built to confuse scanners). Keras would still try to "
        "deserialise it as a Python function."
    ),
    remediation=_SAFE_LOAD,
    references=(_nvd("CVE-2024-3660"),),
    confidence=Confidence.MEDIUM,
)
FUNCTION_REF = Rule(
    id="PCL-KRS-003",
    title="Keras config imports a function from outside Keras",
    severity=Severity.HIGH,
    cwe=470,
    description=(
        'An object of class_name "function" names a module outside Keras, for example '
        '{"module": "os", "config": "system"}. Keras releases before the CVE-2025-1550 fix '
        "import the module and call the function while loading, even in safe mode. Raised to "
        "critical when the module is a known gadget source (os, subprocess, builtins ...)."
    ),
    remediation=_SAFE_LOAD + " Upgrade Keras to 3.9 or later.",
    references=(_nvd("CVE-2025-1550"),),
)
FOREIGN_MODULE = Rule(
    id="PCL-KRS-004",
    title="Keras config imports a class from a module outside Keras",
    severity=Severity.HIGH,
    cwe=470,
    description=(
        "A serialised object names a Python module that is not part of Keras or its official "
        "extensions. Loading imports that module (running its top-level code) and instantiates "
        "the named class with attacker-chosen arguments (critical for modules such as os or "
        "subprocess)."
    ),
    remediation=_SAFE_LOAD,
    references=(_nvd("CVE-2025-1550"),),
)
CUSTOM_OBJECT = Rule(
    id="PCL-KRS-005",
    title="Keras config needs a custom registered object",
    severity=Severity.LOW,
    cwe=829,
    description=(
        'An object is registered under a custom package name ("package>Name"). The file holds '
        "no code for it: loading needs code you install or import yourself, which then runs "
        "with the config's arguments. Review where that code comes from."
    ),
    remediation="Make sure the package that provides this object is one you trust.",
    confidence=Confidence.MEDIUM,
)
GET_FILE = Rule(
    id="PCL-KRS-006",
    title="Keras config calls keras.utils.get_file",
    severity=Severity.HIGH,
    cwe=494,
    description=(
        "The config references keras.utils.get_file, which downloads a file from a URL and "
        "writes it to disk. Used as a gadget during deserialisation it fetches attacker "
        "content while the model loads and bypassed the fix for CVE-2025-1550."
    ),
    remediation=_SAFE_LOAD + " Upgrade Keras to 3.11 or later.",
    references=(_nvd("CVE-2025-8747"),),
)
UNSAFE_DESERIALIZATION = Rule(
    id="PCL-KRS-007",
    title="Keras config turns off safe mode",
    severity=Severity.CRITICAL,
    cwe=693,
    description=(
        "The config references keras.config.enable_unsafe_deserialization. Called during "
        "loading it disables safe_mode for the rest of the load, so Lambda bytecode later in "
        "the same file runs although the caller asked for a safe load."
    ),
    remediation=_SAFE_LOAD + " Upgrade Keras to 3.11.3 or later.",
    references=(_nvd("CVE-2025-9906"),),
)
NON_MODELING = Rule(
    id="PCL-KRS-008",
    title="Keras config references a non-modelling Keras API",
    severity=Severity.HIGH,
    cwe=470,
    description=(
        "The config names a Keras function that loads or saves files or models "
        "(load_model, save_weights, load_img ...). Such functions have no place in a model "
        "config; current Keras refuses them, older releases call them during loading."
    ),
    remediation=_SAFE_LOAD,
    references=(_nvd("CVE-2025-8747"),),
)
TORCH_MODULE = Rule(
    id="PCL-KRS-009",
    title="Keras TorchModuleWrapper embeds a pickled torch module",
    severity=Severity.CRITICAL,
    cwe=502,
    description=(
        "A TorchModuleWrapper layer stores a torch.save archive in base64. Its from_config "
        "calls torch.load with weights_only=False, which unpickles and can run arbitrary code. "
        "pellucid also scans the embedded archive as a member of this file."
    ),
    remediation=_SAFE_LOAD + " Upgrade Keras to 3.11.3 or later.",
    references=(_nvd("CVE-2025-49655"),),
)
TFSM_LAYER = Rule(
    id="PCL-KRS-010",
    title="Keras TFSMLayer loads an external SavedModel",
    severity=Severity.HIGH,
    cwe=829,
    description=(
        "A TFSMLayer makes Keras load the TensorFlow SavedModel at the configured filepath, "
        "even in safe mode. That model lies outside this file and can contain its own "
        "file-system ops or Keras Lambdas."
    ),
    remediation="Do not load the model unless the SavedModel path is one you control and "
    "have scanned.",
    references=(_nvd("CVE-2026-1462"),),
)
KERAS_RULES: tuple[Rule, ...] = (
    LAMBDA_CODE,
    LAMBDA_OTHER,
    FUNCTION_REF,
    FOREIGN_MODULE,
    CUSTOM_OBJECT,
    GET_FILE,
    UNSAFE_DESERIALIZATION,
    NON_MODELING,
    TORCH_MODULE,
    TFSM_LAYER,
)
RULE_BY_KIND: dict[HitKind, Rule] = {
    HitKind.LAMBDA_CODE: LAMBDA_CODE,
    HitKind.LAMBDA: LAMBDA_OTHER,
    HitKind.FUNCTION_REF: FUNCTION_REF,
    HitKind.FOREIGN_MODULE: FOREIGN_MODULE,
    HitKind.CUSTOM_OBJECT: CUSTOM_OBJECT,
    HitKind.GET_FILE: GET_FILE,
    HitKind.UNSAFE_DESERIALIZATION: UNSAFE_DESERIALIZATION,
    HitKind.NON_MODELING: NON_MODELING,
    HitKind.TORCH_MODULE: TORCH_MODULE,
    HitKind.TFSM_LAYER: TFSM_LAYER,
}

_OTHER_FILES = (
    "Loaders that trust the file open what it points to; a crafted model reads local secrets "
    "(/etc/passwd, cloud credentials) into tensors that can later leak through outputs."
)
H5_EXTERNAL_LINK = Rule(
    id="PCL-H5-001",
    title="HDF5 external link to another file",
    severity=Severity.HIGH,
    cwe=73,
    description="An HDF5 link points into another file, which h5py opens when the link is "
    "followed. " + _OTHER_FILES,
    remediation="Do not load the file; model files never need links to other files.",
    references=(_nvd("CVE-2026-1669"),),
)
H5_EXTERNAL_STORAGE = Rule(
    id="PCL-H5-002",
    title="HDF5 dataset stored in an external file",
    severity=Severity.HIGH,
    cwe=73,
    description="A dataset's bytes are declared to live in another file (external storage). "
    "Reading the weights reads that file instead. " + _OTHER_FILES,
    remediation="Do not load the file; upgrade Keras past the CVE-2026-1669 fix.",
    references=(_nvd("CVE-2026-1669"),),
)
H5_VIRTUAL_SOURCE = Rule(
    id="PCL-H5-003",
    title="HDF5 virtual dataset maps another file",
    severity=Severity.HIGH,
    cwe=73,
    description="A virtual dataset takes its values from datasets in other files. " + _OTHER_FILES,
    remediation="Do not load the file; model weights never need virtual datasets.",
    references=(_nvd("CVE-2026-1669"),),
)
H5_SOFT_LINK = Rule(
    id="PCL-H5-004",
    title="HDF5 soft link",
    severity=Severity.LOW,
    cwe=706,
    description="A soft link makes one name stand for another path in the file. Keras never "
    "writes them; they can make a reviewer and the loader see different weights.",
    remediation="Check that the link target is what the name suggests.",
    confidence=Confidence.MEDIUM,
)
H5_USERBLOCK = Rule(
    id="PCL-H5-005",
    title="Bytes before the HDF5 superblock (user block)",
    severity=Severity.MEDIUM,
    cwe=436,
    description="The file starts with a user block that HDF5 skips. Those bytes can hold a "
    "second format (a zip or pickle) that another loader reads, a classic polyglot.",
    remediation="Re-save the weights without a user block, or inspect the leading bytes.",
)
H5_RULES: tuple[Rule, ...] = (
    H5_EXTERNAL_LINK,
    H5_EXTERNAL_STORAGE,
    H5_VIRTUAL_SOURCE,
    H5_SOFT_LINK,
    H5_USERBLOCK,
)
