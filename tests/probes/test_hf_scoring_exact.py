"""The transformers backend's scoring shortcuts (no key/value cache, log-softmax of the scored
positions only) leave every figure bit-for-bit what the full padded batch gives."""

from __future__ import annotations

from typing import Any

import pytest
import tiny_model

from pellucid.probes.backends.hf import TransformersBackend, load
from pellucid.probes.base import ProbeOptions

REQUESTS = (
    ("", "The cat sees the bird."),
    ("", "Dog."),
    ("The teacher ", "calls his sister after the old man meets us."),
    ("", "Zebras quietly juggle unfamiliar words!"),
    ("A", " dog"),
    ("", "x"),
)


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> TransformersBackend:
    folder, _ = tiny_model.cached(tmp_path_factory)
    return load(str(folder), ProbeOptions(batch_size=8))


def full_batch_scores(backend: TransformersBackend) -> list[float]:
    """The rule before the shortcuts: one padded batch in the backend's order, log-softmax
    over every position of it (padding included), scored positions gathered afterwards."""
    import torch

    pairs = [backend.encode_pair(c, x) for c, x in REQUESTS]
    inputs = [(ctx + cont)[:-1] for ctx, cont in pairs]
    width = max(map(len, inputs))
    pad = backend.tokenizer.pad_token_id or 0
    batch = torch.tensor([row + [pad] * (width - len(row)) for row in inputs])
    model: Any = backend.model
    with torch.inference_mode():
        logprobs = torch.log_softmax(model(batch).logits.float(), dim=-1)
    out = []
    for row, inp, (_, cont) in zip(logprobs, inputs, pairs, strict=True):
        picked = row[len(inp) - len(cont) : len(inp)]
        out.append(float(picked.gather(-1, torch.tensor(cont).unsqueeze(-1)).double().sum()))
    return out


def test_scored_positions_only_log_softmax_is_bitwise_the_full_batch(
    backend: TransformersBackend,
) -> None:
    # one batch holding all requests, as full_batch_scores builds it (same rows, same padding)
    scores = backend.loglikelihood(list(REQUESTS), batch_size=len(REQUESTS))
    assert scores == full_batch_scores(backend)  # exact: no tolerance
    assert len(set(scores)) == len(REQUESTS)


SHARED = (
    # a context of 8 or more tokens continued several times: scored from one pass of it
    *(("The teacher calls his sister after the old man meets us and the cat", f" {w}")
      for w in ("sees", "sees the bird", "x", "helps our team today")),
    *(("A tall woman finds the keys. Who finds the keys? Answer:", f" {w}")
      for w in ("The tall woman", "Unknown")),
    ("The teacher calls his sister after the old man meets us and the dog", " sees"),  # alone
    ("", "The cat sees the bird."),
    ("", "Dog."),
)  # fmt: skip


def test_shared_context_scores_match_one_pass_per_request(
    backend: TransformersBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pellucid.probes.backends import hf

    calls: list[int] = []
    shared_score = backend._score_shared

    def spy(context: list[int], conts: Any, size: int) -> list[float]:
        calls.append(len(conts))
        return shared_score(context, conts, size)

    monkeypatch.setattr(backend, "_score_shared", spy)
    shared = backend.loglikelihood(list(SHARED), batch_size=3)
    assert sorted(calls) == [2, 4]  # two shared contexts; the rest one pass each
    monkeypatch.setattr(hf, "SHARED_CONTEXT", 10**9)
    one_pass = backend.loglikelihood(list(SHARED), batch_size=3)
    assert sorted(calls) == [2, 4]
    assert max(abs(a - b) for a, b in zip(shared, one_pass, strict=True)) < 1e-4
    assert shared[-3:] == one_pass[-3:]  # not grouped: the very same path


def test_a_context_that_would_be_truncated_is_not_shared(backend: TransformersBackend) -> None:
    from pellucid.probes.backends import hf

    context = " ".join(["the cat sees the bird"] * 40)
    pairs = [backend.encode_pair(context, " and the dog"), backend.encode_pair(context, " x")]
    assert len(pairs[0][0]) + len(pairs[0][1]) - 1 > backend.max_length
    assert hf._shared_contexts(pairs, backend.max_length) == {}
