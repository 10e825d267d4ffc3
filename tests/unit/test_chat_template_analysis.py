"""Chat template analysis: zero issues on family-style templates, one regression per SSTI
technique (rows 79-80 of threats.md), never rendering anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from canary import Canary, fires_in_subprocess
from chat_template_samples import BENIGN, hostile
from pellucid.budget import Budget
from pellucid.formats.jinja_template import TemplateIssue, analyze_template
from pellucid.model import Evidence, Severity
from pellucid.scanners.chat_template import TEMPLATE_RULES, template_findings

EVIDENCE = Evidence("model.gguf", offset=1234)

EXPECTED_RULE = {
    "cycler-globals": "PCL-TPL-001",
    "attr-concat": "PCL-TPL-001",
    "set-indirection": "PCL-TPL-001",
    "format-field": "PCL-TPL-001",
    "percent-format-name": "PCL-TPL-001",
    "attr-variable": "PCL-TPL-002",
    "include-file": "PCL-TPL-003",
    "lipsum-globals": "PCL-TPL-001",
    "request-config-globals": "PCL-TPL-001",
    "namespace-init": "PCL-TPL-001",
    "item-lookup": "PCL-TPL-001",
    "escaped-item": "PCL-TPL-001",
    "join-item": "PCL-TPL-001",
    "map-attribute-path": "PCL-TPL-001",
    "map-attr-filter": "PCL-TPL-001",
    "reversed-name": "PCL-TPL-001",
    "mro-walk": "PCL-TPL-001",
    "self-context": "PCL-TPL-001",
}


def kinds(text: str) -> set[str]:
    return {issue.kind for issue in analyze_template(text)}


def only(text: str, kind: str) -> TemplateIssue:
    found = [issue for issue in analyze_template(text) if issue.kind == kind]
    assert len(found) == 1, analyze_template(text)
    return found[0]


@pytest.mark.parametrize("name", sorted(BENIGN))
def test_family_style_templates_have_no_issues(name: str) -> None:
    assert analyze_template(BENIGN[name]) == []
    assert template_findings(BENIGN[name], EVIDENCE, Budget()) == ([], [])


def test_every_technique_has_an_expectation(canary: Canary) -> None:
    assert set(hostile(canary.shell)) == set(EXPECTED_RULE)


@pytest.mark.parametrize("name", sorted(EXPECTED_RULE))
def test_hostile_template_is_reported(name: str, canary: Canary) -> None:
    findings, incomplete = template_findings(hostile(canary.shell)[name], EVIDENCE, Budget())
    assert EXPECTED_RULE[name] in {f.rule_id for f in findings}
    assert incomplete == []
    assert all(f.evidence.offset == 1234 and f.evidence.line == 1 for f in findings)
    assert max(f.severity for f in findings) >= Severity.HIGH


def test_cycler_globals_ssti_really_runs_when_rendered_unsandboxed(tmp_path: Path) -> None:
    marker = tmp_path / "fired"
    template = hostile(f"touch {marker}")["cycler-globals"]
    code = f"import jinja2\njinja2.Environment().from_string({template!r}).render()"
    assert fires_in_subprocess(code, marker)
    found = {(i.kind, i.detail): i.snippet for i in analyze_template(template)}
    snippet = found["dunder-attribute", "reads the Python internal attribute '__init__'"]
    assert snippet.startswith("{{ cycler.__init__.__globals__.os.popen('touch ")


def test_obfuscated_attr_concat_really_runs_and_is_folded(tmp_path: Path) -> None:
    marker = tmp_path / "fired"
    template = hostile(f"touch {marker}")["attr-concat"]
    code = f"import jinja2\njinja2.Environment().from_string({template!r}).render()"
    assert fires_in_subprocess(code, marker)
    details = {i.detail for i in analyze_template(template) if i.kind == "dunder-attribute"}
    assert "looks up the Python internal '__globals__' by |attr" in details
    assert "looks up the Python internal '__init__' by |attr" in details


def test_set_indirection_builds_the_name_across_statements() -> None:
    text = "{% set a = '__glo' %}\n{% set b = a ~ 'bals__' %}\n{{ joiner|attr(b) }}"
    issues = analyze_template(text)
    assert ("dunder-string", 2) in {(i.kind, i.line) for i in issues}
    lookup = only(text, "dunder-attribute")
    assert (lookup.line, lookup.snippet) == (3, "{{ joiner|attr(b) }}")


def test_percent_and_str_format_name_building_is_folded() -> None:
    assert "dunder-attribute" in kinds("{{ x|attr('%sclass%s'|format('__', '__')) }}")
    assert "dunder-attribute" in kinds("{{ x['{}class{}'.format('__', '__')] }}")
    assert "dunder-attribute" in kinds("{{ x[('_' * 2) + 'class' + '_' * 2] }}")
    assert "dunder-attribute" in kinds("{{ x['XXclassXX'.replace('X', '_')] }}")


def test_format_field_traversal_reads_attributes() -> None:
    issue = only("{{ '{0.__init__.__globals__}'.format(cycler) }}", "dunder-attribute")
    assert "format field" in issue.detail
    assert kinds("{{ '{0.role}'.format(message) }}") == {"format-call"}
    assert kinds("{{ fmt.format(message) }}") == {"format-call"}
    assert analyze_template("{{ '{} says {}'.format(role, text) }}") == []


def test_attr_filter_with_runtime_name_is_computed_lookup() -> None:
    issue = only("{% for n in names %}{{ x|attr(n) }}{% endfor %}", "computed-name")
    assert issue.snippet == "{% for n in names %}{{ x|attr(n) }}{% endfor %}"
    assert kinds("{{ x|attr('content') }}") == {"attr-filter"}
    assert kinds("{% set k = 'a' ~ suffix %}{{ x[k] }}") == {"computed-name"}
    assert analyze_template("{% for k in keys %}{{ x[k] }}{% endfor %}") == []


def test_include_import_extends_and_from() -> None:
    text = "{% include 'a' %}\n{% import 'b' as m %}\n{% from 'c' import d %}\n{% extends 'e' %}"
    assert [(i.kind, i.line) for i in analyze_template(text)] == [
        ("include", 1), ("import", 2), ("import", 3), ("include", 4)]  # fmt: skip


def test_lipsum_and_flask_globals_are_entry_points() -> None:
    assert kinds("{{ lipsum }}") == {"dangerous-global"}
    assert kinds("{{ config }}") == {"dangerous-global"}
    assert analyze_template("{% set config = 1 %}{{ config }}") == []  # shadowed: harmless


def test_namespace_and_cycler_attributes_beyond_public_api() -> None:
    assert kinds("{{ namespace.__init__ }}") == {"dunder-attribute"}
    assert kinds("{{ cycler.next }}") == {"dangerous-global"}
    assert kinds("{% set ns = namespace() %}{% set ns.__class__ = 1 %}") == {"dunder-attribute"}
    assert analyze_template("{% set c = cycler('a', 'b') %}{{ c.next() }}{{ c.current }}") == []


def test_attribute_paths_of_filters_are_checked() -> None:
    assert kinds("{{ xs|selectattr('__class__') }}") == {"dunder-attribute"}
    assert kinds("{{ xs|sort(attribute='a.__dict__') }}") == {"dunder-attribute"}
    assert kinds("{{ xs|map(attribute=name) }}") == {"computed-name"}
    assert kinds("{{ xs|select('nonsense') }}") == {"unknown-test"}


def test_unknown_calls_filters_and_tests_are_medium() -> None:
    text = "{{ x|pprint }}{{ popen('id') }}{{ x.read() }}{{ x is weird }}{{ x()() }}"
    findings, _ = template_findings(text, EVIDENCE, Budget())
    assert {f.rule_id for f in findings} == {"PCL-TPL-004"}
    assert {f.severity for f in findings} == {Severity.MEDIUM}
    assert len(findings) == 6  # x()() is two calls


def test_syntax_error_is_a_finding_and_incomplete_with_raw_dunders() -> None:
    text = "{{ ok }}\n{{ cycler.__init__ }}\n{% if %}"
    findings, incomplete = template_findings(text, EVIDENCE, Budget())
    assert [(f.rule_id, f.evidence.line) for f in findings] == [
        ("PCL-TPL-005", 3), ("PCL-TPL-001", 2)]  # fmt: skip
    assert len(incomplete) == 1
    assert "model.gguf@1234" in incomplete[0]


def test_too_large_and_too_deep_are_incomplete() -> None:
    findings, incomplete = template_findings("x" * 2000, EVIDENCE, Budget(max_text_bytes=1000))
    assert [f.rule_id for f in findings] == ["PCL-TPL-006"]
    assert incomplete
    deep = "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}"
    assert kinds(deep) == {"too-complex"}


def test_constant_folding_is_bounded() -> None:
    # a template may not make the analyser build huge strings
    detail = "looks up an item whose name is computed when the template is rendered"
    text = "{{ x['a' * 1000000000] }}"
    assert analyze_template(text) == [TemplateIssue("computed-name", 1, text, detail)]
    assert kinds("{{ x['%999999999s'|format('a')] }}") == {"computed-name"}
    assert kinds("{{ x['{:999999999}'.format('a')] }}") == {"computed-name"}


def test_generation_tag_and_loop_controls_parse() -> None:
    text = "{% for m in ms %}{% generation %}{{ m }}{% endgeneration %}{% continue %}{% endfor %}"
    assert analyze_template(text) == []


def test_rules_are_documented() -> None:
    assert [r.id for r in TEMPLATE_RULES] == [f"PCL-TPL-00{i}" for i in range(1, 7)]
    assert all(len(r.description) > 60 and r.remediation for r in TEMPLATE_RULES)
