"""The llama.cpp backend: a GGUF file run in process by llama-cpp-python, an optional extra.

Log-likelihood follows the same lm-evaluation-harness rule as the transformers backend (the
split is shared: ``hf.lmeval_pair``), but is computed from the logits, not from llama.cpp's
echoed log-probs, which are read one row late for models whose tokenizer adds no BOS
(reference/behavioral.md section 6). With ``logits_all=True``, row i of ``Llama.scores`` holds
the logits after input token i, i.e. the distribution of token i + 1; each row gets a float64
log-softmax. One sequence is evaluated at a time, so there is no padding and no batch to vary.

Before llama.cpp's own C++ parser sees the file, pellucid's validating GGUF reader reads its
header: a header that reader cannot finish is refused. Generation is plain greedy completion of
the raw prompt (no chat template).
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pellucid.hashing import usable_cores
from pellucid.probes.backends.hf import lmeval_pair
from pellucid.probes.base import GENERATE, LOGLIK, ProbeError, ProbeOptions
from pellucid.probes.data import file_sha256

N_CTX = 2048  # lm-eval's default max_length; scores hold n_ctx x n_vocab float32 values
N_BATCH = 512  # tokens per llama_decode call (llama-cpp-python's default)
SEED = 1234
INSTALL_HINT = (
    "pip install 'pellucid[llamacpp]' (llama-cpp-python builds llama.cpp from source, "
    "about half an hour)"
)
_UNQUANTIZED = frozenset({"F32", "F16", "BF16", "F64"})


def load(target: str | None, options: ProbeOptions) -> LlamaCppBackend:
    """GGUF file ``target`` in llama.cpp, on CPU; ProbeError (one line) when it cannot load."""
    if not target:
        raise ProbeError("the llamacpp backend needs a .gguf file")
    path = Path(target)
    if not path.is_file():
        raise ProbeError(f"GGUF file {path} not found")
    try:
        # by name: an optional extra with no type stubs, absent from most installs
        llama_cpp: Any = importlib.import_module("llama_cpp")  # safe: a fixed name, not input
    except ImportError:
        raise ProbeError(f"the llamacpp backend needs llama-cpp-python: {INSTALL_HINT}") from None
    facts = gguf_facts(path)
    trained = facts.pop("context_length", None)
    chat_template = bool(facts.pop("chat_template", False))
    n_ctx = min(N_CTX, trained) if isinstance(trained, int) and trained > 0 else N_CTX
    threads = usable_cores()
    try:
        model = llama_cpp.Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_batch=N_BATCH,
            logits_all=True,  # every position's logits, not only the last
            n_threads=threads,
            n_threads_batch=threads,
            seed=SEED,
            verbose=False,
        )
    except (ValueError, RuntimeError, OSError) as exc:
        raise ProbeError(f"cannot load {path.name} with llama.cpp: {_first_line(exc)}") from None
    version = str(getattr(llama_cpp, "__version__", "unknown"))
    return LlamaCppBackend(path, model, facts, threads, version, chat_template=chat_template)


def gguf_facts(path: Path) -> dict[str, Any]:
    """Quantization (most common quantized tensor type, as hf_gguf names it), the header's
    ``general.file_type`` and the trained context length, read by pellucid's own validating
    reader; ProbeError when the header is not a complete GGUF header."""
    from pellucid.budget import DEFAULT_BUDGET
    from pellucid.formats.gguf import GGUF_MAGIC, read_gguf
    from pellucid.formats.gguf_types import GGML_TYPES
    from pellucid.source import open_source

    try:
        with open_source(path) as source:
            if source.head(4) != GGUF_MAGIC:
                raise ProbeError(f"{path.name}: not a GGUF file")
            limit = DEFAULT_BUDGET.max_header_bytes
            header = read_gguf(source, max_header_bytes=limit, keep_text=0)
    except OSError as exc:
        raise ProbeError(f"cannot read {path.name}: {_first_line(exc)}") from None
    if not header.complete:
        why = header.problems[0].detail if header.problems else header.budget_hit
        raise ProbeError(f"{path.name}: GGUF header not readable ({why}); not given to llama.cpp")
    names = Counter(
        GGML_TYPES[t.ggml_type].name if t.ggml_type in GGML_TYPES else f"type {t.ggml_type}"
        for t in header.tensors
    )
    quantized = Counter({k: n for k, n in names.items() if k not in _UNQUANTIZED})
    best = (quantized or names).most_common(1)
    file_type = header.kv("general.file_type")
    template = header.kv("tokenizer.chat_template")
    context = next((kv.value for kv in header.kvs if kv.key.endswith(".context_length")), None)
    return {
        "quantization": best[0][0] if best else "unknown",
        "file_type": file_type.value if file_type is not None else None,
        "context_length": context,
        "chat_template": template is not None,
    }


class LlamaCppBackend:
    """A GGUF model in llama.cpp: log-likelihoods (lm-eval's rule) and greedy text."""

    name = "llamacpp"
    caps = frozenset({LOGLIK, GENERATE})
    batch_size = 1  # one sequence per evaluation: the determinism canary has nothing to vary

    def __init__(
        self,
        path: Path,
        model: Any,
        facts: dict[str, Any],
        threads: int,
        version: str,
        *,
        chat_template: bool = False,  # whether the GGUF carries tokenizer.chat_template
    ) -> None:
        self.path = path
        self.model = model
        self.facts = facts
        self.threads = threads
        self.version = version
        self.n_ctx = int(model.n_ctx())
        self._digest: str | None = None
        self.chat_template = chat_template

    @property
    def prefix_token_id(self) -> int:
        """lm-eval's prefix for an empty context: BOS if the model has one, else EOS
        (llama.cpp answers -1 for a token the vocabulary lacks)."""
        for token_id in (self.model.token_bos(), self.model.token_eos()):
            if token_id is not None and int(token_id) >= 0:
                return int(token_id)
        raise ProbeError(f"{self.path.name}: the vocabulary has neither a BOS nor an EOS token")

    def encode(self, text: str) -> list[int]:
        """Token ids with no BOS added and special-token text left as plain text."""
        if not text:
            return []
        return [int(t) for t in self.model.tokenize(text.encode(), add_bos=False, special=False)]

    def encode_pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        """(context tokens, continuation tokens) exactly as lm-eval splits them."""
        return lmeval_pair(self.encode, lambda: self.prefix_token_id, context, continuation)

    def loglikelihood(
        self, requests: Sequence[tuple[str, str]], batch_size: int | None = None
    ) -> list[float]:
        """Sum of log P(continuation | context) per request, in nats (0.0 for an empty
        continuation); ``batch_size`` is accepted and ignored (one sequence at a time)."""
        pairs = [self.encode_pair(c, x) for c, x in requests]
        longest = max((len(cont) for _, cont in pairs), default=0)
        if longest > self.n_ctx:
            raise ProbeError(
                f"{self.path.name}: a continuation of {longest} tokens does not fit the "
                f"{self.n_ctx}-token context"
            )
        return [self._score(ctx, cont) if cont else 0.0 for ctx, cont in pairs]

    def _score(self, context: list[int], continuation: list[int]) -> float:
        import numpy as np

        # the last n_ctx + 1 tokens, less the last: it is predicted, never an input
        inputs = (context + continuation)[-(self.n_ctx + 1) :][:-1]
        self.model.reset()
        self.model.eval(inputs)
        # scores may be preallocated for the whole context: only the rows evaluated count.
        # Row i predicts token i + 1, so the continuation's k tokens are predicted by the
        # last k rows of the input.
        rows = np.asarray(self.model.scores[: len(inputs)], dtype=np.float64)
        rows = rows[len(inputs) - len(continuation) :]
        top = rows.max(axis=-1, keepdims=True)
        logprobs = rows - top - np.log(np.exp(rows - top).sum(axis=-1, keepdims=True))
        picked = logprobs[np.arange(len(continuation)), continuation]
        return float(picked.sum())

    def generate(self, prompts: Sequence[str], max_tokens: int) -> list[str]:
        """Greedy completions of raw prompts (argmax of the logits, up to EOS or
        ``max_tokens``), one at a time."""
        import numpy as np

        eos = int(self.model.token_eos())
        out = []
        for prompt in prompts:
            ids = self.encode(prompt) or [self.prefix_token_id]
            if len(ids) >= self.n_ctx:
                raise ProbeError(
                    f"{self.path.name}: a prompt of {len(ids)} tokens leaves no room in the "
                    f"{self.n_ctx}-token context"
                )
            self.model.reset()
            self.model.eval(ids)
            new: list[int] = []
            while len(new) < max_tokens and len(ids) + len(new) < self.n_ctx:
                token = int(np.argmax(self.model.scores[len(ids) + len(new) - 1]))
                if token == eos:
                    break
                new.append(token)
                self.model.eval([token])
            out.append(bytes(self.model.detokenize(new)).decode("utf-8", "replace"))
        return out

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Not offered: use the embedding backend."""
        raise ProbeError("the llamacpp backend gives no embeddings; use --backend embedding")

    def fingerprint(self) -> dict[str, Any]:
        """The GGUF's digest and quantization, the llama-cpp-python version, threads, context
        and batch sizes (the digest is computed once)."""
        if self._digest is None:
            self._digest = file_sha256(self.path)
        return {
            "backend": self.name,
            "model": self.path.name,
            "files": {self.path.name: self._digest},
            "gguf": {"file": self.path.name, "sha256": self._digest, **self.facts},
            "llama_cpp": self.version,
            "threads": self.threads,
            "n_ctx": self.n_ctx,
            "n_batch": int(getattr(self.model, "n_batch", N_BATCH)),
            "seed": SEED,
            "batch_size": self.batch_size,
            # prompts are raw text: the GGUF's chat template is never rendered (it is code)
            "chat_template": self.chat_template,
            "prompt_format": "raw",
        }


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
