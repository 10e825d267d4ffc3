"""Rules for Jinja2 chat templates, shared by the GGUF and Hugging Face scanners.

A chat template travels inside the model (GGUF metadata ``tokenizer.chat_template``,
``tokenizer_config.json``, ``chat_template.jinja``) and is rendered by the loader on every
request. ``template_findings`` turns the issues of ``analyze_template`` into findings; the
template is parsed, never rendered.

A template that does not parse is reported (MEDIUM) *and* makes the artifact incomplete: our
Jinja2 rejecting it does not mean every engine does (llama.cpp's minja, other Jinja2 versions),
so its content was not examined and must not count as clean.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pellucid.budget import Budget
from pellucid.model import Confidence, Evidence, Finding, Rule, Severity

if TYPE_CHECKING:
    from pellucid.formats.jinja_template import TemplateIssue

TEMPLATE_MAX_BYTES = 1 << 20  # real chat templates are under 64 kB; Jinja parses 1 MiB quickly
_SSTI_REFERENCES = (
    "https://nvd.nist.gov/vuln/detail/CVE-2024-34359",
    "https://github.com/advisories/GHSA-56xg-wfcc-g829",
    "https://nvd.nist.gov/vuln/detail/CVE-2026-5760",
    "https://kb.cert.org/vuls/id/915947",
)
_REMEDIATION = (
    "Do not load this model with a loader that renders its chat template, or replace the "
    "template with a reviewed one. Render templates only in jinja2's ImmutableSandboxedEnvironment."
)

TEMPLATE_REACHES_INTERNALS = Rule(
    id="PCL-TPL-001",
    title="Chat template reaches Python internals",
    severity=Severity.CRITICAL,
    cwe=1336,
    description=(
        "The chat template reads a dunder or interpreter-internal attribute (``__globals__``, "
        "``__class__``, ``mro``...), spells such a name in a string, or touches a known "
        "server-side template injection entry point such as ``lipsum`` or ``cycler.__init__``. "
        "Loaders that render templates without a sandbox run whatever these chains reach, "
        "including ``os.popen``, as soon as the model answers its first message."
    ),
    remediation=_REMEDIATION,
    references=_SSTI_REFERENCES,
)
TEMPLATE_COMPUTED_LOOKUP = Rule(
    id="PCL-TPL-002",
    title="Chat template looks up attributes by name or through str.format",
    severity=Severity.HIGH,
    cwe=1336,
    description=(
        "The template calls the ``attr`` filter, looks up an item or attribute whose name is "
        "assembled at render time (concatenation, ``join``, ``format``, ``{% set %}`` "
        "indirection), or formats a string whose fields read attributes of their arguments. "
        "No real chat template needs this; it is how injection payloads hide ``__globals__`` "
        "from token and regex checks."
    ),
    remediation=_REMEDIATION,
    references=(*_SSTI_REFERENCES, "https://jinja.palletsprojects.com/en/stable/sandbox/"),
)
TEMPLATE_LOADS_TEMPLATES = Rule(
    id="PCL-TPL-003",
    title="Chat template includes or imports other templates",
    severity=Severity.HIGH,
    cwe=1336,
    description=(
        "The template uses ``{% include %}``, ``{% import %}``, ``{% from %}`` or "
        "``{% extends %}``. A chat template is a single string with nothing to include; with a "
        "file-system loader these tags read local files into the prompt or pull in templates "
        "the reviewer never saw."
    ),
    remediation=_REMEDIATION,
    references=_SSTI_REFERENCES,
)
TEMPLATE_OUTSIDE_ALLOWLIST = Rule(
    id="PCL-TPL-004",
    title="Chat template calls a function, filter or test chat templates do not use",
    severity=Severity.MEDIUM,
    cwe=1336,
    description=(
        "The template calls a function, method, filter or test outside what the chat templates "
        "of common model families use (string and list methods, ``namespace``, "
        "``raise_exception``, ``strftime_now``, the standard filters). It may be harmless, "
        "but it is where a payload calls ``popen`` or ``eval`` once it has reached them."
    ),
    remediation="Review the template by hand before rendering it.",
    references=_SSTI_REFERENCES,
    confidence=Confidence.MEDIUM,
)
TEMPLATE_SYNTAX_ERROR = Rule(
    id="PCL-TPL-005",
    title="Chat template does not parse",
    severity=Severity.MEDIUM,
    cwe=20,
    description=(
        "Jinja2 rejects the template, so it was not analysed. Other template engines used by "
        "loaders (llama.cpp's minja, other Jinja2 versions) may accept it, which makes a "
        "broken template a way to hide a payload from a scanner; the file is reported "
        "incomplete."
    ),
    remediation="Review the template by hand; fix it or replace it with the model family's own.",
)
TEMPLATE_TOO_LARGE = Rule(
    id="PCL-TPL-006",
    title="Chat template too large or complex to analyse",
    severity=Severity.MEDIUM,
    cwe=400,
    description=(
        "The template is bigger or more deeply nested than pellucid analyses (chat templates "
        "of real models are a few kilobytes). It was not fully examined, and its size alone "
        "can hide a payload or exhaust a loader."
    ),
    remediation="Review the template by hand; real chat templates are small.",
)
TEMPLATE_RULES: tuple[Rule, ...] = (
    TEMPLATE_REACHES_INTERNALS,
    TEMPLATE_COMPUTED_LOOKUP,
    TEMPLATE_LOADS_TEMPLATES,
    TEMPLATE_OUTSIDE_ALLOWLIST,
    TEMPLATE_SYNTAX_ERROR,
    TEMPLATE_TOO_LARGE,
)

_RULE_BY_KIND: dict[str, Rule] = {
    "dunder-attribute": TEMPLATE_REACHES_INTERNALS,
    "dunder-string": TEMPLATE_REACHES_INTERNALS,
    "dangerous-global": TEMPLATE_REACHES_INTERNALS,
    "computed-name": TEMPLATE_COMPUTED_LOOKUP,
    "attr-filter": TEMPLATE_COMPUTED_LOOKUP,
    "format-call": TEMPLATE_COMPUTED_LOOKUP,
    "include": TEMPLATE_LOADS_TEMPLATES,
    "import": TEMPLATE_LOADS_TEMPLATES,
    "unknown-call": TEMPLATE_OUTSIDE_ALLOWLIST,
    "unknown-filter": TEMPLATE_OUTSIDE_ALLOWLIST,
    "unknown-test": TEMPLATE_OUTSIDE_ALLOWLIST,
    "syntax-error": TEMPLATE_SYNTAX_ERROR,
    "too-large": TEMPLATE_TOO_LARGE,
    "too-complex": TEMPLATE_TOO_LARGE,
}
_INCOMPLETE_KINDS = frozenset({"syntax-error", "too-large", "too-complex"})


def template_findings(
    text: str, evidence: Evidence, budget: Budget
) -> tuple[list[Finding], list[str]]:
    """Findings for one chat template, and reasons it was not fully analysed.

    ``evidence`` says where the template is (file, member, byte offset of the value); each
    finding adds the template line and the offending source text.
    """
    limit = min(budget.max_text_bytes, TEMPLATE_MAX_BYTES)
    findings: list[Finding] = []
    incomplete: list[str] = []
    from pellucid.formats.jinja_template import analyze_template  # Jinja2 loads only if needed

    for issue in analyze_template(text, max_bytes=limit):
        findings.append(_finding(issue, evidence))
        if issue.kind in _INCOMPLETE_KINDS:
            incomplete.append(f"chat template at {evidence.location}: {issue.detail}")
    return findings, incomplete


def _finding(issue: TemplateIssue, evidence: Evidence) -> Finding:
    rule = _RULE_BY_KIND.get(issue.kind, TEMPLATE_OUTSIDE_ALLOWLIST)
    where = evidence.at(offset=evidence.offset, line=issue.line, snippet=issue.snippet)
    return rule.finding(where, f"{issue.kind}: {issue.detail}")
