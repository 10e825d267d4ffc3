"""Arbitrary text never escapes the template analyser as an exception, in bounded time."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chat_template_samples import BENIGN
from pellucid.formats.jinja_template import analyze_template

SETTINGS = settings(max_examples=200, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
TOKENS = st.sampled_from([
    "{{", "}}", "{%", "%}", "{#", "#}", " set ", " for ", " in ", " if ", " endif ", " endfor ",
    " macro ", " endmacro ", " call ", " endcall ", " filter ", " endfilter ", " include ",
    " import ", " from ", " raw ", " endraw ", " generation ", " endgeneration ", "x", "y",
    "'__'", "'class'", "~", "+", "*", "%", "|", "attr", "join", "format", "(", ")", "[", "]",
    ".", ",", "=", "'{0.a}'", "2", "cycler", "namespace", "-", "\n", "is", "not", "'s'",
])  # fmt: skip


@SETTINGS
@given(st.text(max_size=400))
def test_random_text_never_raises(text: str) -> None:
    assert isinstance(analyze_template(text), list)


@SETTINGS
@given(st.lists(TOKENS, max_size=80).map("".join))
def test_jinja_token_soup_never_raises(text: str) -> None:
    for issue in analyze_template(text):
        assert issue.line >= 1
        assert len(issue.snippet) <= 160


@SETTINGS
@given(st.sampled_from(sorted(BENIGN)), st.integers(0, 4000), st.text(max_size=20))
def test_spliced_benign_templates_never_raise(name: str, at: int, insert: str) -> None:
    text = BENIGN[name]
    analyze_template(text[:at] + insert + text[at:])
