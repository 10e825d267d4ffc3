"""Card front matter of any shape never breaks the BOM's model card, and stays schema-typed."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pellucid.bom.facts import ModelFacts
from pellucid.bom.modelcard import model_card, performance_metrics
from pellucid.formats.modelcard import ModelCard

JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)
KEYS = st.sampled_from(["model-index", "datasets", "pipeline_tag", "results", "metrics"])


def facts(metadata: dict[str, Any], config: dict[str, Any]) -> ModelFacts:
    card = ModelCard("README.md", metadata, None, "", 1, (), ())
    return ModelFacts("m", "/m", (), (), card, config, {}, "0", "clean")


@settings(max_examples=150, deadline=1000)
@given(
    st.dictionaries(KEYS, JSONISH, max_size=4),
    st.dictionaries(st.sampled_from(["model_type", "architectures"]), JSONISH, max_size=2),
)
def test_any_front_matter_gives_a_typed_model_card(
    metadata: dict[str, Any], config: dict[str, Any]
) -> None:
    model = facts(metadata, config)
    card = model_card(model, [f"dataset:{d}" for d in model.datasets()])
    for kind, value, where in performance_metrics(model):
        assert isinstance(kind, str)
        assert isinstance(value, str)
        assert where is None or isinstance(where, str)
    params = card.get("modelParameters", {})
    for key in ("task", "architectureFamily", "modelArchitecture"):
        assert key not in params or isinstance(params[key], str)


def test_model_index_metric_values_become_strings() -> None:
    metadata = {
        "model-index": [
            {"results": [{"dataset": {"name": "d"}, "metrics": [{"type": "f1", "value": 0.5}]}]}
        ]
    }
    assert performance_metrics(facts(metadata, {})) == [("f1", "0.5", "d")]
