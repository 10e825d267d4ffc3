"""What pellucid knows about pickle globals: an allowlist of data constructors and a gadget list.

The pickle scanner decides allowlist-first: a global that ``allowed`` does not name is suspect
whatever the denylist says. ``known_gadget`` only labels a finding with a reason and the
advisories behind it. ``is_module_alias`` spots dotted names that walk through a module-valued
attribute (``torch._utils`` + ``os.system``), which an exact-pair allowlist would otherwise
misread as an attribute of the allowed module.

Every lookup is a handful of dict/set hits: these run for every global of every pickle. The
JSON files behind them are read once, on first use. Nothing is ever imported to answer.
"""

from __future__ import annotations

from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from dataclasses import dataclass
from functools import cache
from typing import Any

from pellucid.data import load_json

# Hostile qualnames can be megabytes of dots; names past this many components only repeat
# the walk and would make each lookup quadratic.
MAX_COMPONENTS = 32

ALLOWLIST_FILE = "pickle_allowlist.json"
DENYLIST_FILE = "pickle_denylist.json"

# Private or platform modules that are the same code as a public one, and re-homed packages.
# Keys and values are module prefixes: "setuptools._distutils.spawn" is "distutils.spawn".
# Python 2 names come from the standard library's own table (what Unpickler maps them to).
_MODULE_ALIASES: dict[str, str] = {
    **IMPORT_MAPPING,
    "_operator": "operator",
    "posix": "os",
    "nt": "os",
    "_io": "io",
    "_pyio": "io",
    "_pickle": "pickle",
    "_functools": "functools",
    "_codecs": "codecs",
    "_socket": "socket",
    "_ctypes": "ctypes",
    "_pydoc_data": "pydoc_data",
    "_sqlite3": "sqlite3",
    "_multiprocessing": "multiprocessing",
    "_asyncio": "asyncio",
    "_collections": "collections",
    "_bz2": "bz2",
    "_lzma": "lzma",
    "_signal": "signal",
    "_sre": "re",
    "_pathlib": "pathlib",
    "pathlib._local": "pathlib",
    "pathlib._abc": "pathlib",
    "setuptools._distutils": "distutils",
    "numpy.distutils": "distutils",
    "pip._internal": "pip",
    "_pip": "pip",
    "exceptions": "builtins",
    "cloudpickle.cloudpickle_fast": "cloudpickle.cloudpickle",
}

