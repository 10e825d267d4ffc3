"""Static analysis of Jinja2 chat templates: parse to an AST, never render or compile.

Chat templates (``tokenizer.chat_template`` in GGUF metadata and ``tokenizer_config.json``) are
rendered by loaders, some with an unsandboxed ``jinja2.Environment`` (CVE-2024-34359,
CVE-2026-5760). There, attribute lookups reach Python internals
(``cycler.__init__.__globals__.os``). Real chat templates use a small, stable part of Jinja;
``analyze_template`` reports everything outside it as a ``TemplateIssue``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension, loopcontrols
from jinja2.parser import Parser
from jinja2.sandbox import ImmutableSandboxedEnvironment

from pellucid.formats.jinja_walk import MAX_ISSUES, MAX_NODES, TemplateWalker

_RAW_DUNDER = re.compile(r"__[A-Za-z]\w*__")


@dataclass(frozen=True, slots=True)
class TemplateIssue:
    """One construct in a template that real chat templates do not need.

    ``kind`` is one of: dunder-attribute, dunder-string, dangerous-global, computed-name,
    attr-filter, format-call, include, import, unknown-call, unknown-filter, unknown-test,
    syntax-error, too-large, too-complex.
    """

    kind: str
    line: int  # 1-based line in the template
    snippet: str  # the offending source text (short)
    detail: str  # one sentence


class _GenerationTag(Extension):
    """Parses Hugging Face's ``{% generation %}...{% endgeneration %}`` as its plain body."""

    tags = {"generation"}  # noqa: RUF012 - jinja2's Extension API declares a class-level set

    def parse(self, parser: Parser) -> list[nodes.Node]:
        next(parser.stream)
        return parser.parse_statements(("name:endgeneration",), drop_needle=True)


def analyze_template(text: str, *, max_bytes: int = 1 << 20) -> list[TemplateIssue]:
    """Issues found in a chat template, in source order; ``[]`` means nothing unusual."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        return [
            TemplateIssue(
                "too-large",
                1,
                text[:80],
                f"template is {size} bytes, over the analysis limit of {max_bytes}; not analysed",
            )
        ]
    # The syntax loaders accept (transformers adds loopcontrols and the generation tag).
    env = ImmutableSandboxedEnvironment(extensions=[loopcontrols, _GenerationTag])
    try:
        tree = env.parse(text)
    except jinja2.TemplateSyntaxError as exc:
        line = exc.lineno if isinstance(exc.lineno, int) and exc.lineno > 0 else 1
        return [_syntax_issue(text, line, exc.message or "syntax error"), *_raw_scan(text)]
    except RecursionError:
        return [
            TemplateIssue(
                "too-complex",
                1,
                text[:80],
                "template nests too deeply for the parser; not analysed",
            )
        ]
    except Exception as exc:  # hostile text must not escape as an exception
        return [_syntax_issue(text, 1, f"{type(exc).__name__}: {exc}")]
    walker = TemplateWalker(text.splitlines())
    walker.walk(tree)
    issues = sorted(
        (TemplateIssue(*found) for found in walker.issues.values()), key=lambda issue: issue.line
    )
    if walker.exhausted:
        issues.append(
            TemplateIssue(
                "too-complex",
                1,
                text[:80],
                "more than "
                f"{MAX_NODES} syntax nodes or {MAX_ISSUES} issues; "
                "analysis stopped early",
            )
        )
    return issues


def _raw_scan(text: str) -> list[TemplateIssue]:
    """Dunder names in a template that does not parse: another engine may accept it."""
    issues: list[TemplateIssue] = []
    for number, line in enumerate(text.splitlines(), 1):
        for match in _RAW_DUNDER.finditer(line):
            issues.append(
                TemplateIssue(
                    "dunder-string",
                    number,
                    line.strip()[:120],
                    f"names the Python internal {match.group()!r}",
                )
            )
            if len(issues) >= MAX_ISSUES:
                return issues
    return issues


def _syntax_issue(text: str, line: int, message: str) -> TemplateIssue:
    lines = text.splitlines()
    snippet = lines[line - 1].strip()[:120] if 0 < line <= len(lines) else text[:80]
    return TemplateIssue("syntax-error", line, snippet, f"Jinja2 cannot parse it: {message}")
