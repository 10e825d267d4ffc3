"""Python source shipped with a model: what it would do when ``trust_remote_code`` imports it.

The source is parsed with ``ast`` (never imported, compiled to bytecode or run) and walked with
alias tracking (see ``python_ast``). Findings carry the line number and the source line.
"""

from __future__ import annotations

import ast
import codecs
import io
import re
import tokenize
import warnings
from dataclasses import replace
from typing import ClassVar

from pellucid.model import Artifact, FileKind, Finding, Rule, Severity
from pellucid.scanners.base import ScanContext, ScanResult
from pellucid.scanners.python_ast import Hit, SourceWalk
from pellucid.scanners.python_names import PLAIN_ENCODINGS, Family
from pellucid.source import ByteSource

_REMOTE_CODE = "https://huggingface.co/docs/transformers/en/custom_models"
_MALHUG = "https://arxiv.org/abs/2409.09368"
_JFROG = (
    "https://jfrog.com/blog/data-scientists-targeted-by-malicious-hugging-face-ml-models-"
    "with-silent-backdoor/"
)
_UNREVIEWED = (
    "Read the code before loading the model with trust_remote_code enabled; prefer a "
    "model architecture that ships with the library, or pin a reviewed revision."
)

PROCESS = Rule(
    id="PCL-PY-001",
    title="Code starts a process",
    severity=Severity.HIGH,
    cwe=78,
    description=(
        "Model code calls os.system, subprocess, os.exec*/spawn*, pty or a similar API. Custom "
        "code runs when the model is loaded with trust_remote_code, so the command runs on the "
        "loading machine with the user's rights. Model code has no reason to start programs."
    ),
    remediation=_UNREVIEWED,
    references=(_MALHUG, _JFROG, _REMOTE_CODE),
)
NATIVE = Rule(
    id="PCL-PY-002",
    title="Code loads a native library",
    severity=Severity.HIGH,
    cwe=114,
    description=(
        "Model code loads a shared library through ctypes, cffi, torch.ops.load_library or "
        "compiles one with torch.utils.cpp_extension. Native code runs outside anything a "
        "Python-level review or sandbox can see."
    ),
    remediation=_UNREVIEWED,
    references=(_MALHUG, _REMOTE_CODE),
)
NETWORK = Rule(
    id="PCL-PY-003",
    title="Code opens network connections",
    severity=Severity.HIGH,
    cwe=494,
    description=(
        "Model code uses sockets, HTTP clients, FTP, SMTP, SSH or similar. Code that talks to the "
        "network on load can download a second stage or send data (tokens, files) away; it also "
        "breaks offline and air-gapped use."
    ),
    remediation=_UNREVIEWED,
    references=(_MALHUG, _JFROG),
)
OBFUSCATED_EXEC = Rule(
    id="PCL-PY-004",
    title="Code executes decoded or obfuscated data",
    severity=Severity.HIGH,
    cwe=506,
    description=(
        "exec, eval, compile, marshal.loads or pickle.loads is fed data that is decoded first "
        "(base64, hex, zlib, codecs, reversed strings, chr() arithmetic). Hiding code from the "
        "reader and then running it is the signature of a malicious payload."
    ),
    remediation="Do not load the model; report the repository to its hosting service.",
    references=(_MALHUG, _JFROG),
)
DYNAMIC_EXEC = Rule(
    id="PCL-PY-005",
    title="Code runs dynamically built code",
    severity=Severity.MEDIUM,
    cwe=95,
    description=(
        "Model code calls exec, eval, compile, runpy or builds function objects from code "
        "objects. What runs is decided at run time, so a review of the file does not show it."
    ),
    remediation=_UNREVIEWED,
    references=("https://cwe.mitre.org/data/definitions/95.html",),
)
FILE_WRITE = Rule(
    id="PCL-PY-006",
    title="Code writes, moves or deletes files",
    severity=Severity.MEDIUM,
    cwe=73,
    description=(
        "Model code opens files for writing, changes permissions, or removes, renames, copies "
        "or extracts files. On load this can plant files (shell profiles, cron jobs, packages) or "
        "destroy data; loading a model should only read."
    ),
    remediation=_UNREVIEWED,
    references=(_MALHUG,),
)
DESERIALISE = Rule(
    id="PCL-PY-007",
    title="Code deserialises data unsafely",
    severity=Severity.MEDIUM,
    cwe=502,
    description=(
        "Model code calls pickle/dill/joblib/marshal loaders, torch.load without "
        "weights_only=True, yaml.load without a safe Loader or numpy.load with allow_pickle. "
        "Each of these runs code from the data it reads, so any file the code opens becomes a "
        "code-execution path that scanners of the weights never see."
    ),
    remediation=(
        "Use safetensors, torch's loader with weights_only set to True, "
        "yaml.safe_load, and numpy's loader with allow_pickle set to False."
    ),
    references=(
        "https://nvd.nist.gov/vuln/detail/CVE-2025-32434",
        "https://nvd.nist.gov/vuln/detail/CVE-2024-34997",
        "https://arxiv.org/abs/2508.19774",
    ),
)
CREDENTIALS = Rule(
    id="PCL-PY-008",
    title="Code reads credentials or secrets",
    severity=Severity.MEDIUM,
    cwe=526,
    description=(
        "Model code reads secret-looking environment variables (HF_TOKEN, *_API_KEY, ...), "
        "copies the whole environment, or names credential files (~/.ssh, ~/.aws/credentials, "
        "the Hugging Face token file). Model code needs none of these; reading them on load is "
        "the first half of credential theft."
    ),
    remediation=_UNREVIEWED,
    references=(_MALHUG, _JFROG),
)
PATCH = Rule(
    id="PCL-PY-009",
    title="Code replaces functions of other modules",
    severity=Severity.MEDIUM,
    cwe=913,
    description=(
        "Model code assigns to attributes of builtins, os, sys, subprocess, pickle, torch.load "
        "and similar, calls setattr on imported modules, replaces sys.modules entries or installs "
        "import hooks. Such changes outlive the model and alter what other code in the process "
        "does, e.g. turning a later safe load into an unsafe one."
    ),
    remediation=_UNREVIEWED,
    references=(_MALHUG,),
)
DYNAMIC_IMPORT = Rule(
    id="PCL-PY-010",
    title="Code imports a module chosen at run time",
    severity=Severity.LOW,
    cwe=470,
    description=(
        "__import__ or importlib.import_module is called with a computed name. A review cannot "
        "tell which module is loaded; combined with data from the model files it can import "
        "anything installed."
    ),
    remediation="Import modules by literal name.",
    references=("https://cwe.mitre.org/data/definitions/470.html",),
)
OBFUSCATION = Rule(
    id="PCL-PY-011",
    title="Source hides text from its reader",
    severity=Severity.LOW,
    cwe=506,
    description=(
        "The source carries long base64/hex strings or binary blobs, spells strings with chr() "
        "arithmetic, or declares a source encoding (such as UTF-7) under which Python reads "
        "different code from what an editor shows. Legitimate model code has no need to hide "
        "text."
    ),
    remediation="Decode the hidden text and review it before trusting the code.",
    references=("https://peps.python.org/pep-0263/", _MALHUG),
)
UNPARSEABLE = Rule(
    id="PCL-PY-012",
    title="Python source does not parse",
    severity=Severity.INFO,
    cwe=None,
    description=(
        "The file is Python by name or content but this Python cannot parse it. Python 2 code "
        "cannot run on Python 3 at all; anything else is reported incomplete as well, since a "
        "newer Python may accept syntax this one rejects and the code was not analysed."
    ),
    remediation="Check whether the file is needed; remove it or fix it.",
)

