"""What Python names mean to a reviewer: the tables behind the Python source scanner.

Keys are dotted names after alias resolution (``import subprocess as sp; sp.run`` is
``subprocess.run``). A key matches itself and everything below it, component by component,
so ``"subprocess"`` covers ``subprocess.Popen`` but ``"os.system"`` does not cover ``os``.
"""

from __future__ import annotations

import enum
import re


class Family(enum.Enum):
    """A kind of behaviour found in source code; each maps to one rule of the scanner."""

    PROCESS = "process"
    NATIVE = "native"
    NETWORK = "network"
    OBFUSCATED_EXEC = "obfuscated-exec"
    DYNAMIC_EXEC = "dynamic-exec"
    FILE_WRITE = "file-write"
    DESERIALISE = "deserialise"
    CREDENTIALS = "credentials"
    PATCH = "patch"
    DYNAMIC_IMPORT = "dynamic-import"
    OBFUSCATION = "obfuscation"


def _names(family: Family, *names: str) -> dict[str, Family]:
    return dict.fromkeys(names, family)


_OS_EXEC = [f"os.exec{s}" for s in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")]
_OS_SPAWN = [f"os.spawn{s}" for s in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")]

CALLS: dict[str, Family] = {
    **_names(
        Family.PROCESS,
        "subprocess",
        "os.system",
        "os.popen",
        "os.posix_spawn",
        "os.posix_spawnp",
        "os.fork",
        "os.forkpty",
        "os.startfile",
        "pty.spawn",
        "pty.fork",
        "platform.popen",
        "commands",
        "popen2",
        "pexpect",
        "asyncio.create_subprocess_exec",
        "asyncio.create_subprocess_shell",
        *_OS_EXEC,
        *_OS_SPAWN,
    ),
    **_names(
        Family.NATIVE,
        "ctypes.CDLL",
        "ctypes.PyDLL",
        "ctypes.WinDLL",
        "ctypes.OleDLL",
        "ctypes.LibraryLoader",
        "ctypes.cdll",
        "ctypes.pydll",
        "ctypes.windll",
        "ctypes.oledll",
        "ctypes.pythonapi",
        "_ctypes.dlopen",
        "_ctypes.LoadLibrary",
        "torch.utils.cpp_extension.load",
        "torch.utils.cpp_extension.load_inline",
        "torch.ops.load_library",
        "torch.classes.load_library",
        "importlib.machinery.ExtensionFileLoader",
    ),
    **_names(
        Family.NETWORK,
        "socket",
        "ssl.wrap_socket",
        "urllib.request",
        "urllib.urlopen",
        "urllib.urlretrieve",
        "urllib2",
        "urllib3",
        "http.client",
        "http.server",
        "httplib",
        "requests",
        "httpx",
        "aiohttp",
        "ftplib",
        "smtplib",
        "telnetlib",
        "paramiko",
        "poplib",
        "imaplib",
        "nntplib",
        "xmlrpc.client",
        "websocket",
        "websockets",
        "pycurl",
        "asyncio.open_connection",
        "webbrowser",
    ),
    **_names(
        Family.FILE_WRITE,
        "os.remove",
        "os.unlink",
        "os.rmdir",
        "os.removedirs",
        "os.rename",
        "os.renames",
        "os.replace",
        "os.truncate",
        "os.chmod",
        "os.chown",
        "os.lchown",
        "os.link",
        "os.symlink",
        "os.mkfifo",
        "os.mknod",
        "shutil.rmtree",
        "shutil.move",
        "shutil.copy",
        "shutil.copy2",
        "shutil.copyfile",
        "shutil.copytree",
        "shutil.chown",
        "shutil.unpack_archive",
        "shutil.make_archive",
    ),
    **_names(
        Family.DESERIALISE,
        "pickle.load",
        "pickle.loads",
        "pickle.Unpickler",
        "_pickle.load",
        "_pickle.loads",
        "_pickle.Unpickler",
        "cPickle",
        "dill.load",
        "dill.loads",
        "cloudpickle.load",
        "cloudpickle.loads",
        "joblib.load",
        "marshal.load",
        "marshal.loads",
        "shelve.open",
        "pandas.read_pickle",
        "jsonpickle.decode",
        "yaml.unsafe_load",
        "yaml.unsafe_load_all",
        "torch.serialization._load",
    ),
    **_names(
        Family.DYNAMIC_EXEC,
        "exec",
        "eval",
        "compile",
        "execfile",
        "runpy.run_path",
        "runpy.run_module",
        "types.FunctionType",
        "types.CodeType",
        "code.interact",
        "code.InteractiveInterpreter",
        "code.InteractiveConsole",
    ),
}
"""Calls by resolved name. Special cases (open modes, torch.load, yaml.load...) live in code."""

# Methods flagged whatever the receiver is: the names are specific enough to stand alone.
METHODS: dict[str, Family] = {
    **_names(
        Family.FILE_WRITE,
        "write_text",
        "write_bytes",
        "symlink_to",
        "hardlink_to",
        "extractall",
        "rmtree",
    ),
    **_names(Family.NATIVE, "dlopen", "LoadLibrary"),
}

# Calls that execute their first argument as code or data that can run code.
EXECUTORS = frozenset(
    {
        "exec",
        "eval",
        "compile",
        "execfile",
        "types.FunctionType",
        "marshal.loads",
        "pickle.loads",
        "_pickle.loads",
        "dill.loads",
        "cloudpickle.loads",
    }
)
IMPORTERS = frozenset({"__import__", "importlib.import_module", "importlib.__import__"})

# Turning an innocent-looking constant back into code or bytes.
DECODERS = frozenset(
    {
        "base64.b64decode",
        "base64.b32decode",
        "base64.b16decode",
        "base64.b85decode",
        "base64.a85decode",
        "base64.decodebytes",
        "base64.decodestring",
        "base64.urlsafe_b64decode",
        "base64.standard_b64decode",
        "binascii.unhexlify",
        "binascii.a2b_hex",
        "binascii.a2b_base64",
        "binascii.a2b_uu",
        "codecs.decode",
        "zlib.decompress",
        "gzip.decompress",
        "bz2.decompress",
        "lzma.decompress",
        "bytes.fromhex",
        "bytearray.fromhex",
    }
)
DECODER_METHODS = frozenset({"fromhex", "b64decode", "decompress", "unhexlify"})

# Loaders whose safety depends on an argument.
TORCH_LOAD = frozenset({"torch.load", "torch.serialization.load"})
NUMPY_LOAD = frozenset({"numpy.load"})
YAML_LOAD = frozenset({"yaml.load", "yaml.load_all"})
SAFE_YAML_LOADERS = frozenset({"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"})
OPENERS = frozenset(
    {
        "open",
        "io.open",
        "codecs.open",
        "os.fdopen",
        "gzip.open",
        "bz2.open",
        "lzma.open",
        "tarfile.open",
        "zipfile.ZipFile",
    }
)
ENV_GETTERS = frozenset(
    {"os.getenv", "os.environ.get", "os.environ.pop", "os.getenvb", "os.environ.setdefault"}
)
ENV_DUMPS = frozenset({"os.environ.copy", "os.environ.items", "os.environ.values"})

# Modules whose attributes, once replaced, change what unrelated code does.
PATCH_TARGETS = frozenset(
    {
        "builtins",
        "os",
        "sys",
        "subprocess",
        "importlib",
        "io",
        "socket",
        "pickle",
        "marshal",
        "shutil",
        "json",
        "ssl",
        "torch.load",
        "torch.save",
        "torch.hub",
        "safetensors",
    }
)
IMPORT_HOOKS = frozenset({"sys.meta_path", "sys.path_hooks"})
# Redirecting the standard streams is common and changes no loader behaviour.
HARMLESS_PATCHES = frozenset({"sys.stdout", "sys.stderr", "sys.stdin", "sys.argv"})

BUILTINS = frozenset(
    {
        "exec",
        "eval",
        "compile",
        "execfile",
        "__import__",
        "open",
        "getattr",
        "setattr",
        "delattr",
        "chr",
        "vars",
        "globals",
        "dict",
        "map",
        "bytes",
        "bytearray",
    }
)

# Aliases the interpreter itself uses for the same objects.
CANONICAL_PREFIXES = (
    ("builtins.", ""),
    ("__builtin__.", ""),
    ("posix.", "os."),
    ("nt.", "os."),
    ("_io.", "io."),
)

# Whole words between underscores: HF_TOKEN and AWS_SECRET_ACCESS_KEY, not TOKENIZERS_PARALLELISM.
SECRET_ENV = re.compile(
    r"(?:^|_)(?:TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|AUTH)"
    r"(?:$|_)",
    re.IGNORECASE,
)
CREDENTIAL_PATHS = re.compile(
    r"\.ssh(?:/|\\|$)|id_(?:rsa|dsa|ecdsa|ed25519)\b|\.aws[/\\](?:credentials|config)|"
    r"huggingface[/\\](?:stored_)?tokens?\b|\.netrc\b|\.git-credentials|\.kube[/\\]config|"
    r"\.docker[/\\]config\.json|\.pypirc|\.npmrc|/etc/shadow|\.gnupg|Login Data|"
    r"\.config[/\\]gcloud|\.azure[/\\]",
)
ENCODED_TEXT = re.compile(r"[A-Za-z0-9+/_\-]{200,}={0,2}|[0-9a-fA-F]{200,}")
# Source encodings a reader's editor shows faithfully; anything else can hide code.
# (Names as ``codecs.lookup(...).name`` spells them.)
PLAIN_ENCODINGS = frozenset({"utf-8", "utf-8-sig", "ascii", "iso8859-1", "iso8859-15", "cp1252"})


def canonical(name: str) -> str:
    """``builtins.eval`` -> ``eval``, ``posix.system`` -> ``os.system``."""
    for prefix, replacement in CANONICAL_PREFIXES:
        if name.startswith(prefix):
            return replacement + name[len(prefix) :]
    return name


def call_family(name: str) -> Family | None:
    """The family of a call by its resolved dotted name, matching whole components."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        family = CALLS.get(".".join(parts[:end]))
        if family is not None:
            return family
    return None


def module_family(module: str) -> Family | None:
    """The family a whole imported module belongs to (for ``from m import *``)."""
    family = call_family(module)
    return family if family in (Family.PROCESS, Family.NETWORK, Family.NATIVE) else None


def under(name: str, roots: frozenset[str]) -> bool:
    """``name`` is one of ``roots`` or an attribute below one of them."""
    return any(name == root or name.startswith(root + ".") for root in roots)
