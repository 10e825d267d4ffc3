"""The terminal outputs: the findings table of ``pellucid scan`` and the summary of ``audit``.

Every string from a report is attacker-controlled: it reaches rich as ``Text`` (never markup)
after ``printable`` has turned escape sequences into visible ``\\xNN``. With ``color=False``
the output has no ANSI codes and only ASCII box lines, so it reads the same in CI logs.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from pellucid.model import AuditReport, CoverageStatus, Finding, Severity
from pellucid.render._common import (
    SEVERITIES_DESC,
    coverage_line,
    ordered_coverage,
    ordered_findings,
    plural,
    printable,
    shorten,
    verdict_sentence,
)

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

SEVERITY_STYLES: dict[Severity, str] = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
VERDICT_STYLES = {"blocked": "bold red", "incomplete": "bold yellow", "clean": "bold green"}
SNIPPET_LIMIT = 60
TOP_FINDINGS = 5


def render_table(report: AuditReport, *, color: bool = False, width: int = 100) -> str:
    """Findings table, coverage line, incomplete files with reasons, then the verdict."""
    from rich.text import Text

    console, buffer = _console(color, width)
    active = [f for f in ordered_findings(report) if f.suppressed_by is None]
    if active:
        console.print(_findings_table(active, color))
    else:
        console.print(Text("No findings."))
    summary = report.summary
    if summary.suppressed:
        note = f"{plural(summary.suppressed, 'suppressed finding')} not shown (policy or baseline)."
        console.print(Text(note, style="dim"))
    console.print()
    console.print(Text(coverage_line(summary)))
    for line in _incomplete_lines(report):
        console.print(Text(line, style="yellow"), overflow="fold")
    console.print()
    verdict = Text(f"Verdict: {summary.verdict.upper()}", style=VERDICT_STYLES[summary.verdict])
    console.print(verdict + Text(f" - {verdict_sentence(summary)}"))
    # rich pads wrapped lines; trailing blanks would make golden files fragile
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


def _console(color: bool, width: int) -> tuple[Console, io.StringIO]:
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
        emoji=False,
        markup=False,
        legacy_windows=False,
        _environ={},  # COLUMNS, NO_COLOR, TERM ... must not change what tests and goldens see
    )
    return console, buffer


def _findings_table(findings: list[Finding], color: bool) -> RenderableType:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD if color else box.ASCII2, show_lines=False, expand=True)
    table.add_column("Severity", no_wrap=True)
    table.add_column("Rule", no_wrap=True)
    table.add_column("Location", overflow="fold", ratio=3)
    table.add_column("Title", ratio=3)
    table.add_column("Evidence", overflow="fold", ratio=3)
    for f in findings:
        table.add_row(
            Text(f.severity.label.upper(), style=SEVERITY_STYLES[f.severity]),
            Text(f.rule_id),
            Text(printable(f.evidence.location)),
            Text(printable(f.title)),
            Text(printable(shorten(f.evidence.snippet, SNIPPET_LIMIT)), style="dim"),
        )
    return table


def _incomplete_lines(report: AuditReport) -> list[str]:
    lines = []
    for c in ordered_coverage(report):
        if c.status is CoverageStatus.INCOMPLETE:
            reasons = "; ".join(c.reasons) or "no reason recorded"
            lines.append(printable(f"  incomplete: {c.artifact.display}: {reasons}"))
    return lines


def render_summary(report: AuditReport) -> str:
    """The few lines ``pellucid audit`` prints: verdict first, counts, the top findings."""
    s = report.summary
    counts = s.findings_by_severity
    by_severity = ", ".join(
        f"{counts[v.label]} {v.label}" for v in SEVERITIES_DESC if counts[v.label]
    )
    lines = [
        f"{s.verdict.upper()}: {verdict_sentence(s)}",
        f"Coverage: {coverage_line(s)}",
        f"Findings: {by_severity or 'none'}"
        + (f" ({s.suppressed} suppressed)" if s.suppressed else ""),
    ]
    active = [f for f in ordered_findings(report) if f.suppressed_by is None]
    for f in active[:TOP_FINDINGS]:
        where = shorten(f.evidence.location, 50)
        lines.append(
            printable(f"  {f.severity.label.upper():<8} {f.rule_id:<12} {where}  {f.title}")
        )
    if len(active) > TOP_FINDINGS:
        lines.append(f"  ... and {len(active) - TOP_FINDINGS} more")
    lines.extend(_incomplete_lines(report))
    lines.extend(_profile_lines(report))
    return "\n".join(lines) + "\n"


def _profile_lines(report: AuditReport) -> list[str]:
    """One line per whole-model analysis, per model (audit only; scan has none)."""
    from pellucid.render.profile import ANALYSES, model_profiles

    labels = {
        "license": "licence",
        "openness": "openness",
        "regulation": "EU AI Act",
        "lineage": "lineage",
        "resources": "size",
        "signatures": "signature",
    }
    lines = []
    for profile in model_profiles(report):
        lines.append(printable(f"Model {profile.path}:"))
        lines += [printable(f"  {labels[name]:<10} {profile.lines[name]}") for name in ANALYSES]
    return lines