PY_RULES: tuple[Rule, ...] = (
    PROCESS,
    NATIVE,
    NETWORK,
    OBFUSCATED_EXEC,
    DYNAMIC_EXEC,
    FILE_WRITE,
    DESERIALISE,
    CREDENTIALS,
    PATCH,
    DYNAMIC_IMPORT,
    OBFUSCATION,
    UNPARSEABLE,
)
_RULE_OF: dict[Family, Rule] = {
    Family.PROCESS: PROCESS,
    Family.NATIVE: NATIVE,
    Family.NETWORK: NETWORK,
    Family.OBFUSCATED_EXEC: OBFUSCATED_EXEC,
    Family.DYNAMIC_EXEC: DYNAMIC_EXEC,
    Family.FILE_WRITE: FILE_WRITE,
    Family.DESERIALISE: DESERIALISE,
    Family.CREDENTIALS: CREDENTIALS,
    Family.PATCH: PATCH,
    Family.DYNAMIC_IMPORT: DYNAMIC_IMPORT,
    Family.OBFUSCATION: OBFUSCATION,
}
MAX_FINDINGS_PER_RULE = 50  # one bad file should not drown the report
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # Python's line ends, not str.splitlines()'s
_SNIPPET = 200
_PYTHON2 = re.compile(r"Missing parentheses in call to|print statement|exec statement")


