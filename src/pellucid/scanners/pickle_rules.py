"""The rules of the pickle scanner (PCL-PKL-NNN). docs/rules.md is generated from these."""

from __future__ import annotations

from pellucid.model import Confidence, Rule, Severity

_CWE_502 = "https://cwe.mitre.org/data/definitions/502.html"
_HIDE_AND_SEEK = "https://arxiv.org/abs/2508.19774"
_PICKLE_DOCS = "https://docs.python.org/3/library/pickle.html"

UNKNOWN_GLOBAL = Rule(
    id="PCL-PKL-001",
    title="Pickle imports a global outside the allowlist",
    severity=Severity.HIGH,
    cwe=502,
    description=(
        "Loading the pickle imports a module attribute that is not on pellucid's allowlist of "
        "data constructors for the known ML frameworks, nor on your policy's allowlist. Any "
        "importable callable can run code when a pickle calls it, and new gadgets are found "
        "faster than denylists grow, so unknown names block by default."
    ),
    remediation=(
        "Prefer a weights-only format (safetensors). If the class is your own and trusted, allow "
        'the exact name in your policy file: [pickle] allow = ["module:qualname"].'
    ),
    references=(_CWE_502, _HIDE_AND_SEEK, _PICKLE_DOCS),
)
KNOWN_GADGET = Rule(
    id="PCL-PKL-002",
    title="Pickle reaches a known code-execution gadget",
    severity=Severity.CRITICAL,
    cwe=502,
    description=(
        "The pickle imports a callable that is documented to execute code, spawn processes, "
        "write files or fetch URLs when a pickle calls it (os.system, builtins.exec, "
        "pkgutil.resolve_name, runpy, pip and many less obvious ones). Loading the file runs "
        "the attacker's payload with the privileges of the loading process."
    ),
    remediation=(
        "Do not load this file. Report it to the model host and "
        "obtain weights from a trusted source."
    ),
    references=(_CWE_502, "https://github.com/advisories/GHSA-vvpj-8cmc-gx39", _HIDE_AND_SEEK),
)
MODULE_TRAVERSAL = Rule(
    id="PCL-PKL-003",
    title="Pickle name walks through a module attribute",
    severity=Severity.CRITICAL,
    cwe=502,
    description=(
        "A dotted qualname (protocol 4+) resolves through an attribute that is a module, such as "
        "torch._utils + os.system or random + _os.system. Allowlists of exact (module, name) "
        "pairs see an attribute of a trusted module, but the loader reaches any function of the "
        "imported module, including os.system."
    ),
    remediation=(
        "Do not load this file; no legitimate checkpoint needs to "
        "name a module through another one."
    ),
    references=("https://github.com/advisories/GHSA-5j3x-jp52-966f", _CWE_502),
)
MUTATION = Rule(
    id="PCL-PKL-004",
    title="Pickle writes into an imported class, function or module",
    severity=Severity.HIGH,
    cwe=915,
    description=(
        "BUILD, SETITEM(S), APPEND(S) or ADDITEMS is applied to an object the pickle imported "
        "rather than built: a class, a function, a module or a module-level dict. This rewrites "
        "trusted names for the rest of the process (ShadowPickle overwrites of "
        "collections.OrderedDict, numpy.__builtins__ reached through BUILD state)."
    ),
    remediation=(
        "Do not load this file; ordinary checkpoints only set state on objects they create."
    ),
    references=(
        "https://github.com/protectai/modelscan/issues/85",
        "https://github.com/protectai/modelscan/issues/330",
        "https://arxiv.org/abs/2607.17503",
    ),
)
COMPUTED_GLOBAL = Rule(
    id="PCL-PKL-005",
    title="Pickle imports a name computed at load time",
    severity=Severity.HIGH,
    cwe=502,
    description=(
        "STACK_GLOBAL receives module or attribute names that are not string literals but "
        "results of calls or persistent ids, so the imported name is only known when the file "
        "is loaded. This hides the real import from every static reader."
    ),
    remediation="Do not load this file; serializers always write import names as literals.",
    references=("https://github.com/protectai/modelscan/issues/331", _CWE_502),
)
EXTENSION_CODE = Rule(
    id="PCL-PKL-006",
    title="Pickle uses the copyreg extension registry",
    severity=Severity.HIGH,
    cwe=502,
    description=(
        "EXT1/EXT2/EXT4 fetch an object by an integer code from copyreg's extension registry. "
        "The registry is empty in a standard interpreter, so the file either fails to load or "
        "depends on registrations made by other code in the loading process, which the file "
        "does not show."
    ),
    remediation="Re-serialize the model without extension codes, or do not load it.",
    references=(_PICKLE_DOCS, _CWE_502),
)
MALFORMED = Rule(
    id="PCL-PKL-007",
    title="Pickle stream is malformed",
    severity=Severity.MEDIUM,
    cwe=20,
    description=(
        "A pickle stream breaks before STOP (an invalid opcode, a stack underflow, a missing memo "
        "key, a truncated argument) or its framing (joblib arrays, legacy torch storages) does "
        "not add up. Loaders run every opcode before the break, so a payload placed first still "
        "executes while strict scanners give up (nullifAI)."
    ),
    remediation="Treat the file as tampered with; obtain a clean copy from the publisher.",
    references=(
        "https://www.reversinglabs.com/blog/rl-identifies-malware-ml-model-hosted-on-hugging-face",
        _HIDE_AND_SEEK,
    ),
)
HIDDEN_STREAM = Rule(
    id="PCL-PKL-008",
    title="Pickle data outside the first stream",
    severity=Severity.MEDIUM,
    cwe=20,
    description=(
        "Bytes follow the STOP opcode: more pickle streams, trailing data, or pickle fragments "
        "recovered from bytes that do not parse. pickle.load reads only the first stream, but "
        "loaders that read in a loop, and tools that inspect only the first stream, disagree "
        "about what the file contains."
    ),
    remediation="Remove the extra data, or do not load the file if you did not put it there.",
    references=("https://github.com/trailofbits/fickling", _HIDE_AND_SEEK),
)
NESTED_PICKLE = Rule(
    id="PCL-PKL-009",
    title="Pickle carries another pickle in a literal",
    severity=Severity.MEDIUM,
    cwe=502,
    description=(
        "A bytes or string literal holds a second pickle, raw or wrapped in base64, hex, zlib or "
        "gzip. Handed to pickle.loads at load time it runs like the outer pickle but is invisible "
        "to a scan of the outer opcodes. pellucid scans the inner pickle as a member of this file."
    ),
    remediation=(
        "Inspect the nested pickle's own findings; do not load the file if it is unexpected."
    ),
    references=("https://github.com/protectai/modelscan/issues/267", _CWE_502),
)
SUSPICIOUS_ARGUMENT = Rule(
    id="PCL-PKL-010",
    title="Allowed callable receives code-like text",
    severity=Severity.MEDIUM,
    cwe=94,
    description=(
        "A callable on the allowlist is called with a string that looks like shell or Python "
        "code (os.system, __import__, eval, a shell path). The callable itself is a data "
        "constructor, but code-like arguments suggest a payload staged for another gadget."
    ),
    remediation="Review the decompiled call and the surrounding objects before loading.",
    references=(_CWE_502,),
    confidence=Confidence.LOW,
)

RULES: tuple[Rule, ...] = (
    UNKNOWN_GLOBAL,
    KNOWN_GADGET,
    MODULE_TRAVERSAL,
    MUTATION,
    COMPUTED_GLOBAL,
    EXTENSION_CODE,
    MALFORMED,
    HIDDEN_STREAM,
    NESTED_PICKLE,
    SUSPICIOUS_ARGUMENT,
)
