"""The format enum and the entry point: every member renders, and start-up stays light."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from pellucid.model import Artifact, AuditReport, Coverage, CoverageStatus, FileKind
from pellucid.render import OutputFormat, render
from pellucid.render.json import report_from_dict, report_to_dict
from render_samples import RULES, clean_report, rich_report


def test_every_output_format_renders() -> None:
    for fmt in OutputFormat:
        for report in (rich_report(), clean_report()):
            text = render(report, fmt, rules=RULES)
            assert text.endswith("\n"), fmt
            assert len(text) > 50, fmt


def test_importing_render_loads_neither_rich_nor_jinja2() -> None:
    code = (
        "import sys, pellucid.render; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('rich', 'jinja2')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_hostile_text_is_inert_in_every_format() -> None:
    # A snippet that would run script in HTML, clear a terminal, or ping people in a PR comment.
    for fmt in OutputFormat:
        text = render(rich_report(), fmt, rules=RULES)
        assert "\x1b" not in text, fmt
        if fmt in (OutputFormat.HTML, OutputFormat.MARKDOWN):  # both reach an HTML renderer
            assert "<script>alert" not in text, fmt
        if fmt is OutputFormat.HTML:
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_empty_report_renders_in_every_format() -> None:
    empty = AuditReport("0.1.0", "2025-01-01T00:00:00Z", 0.0, (), (), ())
    for fmt in OutputFormat:
        assert render(empty, fmt)


TEXT = st.text(max_size=40)


@settings(max_examples=100, deadline=2000)
@given(snippet=TEXT, path=TEXT.filter(bool), member=st.lists(TEXT, max_size=3), reason=TEXT)
def test_arbitrary_strings_never_break_a_renderer(
    snippet: str, path: str, member: list[str], reason: str
) -> None:
    base = rich_report()
    art = Artifact(path, FileKind.PICKLE, 1, tuple(member), len(member))
    finding = RULES[0].finding(art.evidence(offset=1, snippet=snippet), reason)
    report = replace(
        base,
        findings=(*base.findings, finding),
        coverage=(*base.coverage, Coverage(art, CoverageStatus.INCOMPLETE, (), (reason,))),
    )
    for fmt in OutputFormat:
        text = render(report, fmt, rules=RULES)
        assert "\x1b" not in text
    html = render(report, OutputFormat.HTML)
    if "<" in snippet:
        assert snippet not in html
    data = json.loads(render(report, OutputFormat.JSON))
    assert report_to_dict(report_from_dict(data)) == data
