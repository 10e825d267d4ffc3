"""The terminal table and the audit summary: plain when asked, width-stable, never injectable."""

from __future__ import annotations

import re

import pytest

from pellucid.render.table import render_summary, render_table
from render_samples import clean_report, incomplete_report, rich_report

ANSI = re.compile(r"\x1b\[")


def test_plain_output_has_no_ansi_codes_and_color_output_has() -> None:
    assert not ANSI.search(render_table(rich_report(), color=False))
    assert ANSI.search(render_table(rich_report(), color=True))


@pytest.mark.parametrize("width", [60, 100, 160])
def test_lines_never_exceed_the_width(width: int) -> None:
    text = render_table(rich_report(), width=width)
    assert max(len(line) for line in text.splitlines()) <= width
    assert render_table(rich_report(), width=width) == text


def test_environment_does_not_change_the_output(monkeypatch: pytest.MonkeyPatch) -> None:
    before = render_table(rich_report())
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert render_table(rich_report()) == before


def test_terminal_escape_in_snippet_is_shown_not_sent() -> None:
    text = render_table(rich_report(), width=160)
    assert "\x1b" not in text
    assert "\\x1b[2J" in text


def test_rich_markup_in_findings_is_not_interpreted() -> None:
    from dataclasses import replace

    report = rich_report()
    finding = replace(report.findings[0], title="[bold red]fake[/bold red]")
    text = render_table(replace(report, findings=(finding,)), width=160)
    assert "[bold red]fake[/bold red]" in text


def test_coverage_line_incomplete_reasons_and_verdict() -> None:
    lines = render_table(rich_report(), width=160).splitlines()
    assert "7 files: 5 examined, 1 skipped, 1 incomplete" in lines
    assert "  incomplete: big.zst: zstandard is not installed; budget" in lines
    assert lines[-1].startswith("Verdict: BLOCKED - Do not load this model: 3 blocking findings")
    assert "1 suppressed finding not shown (policy or baseline)." in lines


def test_clean_report_says_no_findings() -> None:
    text = render_table(clean_report())
    assert text.startswith("No findings.")
    assert "Verdict: CLEAN" in text


def test_summary_puts_the_verdict_first() -> None:
    lines = render_summary(rich_report()).splitlines()
    assert lines[0].startswith("BLOCKED: ")
    assert lines[1] == "Coverage: 7 files: 5 examined, 1 skipped, 1 incomplete"
    assert lines[2] == "Findings: 2 critical, 1 high, 1 medium, 1 low (1 suppressed)"
    assert "PCL-TST-001" in lines[3]
    assert render_summary(incomplete_report()).startswith("INCOMPLETE: Not a clean result: 1 file")
