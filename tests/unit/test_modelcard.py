"""Model cards: front matter, sections and evidence lines; broken YAML never stops the read."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pellucid.formats.modelcard import parse_card

CARD = """---
license: llama3.1
base_model: meta-llama/Llama-3.1-8B
tags:
- text-generation
---
# Tiny model

Intro line.

## Training data

Trained on 2 trillion tokens.

```python
# not a heading
```

## License

See LICENSE.
"""


def test_front_matter_and_sections() -> None:
    card = parse_card(CARD)
    assert card.metadata["license"] == "llama3.1"
    assert card.metadata_error is None
    assert [(s.title, s.level, s.line) for s in card.sections] == [
        ("Tiny model", 1, 7),
        ("Training data", 2, 11),
        ("License", 2, 19),
    ]
    assert card.section("training")
    assert card.section("training").text.strip().startswith("Trained on")  # type: ignore[union-attr]
    assert card.find_line(r"trillion tokens") == (13, "Trained on 2 trillion tokens.")
    assert card.metadata_line("base_model") == 3


def test_broken_yaml_keeps_the_body() -> None:
    card = parse_card("---\nlicense: [mit\n---\n# Title\n")
    assert card.metadata == {}
    assert card.metadata_error is not None
    assert "not valid YAML" in card.metadata_error
    assert [s.title for s in card.sections] == ["Title"]


def test_unclosed_front_matter_and_non_mapping() -> None:
    assert parse_card("---\nlicense: mit\n").metadata_error is not None
    assert "not a mapping" in (parse_card("---\n- a\n---\n").metadata_error or "")


def test_yaml_tags_do_not_build_objects() -> None:
    card = parse_card("---\nx: !!python/object/apply:os.system ['echo']\n---\n")
    assert card.metadata == {}
    assert card.metadata_error is not None


@settings(max_examples=200, deadline=1000)
@given(st.text(max_size=3000))
def test_any_text_parses(text: str) -> None:
    parse_card("---\n" + text)
    parse_card(text)