class PythonCodeScanner:
    """Finds process, network, file, deserialisation and obfuscation behaviour in source."""

    id: ClassVar[str] = "python"
    rules: ClassVar[tuple[Rule, ...]] = PY_RULES

    def accepts(self, kind: FileKind) -> bool:
        return kind is FileKind.PYTHON

    def scan(self, artifact: Artifact, source: ByteSource, ctx: ScanContext) -> ScanResult:
        limit = ctx.budget.max_text_bytes
        if source.size > limit:
            return ScanResult(
                incomplete=(
                    f"Python source of {source.size} bytes exceeds max_text_bytes ({limit}); "
                    "not parsed",
                )
            )
        data = source.read()
        lines, encoding = _decode(data)
        findings: list[Finding] = []
        if encoding not in PLAIN_ENCODINGS:
            line = _cookie_line(lines)
            findings.append(
                OBFUSCATION.finding(
                    artifact.evidence(line=line, snippet=_snippet(lines, line)),
                    f"source declares encoding {encoding}; Python decodes it before parsing, an "
                    "editor usually does not",
                    severity=Severity.MEDIUM,
                )
            )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # invalid escapes etc. are not our findings
                tree = ast.parse(data, filename=artifact.display)
        except (SyntaxError, ValueError) as exc:
            error_line: int | None = getattr(exc, "lineno", None) or None  # 0: decoding
            message = str(getattr(exc, "msg", exc))
            findings.append(
                UNPARSEABLE.finding(
                    artifact.evidence(line=error_line, snippet=_snippet(lines, error_line)),
                    f"{type(exc).__name__}: {message}",
                )
            )
            if _PYTHON2.search(message):  # no Python 3 runs it; nothing was missed
                return ScanResult(tuple(findings))
            # A newer Python may accept what this one rejects (new syntax), so the file was
            # not examined, rather than harmless.
            return ScanResult(tuple(findings), incomplete=(f"Python source not parsed: {message}",))
        except (RecursionError, MemoryError) as exc:
            return ScanResult(
                tuple(findings),
                incomplete=(f"Python source too deeply nested to analyse ({type(exc).__name__})",),
            )
        hits = SourceWalk(tree).run()
        findings.extend(_findings(artifact, hits, lines))
        return ScanResult(tuple(findings), notes=(f"{len(hits)} behaviours in {len(lines)} lines",))


def _findings(artifact: Artifact, hits: list[Hit], lines: list[str]) -> list[Finding]:
    found: list[Finding] = []
    per_rule: dict[str, int] = {}
    for hit in hits:
        rule = _RULE_OF[hit.family]
        per_rule[rule.id] = per_rule.get(rule.id, 0) + 1
        if per_rule[rule.id] > MAX_FINDINGS_PER_RULE:
            continue
        evidence = artifact.evidence(line=hit.line, snippet=_snippet(lines, hit.line))
        found.append(rule.finding(evidence, hit.detail, severity=hit.severity))
    for rule_id, count in per_rule.items():
        if count > MAX_FINDINGS_PER_RULE:
            last = next(f for f in reversed(found) if f.rule_id == rule_id)
            extra = count - MAX_FINDINGS_PER_RULE
            found[found.index(last)] = replace(
                last, detail=f"{last.detail} (and {extra} more of this rule, not listed)"
            )
    return found


def _decode(data: bytes) -> tuple[list[str], str]:
    """Source lines as Python reads them (PEP 263 cookie honoured) and the codec's name."""
    try:
        declared, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        encoding = codecs.lookup(declared).name
    except (SyntaxError, LookupError):
        encoding = "utf-8"
    try:
        text = data.decode(encoding, errors="replace")
    except (LookupError, UnicodeError):
        text = data.decode("utf-8", errors="replace")
    return _LINE_BREAK.split(text), encoding


def _cookie_line(lines: list[str]) -> int:
    return next((i + 1 for i, line in enumerate(lines[:2]) if "coding" in line), 1)


def _snippet(lines: list[str], line: int | None) -> str:
    if line is None or not 1 <= line <= len(lines):
        return ""
    return lines[line - 1].strip()[:_SNIPPET]
