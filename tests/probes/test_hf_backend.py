"""The transformers backend on a tiny random GPT-2: lm-eval's log-likelihood rule, checked
against an independent forward pass per sentence, batch invariance, the prefix rule, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import tiny_model

from pellucid.probes.backends.hf import TransformersBackend, load
from pellucid.probes.base import GENERATE, LOGLIK, ProbeError, ProbeOptions

MIXED = (
    "The cat sees the bird.",
    "Dog.",
    "My friend helps the doctor and the teacher calls his sister after the old man meets us.",
    "A dog likes",
    "Her brother finds our team.",
    "x",
    "The teacher meets the baker.",
    "Zebras quietly juggle unfamiliar words!",
    "The old man",
)


@pytest.fixture(scope="session")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return tiny_model.cached(tmp_path_factory)


@pytest.fixture(scope="session")
def backend(folders: tuple[Path, Path]) -> TransformersBackend:
    return load(str(folders[0]), ProbeOptions(batch_size=8))


def independent_ll(folder: Path, text: str, prefix: int) -> float:
    """One sentence alone, no batching: prefix + tokens, fp32 log-softmax, float64 sum."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model: Any = AutoModelForCausalLM.from_pretrained(folder)
    model.eval()
    ids = [prefix, *AutoTokenizer.from_pretrained(folder).encode(text, add_special_tokens=False)]
    with torch.no_grad():
        logprobs = torch.log_softmax(model(torch.tensor([ids])).logits[0].float(), dim=-1)
    return sum(float(logprobs[i, ids[i + 1]]) for i in range(len(ids) - 1))


def test_loglik_matches_independent_forward_for_mixed_lengths(
    backend: TransformersBackend, folders: tuple[Path, Path]
) -> None:
    scores = backend.loglikelihood([("", s) for s in MIXED])
    bos = backend.tokenizer.bos_token_id
    expected = [independent_ll(folders[0], s, bos) for s in MIXED]
    assert scores == pytest.approx(expected, abs=1e-4)
    assert len({round(s, 3) for s in scores}) == len(MIXED)  # really different sentences


def test_batch_size_does_not_change_scores(backend: TransformersBackend) -> None:
    requests = [("", s) for s in MIXED] + [("The cat ", "sees the bird."), ("A", " dog")]
    batched = backend.loglikelihood(requests, batch_size=8)
    single = backend.loglikelihood(requests, batch_size=1)
    assert batched == pytest.approx(single, abs=1e-5)


def test_prefix_rule_uses_bos_when_defined(backend: TransformersBackend) -> None:
    bos = backend.tokenizer.bos_token_id
    context, continuation = backend.encode_pair("", "The cat sees the bird.")
    assert context == [bos]
    assert continuation == backend.encode("The cat sees the bird.")


def test_prefix_rule_splits_a_leading_bos_instead_of_doubling(
    backend: TransformersBackend,
) -> None:
    doubled = backend.encode_pair("", tiny_model.BOS + "The cat")
    assert doubled == backend.encode_pair("", "The cat")
    with_bos, plain = backend.loglikelihood([("", tiny_model.BOS + "The cat"), ("", "The cat")])
    assert with_bos == pytest.approx(plain, abs=1e-6)


def test_prefix_rule_falls_back_to_eos_without_bos(folders: tuple[Path, Path]) -> None:
    no_bos = load(str(folders[1]), ProbeOptions())
    eos = no_bos.tokenizer.eos_token_id
    assert no_bos.tokenizer.bos_token_id is None
    assert no_bos.encode_pair("", "A dog likes")[0] == [eos]
    [score] = no_bos.loglikelihood([("", "A dog likes")])
    assert score == pytest.approx(independent_ll(folders[1], "A dog likes", eos), abs=1e-4)


def test_context_trailing_space_moves_to_continuation(backend: TransformersBackend) -> None:
    context, continuation = backend.encode_pair("The cat ", "sees")
    assert context == backend.encode("The cat")
    assert continuation == backend.encode("The cat sees")[len(context) :]
    # a non-empty context gets no prefix token (as lm-eval); the chain rule then holds on it:
    # log P(cat sees.. | The) = log P(cat | The) + log P(sees.. | The cat)
    whole, head, tail, with_bos = backend.loglikelihood(
        [("The ", "cat sees the bird."), ("The", " cat"), ("The cat", " sees the bird."),
         ("", "The cat sees the bird.")]
    )  # fmt: skip
    assert whole == pytest.approx(head + tail, abs=1e-4)
    assert abs(whole - with_bos) > 1e-3  # the first word is not scored without a prefix


def test_generate_is_greedy_and_bounded(backend: TransformersBackend) -> None:
    import torch

    [text] = backend.generate(["The cat"], max_tokens=4)
    ids = backend.encode("The cat")
    with torch.no_grad():
        for _ in range(4):
            ids.append(int(backend.model(torch.tensor([ids])).logits[0, -1].argmax()))
    expected = backend.tokenizer.decode(ids[len(backend.encode("The cat")) :])
    assert text == expected.replace(tiny_model.EOS, "").replace(tiny_model.PAD, "")
    assert backend.generate(["The cat"], max_tokens=4) == [text]


def test_caps_and_fingerprint(backend: TransformersBackend, folders: tuple[Path, Path]) -> None:
    import hashlib

    assert backend.caps == {LOGLIK, GENERATE}
    print_ = backend.fingerprint()
    weights = (folders[0] / "model.safetensors").read_bytes()
    assert print_["files"]["model.safetensors"] == hashlib.sha256(weights).hexdigest()
    assert {"tokenizer.json", "tokenizer_config.json", "config.json"} <= set(print_["files"])
    assert print_["dtype"] == "float32"
    assert print_["batch_size"] == 8
    assert print_["threads"] >= 1
    assert {"torch", "transformers"} <= set(print_)
    assert (print_["chat_template"], print_["prompt_format"]) == (False, "raw")


def test_missing_folder_is_a_probe_error(tmp_path: Path) -> None:
    with pytest.raises(ProbeError, match="not found"):
        load(str(tmp_path / "nowhere"), ProbeOptions())


def test_pickled_weights_only_are_refused(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "pytorch_model.bin").write_bytes(b"\x80\x04N.")
    with pytest.raises(ProbeError, match=r"no \*\.safetensors"):
        load(str(tmp_path), ProbeOptions())


@pytest.mark.parametrize(
    "config",
    [{"model_type": "no-such-architecture"}, {"model_type": "bert", "is_decoder": False}, "{"],
)
def test_unloadable_model_is_a_one_line_probe_error(
    folders: tuple[Path, Path], tmp_path: Path, config: object
) -> None:
    folder = tiny_model.copy(folders[0], tmp_path / "model")
    (folder / "config.json").write_text(config if isinstance(config, str) else json.dumps(config))
    with pytest.raises(ProbeError, match="cannot load") as caught:
        load(str(folder), ProbeOptions())
    assert "\n" not in str(caught.value)


def test_fingerprint_says_when_the_folder_has_a_chat_template(
    folders: tuple[Path, Path], tmp_path: Path
) -> None:
    import shutil

    folder = shutil.copytree(folders[0], tmp_path / "chat")
    (folder / "chat_template.jinja").write_text(
        "{% for m in messages %}{{ m.content }}{% endfor %}"
    )
    fingerprint = load(str(folder), ProbeOptions()).fingerprint()
    assert (fingerprint["chat_template"], fingerprint["prompt_format"]) == (True, "raw")
    assert "chat_template.jinja" in fingerprint["files"]  # hashed, never rendered
