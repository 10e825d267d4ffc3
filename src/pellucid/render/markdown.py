"""A Markdown summary sized for a pull-request comment (GitHub, GitLab).

Every report string is attacker-controlled and GitHub renders some inline HTML, all Markdown
syntax and @-mentions. Paths and locations therefore go in code spans fenced longer than any
backtick run inside them (nothing is interpreted there); prose is escaped.
"""

from __future__ import annotations

import re

from pellucid.model import AuditReport, CoverageStatus
from pellucid.render import TOOL_NAME
from pellucid.render._common import (
    SEVERITIES_DESC,
    coverage_line,
    ordered_coverage,
    ordered_findings,
    printable,
    shorten,
    verdict_sentence,
)

MAX_FINDINGS = 10
MAX_INCOMPLETE = 10
ICONS = {"blocked": ":no_entry:", "incomplete": ":warning:", "clean": ":white_check_mark:"}
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-|~>])")


def escape(text: str, limit: int = 120) -> str:
    """One line of inert Markdown: HTML entities for ``& < >``, backslashes before syntax."""
    line = printable(shorten(text, limit))
    line = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", line)


def code(text: str, limit: int = 80) -> str:
    """An inline code span that ``text`` cannot break out of; ``|`` escaped for tables."""
    line = printable(shorten(text, limit)).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", line)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {line} {fence}" if longest else f"{fence}{line}{fence}"


def render_markdown(report: AuditReport) -> str:
    """Verdict, counts, the top findings and the incomplete files, in a few dozen lines."""
    s = report.summary
    counts = s.findings_by_severity
    lines = [
        f"### {ICONS[s.verdict]} {TOOL_NAME}: {s.verdict}",
        "",
        verdict_sentence(s),
        "",
        "| " + " | ".join(v.label for v in SEVERITIES_DESC) + " | suppressed |",
        "|" + "---:|" * (len(SEVERITIES_DESC) + 1),
        "| " + " | ".join(str(counts[v.label]) for v in SEVERITIES_DESC) + f" | {s.suppressed} |",
        "",
        f"Coverage: {coverage_line(s)}.",
    ]
    active = [f for f in ordered_findings(report) if f.suppressed_by is None]
    if active:
        lines += ["", "| severity | rule | location | finding |", "|---|---|---|---|"]
        lines += [
            f"| {f.severity.label} | {escape(f.rule_id, 40)} | {code(f.evidence.location)} "
            f"| {escape(f.title)} |"
            for f in active[:MAX_FINDINGS]
        ]
        if len(active) > MAX_FINDINGS:
            lines.append(f"\n…and {len(active) - MAX_FINDINGS} more in the full report.")
    incomplete = [c for c in ordered_coverage(report) if c.status is CoverageStatus.INCOMPLETE]
    if incomplete:
        lines += ["", "Not examined completely:", ""]
        lines += [
            f"- {code(c.artifact.display)}: {escape('; '.join(c.reasons) or 'no reason')}"
            for c in incomplete[:MAX_INCOMPLETE]
        ]
        if len(incomplete) > MAX_INCOMPLETE:
            lines.append(f"- …and {len(incomplete) - MAX_INCOMPLETE} more")
    lines += ["", f"<sub>{TOOL_NAME} {escape(report.tool_version, 40)}</sub>"]
    return "\n".join(lines) + "\n"