# Names that, as a non-final component of a dotted qualname, are module objects in the source
# of the module they are looked up in (``import os``, ``import os as _os``, ``import numpy as np``).
# Shapes, not imports: a module attribute of one of these names is a module in practice.
_MODULE_VALUED_NAMES: frozenset[str] = frozenset(
    {
        "os", "sys", "subprocess", "builtins", "__builtin__", "io", "importlib", "pickle",
        "marshal", "socket", "shutil", "ctypes", "types", "functools", "operator", "runpy",
        "code", "codecs", "tempfile", "pathlib", "warnings", "inspect", "re", "json", "logging",
        "threading", "multiprocessing", "signal", "platform", "collections", "itertools",
        "weakref", "copyreg", "copy", "math", "random", "struct", "time", "datetime", "typing",
        "abc", "posix", "nt", "pty", "pdb", "bdb", "glob", "zipfile", "tarfile", "urllib",
        "http", "webbrowser", "pydoc", "pkgutil", "site", "sysconfig", "errno", "stat",
        "textwrap", "string", "traceback", "linecache", "tokenize", "ast", "dis", "gc",
        "contextlib", "dataclasses", "enum", "numbers", "hashlib", "base64", "zlib", "gzip",
        "bz2", "lzma", "asyncio", "concurrent", "queue", "select", "selectors", "mmap",
        "tracemalloc", "resource", "fcntl", "termios", "tty", "pwd", "grp", "uuid", "secrets",
        "np", "numpy", "torch", "pd", "pandas", "tf", "jax", "jnp", "scipy", "sp", "sklearn",
        "joblib", "cloudpickle", "dill", "yaml", "requests", "setuptools", "pip", "distutils",
        "__builtins__", "__loader__", "__spec__", "_bootstrap", "_bootstrap_external",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Gadget:
    """A callable or class known to do something dangerous when a pickle reaches it."""

    module: str
    qualname: str  # "*" means the whole module (and its submodules)
    reason: str  # one line: what it does on load
    references: tuple[str, ...]  # GHSA / CVE / paper URLs


@dataclass(frozen=True, slots=True)
class _Knowledge:
    allowed: dict[tuple[str, str], str]
    exact: dict[tuple[str, str], Gadget]
    wildcard: dict[str, Gadget]
    modules: frozenset[str]  # every module named by either list (for submodule shapes)


# TorchScript archives are unpickled by torch.jit's C++ unpickler, which resolves only the
# archive's own compiled classes (module ``__torch__``) and these list builders; Python's
# unpickler cannot import ``__torch__`` at all, so neither can reach Python code.
_TORCHSCRIPT_BUILDERS = frozenset(
    {
        "build_intlist",
        "build_doublelist",
        "build_boollist",
        "build_tensorlist",
        "build_tensor_from_id",
        "restore_type_tag",
    }
)


def allowed(module: str, qualname: str) -> str | None:
    """The framework label (``"torch"``, ``"numpy"`` ...) that allows this exact pair, else None."""
    if module == "__torch__" or module.startswith("__torch__."):
        return "torchscript"
    if module == "torch.jit._pickle" and qualname in _TORCHSCRIPT_BUILDERS:
        return "torchscript"
    return _knowledge().allowed.get((module, qualname))


def known_gadget(module: str, qualname: str) -> Gadget | None:
    """The gadget this global is or reaches by name, else None.

    Matches the exact pair, a whole-module entry for the module or any parent package, the
    public name of a private or platform alias, a qualname that starts with a listed name
    (``Bdb.run`` under ``bdb`` when ``Bdb`` is listed), and a dotted qualname that walks into
    another module (``torch._utils`` + ``os.system`` is ``os.system``).
    """
    know = _knowledge()
    qualname = _clip(qualname)
    # Python 2 names the Unpickler rewrites, e.g. __builtin__.reduce is functools.reduce.
    module, qualname = NAME_MAPPING.get((module, qualname), (module, qualname))
    for mod in _module_spellings(module):
        found = _lookup(know, mod, qualname)
        if found is not None:
            return found
    head, dot, rest = qualname.partition(".")
    if dot and rest and _names_module(know, module, head):
        return known_gadget(_target_module(module, head), rest)
    return None


def is_module_alias(module: str, qualname: str) -> bool:
    """True when the dotted qualname passes through an attribute that is a module.

    ``random`` + ``_os.system``, ``torch._utils`` + ``os.system``, ``numpy`` + ``__builtins__.eval``
    and ``torch`` + ``serialization.load`` all do. Decided from name shapes and the module names
    the lists know, never by importing anything.
    """
    parts = _clip(qualname).split(".")
    if len(parts) < 2:
        return False
    know = _knowledge()
    prefix = module
    for part in parts[:-1]:
        if _names_module(know, prefix, part):
            return True
        prefix = f"{prefix}.{part}"
    return False


def _clip(qualname: str) -> str:
    return ".".join(qualname.split(".", MAX_COMPONENTS)[:MAX_COMPONENTS])


def _names_module(know: _Knowledge, module: str, attr: str) -> bool:
    if attr in _MODULE_VALUED_NAMES or f"{module}.{attr}" in know.modules:
        return True
    # "import os as _os" is the usual way to keep a module out of a public namespace.
    return attr.startswith("_") and attr.lstrip("_") in _MODULE_VALUED_NAMES


def _target_module(module: str, attr: str) -> str:
    """The module an attribute names: a submodule when the lists know one, else the bare name."""
    if f"{module}.{attr}" in _knowledge().modules:
        return f"{module}.{attr}"
    if attr in {"__builtins__", "__builtin__"}:
        return "builtins"
    bare = attr if attr in _MODULE_VALUED_NAMES else attr.lstrip("_")
    return {"np": "numpy", "pd": "pandas", "tf": "tensorflow", "jnp": "jax.numpy"}.get(bare, bare)


def _module_spellings(module: str) -> tuple[str, ...]:
    """The module as written and, when a prefix is an alias, as its public name."""
    parts = module.split(".")
    for cut in range(len(parts), 0, -1):
        head = ".".join(parts[:cut])
        public = _MODULE_ALIASES.get(head)
        if public is not None:
            return (module, ".".join([public, *parts[cut:]]))
    return (module,)


def _lookup(know: _Knowledge, module: str, qualname: str) -> Gadget | None:
    parts = qualname.split(".")
    # Shortest qualname prefix first: "Bdb" listed covers "Bdb.run" and "Bdb.run.__call__".
    for cut in range(1, len(parts) + 1):
        found = know.exact.get((module, ".".join(parts[:cut])))
        if found is not None:
            return found
    mod_parts = module.split(".")
    for cut in range(len(mod_parts), 0, -1):
        found = know.wildcard.get(".".join(mod_parts[:cut]))
        if found is not None:
            return found
    return None


@cache
def _knowledge() -> _Knowledge:
    allow: dict[tuple[str, str], str] = {}
    modules: set[str] = set()
    for label, group in load_json(ALLOWLIST_FILE)["frameworks"].items():
        for entry in group["globals"]:
            module, _, qualname = entry.partition(":")
            allow[(module, qualname)] = label
            modules.add(module)
    exact: dict[tuple[str, str], Gadget] = {}
    wildcard: dict[str, Gadget] = {}
    for raw in load_json(DENYLIST_FILE)["gadgets"]:
        gadget = _gadget(raw)
        modules.add(gadget.module)
        if gadget.qualname == "*":
            wildcard.setdefault(gadget.module, gadget)
        else:
            exact.setdefault((gadget.module, gadget.qualname), gadget)
    for module in list(modules):
        parts = module.split(".")
        modules.update(".".join(parts[:cut]) for cut in range(1, len(parts)))
    return _Knowledge(allow, exact, wildcard, frozenset(modules))


def _gadget(raw: dict[str, Any]) -> Gadget:
    return Gadget(
        module=str(raw["module"]),
        qualname=str(raw["qualname"]),
        reason=str(raw["reason"]),
        references=tuple(str(r) for r in raw.get("references", ())),
    )
