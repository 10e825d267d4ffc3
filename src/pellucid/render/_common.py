"""Ordering and wording shared by every renderer, so all outputs agree."""

from __future__ import annotations

from pellucid.model import AuditReport, Coverage, Finding, Severity, Summary


def _none_last(value: int | None) -> tuple[bool, int]:
    return (value is None, value or 0)


def finding_order(f: Finding) -> tuple[object, ...]:
    """Most severe first, then by place; the rest only breaks ties deterministically."""
    ev = f.evidence
    return (
        -f.severity,
        ev.file,
        ev.member,
        _none_last(ev.line),
        _none_last(ev.offset),
        f.rule_id,
        ev.snippet,
        f.title,
        f.detail,
        f.suppressed_by or "",
    )


def ordered_findings(report: AuditReport) -> list[Finding]:
    return sorted(report.findings, key=finding_order)


def ordered_coverage(report: AuditReport) -> list[Coverage]:
    return sorted(report.coverage, key=lambda c: (c.artifact.path, c.artifact.member))


SEVERITIES_DESC: tuple[Severity, ...] = tuple(sorted(Severity, reverse=True))


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def verdict_sentence(summary: Summary) -> str:
    """One sentence a non-expert can act on."""
    match summary.verdict:
        case "blocked":
            return (
                f"Do not load this model: {plural(summary.blocking, 'blocking finding')} "
                "(high severity or above) could run code or touch files when it is loaded."
            )
        case "incomplete":
            it, them = ("it", "it") if summary.incomplete == 1 else ("they", "them")
            return (
                f"Not a clean result: {plural(summary.incomplete, 'file')} could not be examined "
                f"completely, so {it} may hide something; review {them} before loading."
            )
        case _:
            return "No blocking findings, and every file that a loader reads was examined."


def coverage_line(summary: Summary) -> str:
    """``12 files: 9 examined, 2 skipped, 1 incomplete``."""
    return (
        f"{plural(summary.files, 'file')}: {summary.examined} examined, "
        f"{summary.skipped} skipped, {summary.incomplete} incomplete"
    )


def printable(text: str, keep: str = "") -> str:
    """``text`` safe for a terminal: control and format characters (escape sequences, bidi
    overrides) become ``\\xNN`` / ``\\uNNNN``, except those in ``keep``.

    Reports quote attacker-controlled bytes; an ESC in a snippet must not reach the terminal.
    """
    if text.isprintable():
        return text
    return "".join(
        ch if ch.isprintable() or ch in keep else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )


def shorten(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters, ending in an ellipsis when cut."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: max(limit - 1, 0)] + "…"
