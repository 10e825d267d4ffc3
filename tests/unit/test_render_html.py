"""The HTML report: self-contained, well-formed, escaped, and readable without JavaScript."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from pellucid.model import AuditReport
from pellucid.render import RULES_DOC_URL
from pellucid.render.html import render_html, safe_url
from render_samples import RULES, clean_report, incomplete_report, rich_report

VOID = {"meta", "br", "input", "link", "img", "hr", "wbr", "source", "area", "base", "col"}


class Structure(HTMLParser):
    """Checks nesting and collects what the page would load or link to."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []
        self.text: list[str] = []
        self.classes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            self.attrs.append((tag, name, value or ""))
            if name == "class":
                self.classes.extend((value or "").split())
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Structure:
    parser = Structure()
    parser.feed(html)
    parser.close()
    assert parser.errors == []
    assert parser.stack == []
    return parser


@pytest.mark.parametrize("make", [rich_report, clean_report, incomplete_report])
def test_page_is_well_formed_and_self_contained(make: Callable[[], AuditReport]) -> None:
    html = render_html(make(), RULES)
    assert html.startswith("<!DOCTYPE html>")
    page = parse(html)
    assert not {"link", "img", "iframe", "object", "embed"} & set(page.tags)
    assert [a for a in page.attrs if a[1] == "src"] == []
    assert "url(" not in html
    assert "@import" not in html
    for tag, name, value in page.attrs:
        if name == "href":
            assert tag == "a"
            assert value.startswith(("#", "https://")), value


def test_snippet_script_tag_comes_out_escaped() -> None:
    html = render_html(rich_report(), RULES)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "\x1b" not in html
    # the only script element is our own filter
    assert html.count("<script>") == 1


def test_attribute_injection_in_a_path_is_escaped() -> None:
    report = rich_report()
    hostile = replace(
        report.findings[1],
        evidence=replace(report.findings[1].evidence, file='x" onmouseover="alert(1)'),
    )
    html = render_html(replace(report, findings=(hostile,)), RULES)
    page = parse(html)
    assert not [a for a in page.attrs if a[1].startswith("on")]


def test_only_http_references_become_links() -> None:
    page = parse(render_html(rich_report(), RULES))
    hrefs = [v for _, n, v in page.attrs if n == "href"]
    assert "https://nvd.nist.gov/vuln/detail/CVE-2024-3660" in hrefs
    assert not any("javascript" in h for h in hrefs)
    assert "javascript:alert(2)" in "".join(page.text)
    assert f"{RULES_DOC_URL}#pcl-tst-001" in hrefs
    assert safe_url("HTTPS://example.org/a") == "HTTPS://example.org/a"
    assert safe_url("https://example.org/ a") is None
    assert safe_url("data:text/html,x") is None


@pytest.mark.parametrize(
    ("make", "verdict"),
    [(rich_report, "blocked"), (incomplete_report, "incomplete"), (clean_report, "clean")],
)
def test_verdict_banner(make: Callable[[], AuditReport], verdict: str) -> None:
    page = parse(render_html(make(), RULES))
    assert f"verdict-{verdict}" in page.classes
    assert verdict.capitalize() in page.text


def test_findings_grouped_by_file_worst_first_with_evidence_and_remediation() -> None:
    html = render_html(rich_report(), RULES)
    page = parse(html)
    headings = [
        t
        for t in page.text
        if t in {"model.7z", "weird name #1.pkl", "config.json", "weights/model.safetensors"}
    ]
    assert headings[:4] == [
        "model.7z",
        "weird name #1.pkl",
        "config.json",
        "weights/model.safetensors",
    ]
    assert "posix.system(&#39;echo hi&#39;)" in html
    assert "Do not load the file; convert the weights to safetensors." in page.text
    assert page.classes.count("finding") == 6
    assert "Suppressed findings " in page.text


def test_coverage_table_lists_every_file_and_member_with_reasons() -> None:
    page = parse(render_html(rich_report(), RULES))
    text = page.text
    assert "model.7z!archive/model.pt!archive/data.pkl" in text
    assert "zstandard is not installed; budget" in text
    assert page.classes.count("status-incomplete") >= 2  # the row and its badge
    assert "ab" * 32 in text


def test_sections_render_generically_and_absent_ones_are_named() -> None:
    report = replace(rich_report(), sections={**rich_report().sections, "carbon_cost": {"kg": 3}})
    page = parse(render_html(report, RULES))
    ids = [v for _, n, v in page.attrs if n == "id"]
    assert {"models", "section-carbon_cost"} <= set(ids)
    assert "section-license" not in ids  # whole-model analyses live in the model profile
    assert "Apache-2.0" in page.text
    assert "Carbon cost" in page.text
    assert "Kg" in page.text
    notes = [t for t in page.text if t.startswith("Not part of this audit")]
    assert notes == []  # the BOM and signatures are part of the model profile now


def test_footer_explains_and_names_the_tool() -> None:
    page = parse(render_html(clean_report()))
    assert "How to read this report" in page.text
    generated = " ".join(" ".join(page.text).split())
    assert "Generated by pellucid 0.1.0 at 2025-01-02T03:04:05+00:00 in 0.50 s" in generated
    assert "No findings." in page.text


def test_rule_prose_code_spans_become_code_and_stay_escaped() -> None:
    from pellucid.render.html import inline_code

    assert str(inline_code("reads ``__globals__`` via `a<b>` & <i>")) == (
        "reads <code>__globals__</code> via <code>a&lt;b&gt;</code> &amp; &lt;i&gt;"
    )


def test_model_profile_states_each_analysis_in_one_line() -> None:
    from pellucid.render.profile import model_profiles

    (profile,) = model_profiles(rich_report())
    assert profile.path == "models/demo"
    assert profile.lines["license"] == "apache-2.0; commercial use: yes"
    assert (
        profile.lines["openness"]
        == "MOF Class III (III: 100%, II: 50%, I: 0%); OSAID 1.0: undetermined"
    )
    assert profile.lines["regulation"] == "not assessed"
    assert profile.must == [("keep the NOTICE file", "apache-2.0")]
    page = parse(render_html(rich_report(), RULES))
    assert "keep the NOTICE file" in page.text
