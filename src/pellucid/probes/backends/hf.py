"""The transformers backend: a local model folder, scored with lm-evaluation-harness's rule.

Log-likelihood follows lm-eval's ``HFLM`` (``loglikelihood`` / ``_encode_pair`` /
``_loglikelihood_tokens``): an empty context conditions on one prefix token (BOS, else EOS,
split off the continuation rather than doubled); otherwise the context's trailing spaces move
to the continuation and the continuation's tokens are the tail of the whole string's encoding;
no special tokens are added; inputs are truncated to the last ``max_length + 1`` tokens (a
continuation longer than ``max_length`` is refused, as lm-eval asserts); batches
hold requests sorted by descending length and are right-padded. Two deliberate differences,
both below 1e-5 nat on fp32: the log-softmax is taken in fp32 whatever the weights' dtype, and
sums are float64 (lm-eval sums in the model's dtype).

Only safetensors weights are read (``use_safetensors=True``): a pickled ``pytorch_model.bin`` is
refused, not loaded. A ``.gguf`` TARGET is dequantized to fp32 once and cached (hf_gguf.py); the
fingerprint then names the GGUF's digest and quantization type.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pellucid.hashing import usable_cores
from pellucid.probes.backends.pretrained import (
    load_pretrained,
    offline_transformers,
    require_safetensors,
)
from pellucid.probes.base import GENERATE, LOGLIK, ProbeError, ProbeOptions
from pellucid.probes.data import file_sha256

# The files that decide the numbers: weights, their index, configs and every tokenizer format.
_FINGERPRINTED = (
    "*.safetensors",
    "*.safetensors.index.json",
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "vocab.txt",
    "merges.txt",
    "tokenizer.model",
    "chat_template.jinja",
)
_LMEVAL_DEFAULT_MAX_LENGTH = 2048
_HUGE = 10**20  # tokenizers without a real limit report about 1e30 as model_max_length


def load(target: str | None, options: ProbeOptions) -> TransformersBackend:
    """The model in folder ``target`` (or GGUF file, dequantized and cached), on CPU in fp32;
    ProbeError (one line) when it cannot load."""
    if not target:
        raise ProbeError("the transformers backend needs a model folder or a .gguf file")
    folder = Path(target)
    gguf = folder.suffix.lower() == ".gguf" and not folder.is_dir()
    if not gguf:
        require_safetensors(folder, "model")
    offline_transformers()
    import torch

    threads = usable_cores()
    torch.set_num_threads(threads)
    source = None
    if gguf:
        from pellucid.probes.backends.hf_gguf import dequantized

        folder, source = dequantized(folder)
    tokenizer, model = load_pretrained(folder, "AutoModelForCausalLM", "model")
    backend = TransformersBackend(folder, model, tokenizer, max(1, options.batch_size), threads)
    backend.gguf = source
    return backend


class TransformersBackend:
    """A causal LM from a local folder: log-likelihoods (lm-eval's rule) and greedy text."""

    name = "transformers"
    caps = frozenset({LOGLIK, GENERATE})

    def __init__(
        self, folder: Path, model: Any, tokenizer: Any, batch_size: int, threads: int
    ) -> None:
        self.folder = folder
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.threads = threads
        self.max_length = _max_length(model, tokenizer)
        self._fingerprint: dict[str, Any] | None = None
        self.gguf: dict[str, Any] | None = None  # file, sha256, quantization of a GGUF source

    @property
    def prefix_token_id(self) -> int:
        """lm-eval's prefix for an empty context: BOS if the tokenizer has one, else EOS."""
        for token_id in (self.tokenizer.bos_token_id, self.tokenizer.eos_token_id):
            if token_id is not None:
                return int(token_id)
        raise ProbeError(f"{self.folder}: the tokenizer has neither a BOS nor an EOS token")

    def encode(self, text: str) -> list[int]:
        """Token ids with no special tokens added (lm-eval's default for causal models)."""
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    def encode_pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        """(context tokens, continuation tokens) exactly as lm-eval splits them."""
        return lmeval_pair(self.encode, lambda: self.prefix_token_id, context, continuation)

    def loglikelihood(
        self, requests: Sequence[tuple[str, str]], batch_size: int | None = None
    ) -> list[float]:
        """Sum of log P(continuation | context) per request, in nats (0.0 for an empty
        continuation, which lm-eval cannot score at all)."""
        pairs = [self.encode_pair(c, x) for c, x in requests]
        longest = max((len(cont) for _, cont in pairs), default=0)
        if longest > self.max_length:
            # the window cannot hold it: only its tail would be scored, silently (lm-eval
            # asserts on this case rather than truncate a continuation)
            raise ProbeError(
                f"{self.folder.name}: a continuation of {longest} tokens does not fit the "
                f"model's {self.max_length}-token window"
            )
        scores = [0.0] * len(pairs)
        size = batch_size or self.batch_size
        groups = _shared_contexts(pairs, self.max_length)
        for context, members in groups.items():
            conts = [pairs[i][1] for i in members]
            for i, score in zip(
                members, self._score_shared(list(context), conts, size), strict=True
            ):
                scores[i] = score
        grouped = {i for members in groups.values() for i in members}
        # lm-eval's order: longest first, ties by the tokens themselves
        order = sorted(
            (i for i in range(len(pairs)) if i not in grouped),
            key=lambda i: _length_first(pairs[i]),
        )
        for start in range(0, len(order), size):
            chunk = [i for i in order[start : start + size] if pairs[i][1]]
            for i, score in zip(chunk, self._score([pairs[i] for i in chunk]), strict=True):
                scores[i] = score
        return scores

    def _score_shared(
        self, context: list[int], continuations: Sequence[list[int]], size: int
    ) -> list[float]:
        """Continuations of one context: the context is run once and its key/value cache
        serves every continuation (lm-eval runs context + continuation each time; the scores
        differ by float rounding only, about 1e-5 nat). One forward pass per ``size``
        continuations after the context's."""
        import copy

        import torch

        pad = self.tokenizer.pad_token_id or 0
        scores = []
        with torch.inference_mode():
            out = self.model(torch.tensor([context]), use_cache=True)
            first = torch.log_softmax(out.logits[0, -1].float(), dim=-1)  # the first token's
            for start in range(0, len(continuations), size):
                chunk = continuations[start : start + size]
                rows = [cont[:-1] for cont in chunk]
                width = max(1, max(map(len, rows)))
                cache = copy.deepcopy(out.past_key_values)
                cache.batch_repeat_interleave(len(chunk))
                batch = torch.tensor([row + [pad] * (width - len(row)) for row in rows])
                logits = self.model(batch, past_key_values=cache, use_cache=True).logits
                for row, cont in zip(logits, chunk, strict=True):
                    total = first[cont[0]].double()
                    if len(cont) > 1:
                        picked = torch.log_softmax(row[: len(cont) - 1].float(), dim=-1)
                        target = torch.tensor(cont[1:]).unsqueeze(-1)
                        total = total + picked.gather(-1, target).double().sum()
                    scores.append(float(total))
        return scores

    def _score(self, chunk: Sequence[tuple[list[int], list[int]]]) -> list[float]:
        import torch

        if not chunk:
            return []
        inputs = [(ctx + cont)[-(self.max_length + 1) :][:-1] for ctx, cont in chunk]
        width = max(map(len, inputs))
        pad = self.tokenizer.pad_token_id or 0
        # right padding needs no attention mask in a causal model: no real position attends
        # to a later one, which is what lm-eval relies on too (it passes no mask)
        batch = torch.tensor([row + [pad] * (width - len(row)) for row in inputs])
        with torch.inference_mode():
            # no key/value cache: nothing is generated from this pass
            logits = self.model(batch, use_cache=False).logits
            scores = []
            for row, inp, (_, cont) in zip(logits, inputs, chunk, strict=True):
                # the log-softmax of the scored positions only, not of padding or context:
                # each position's log-softmax is its own, so the numbers do not change
                picked = torch.log_softmax(row[len(inp) - len(cont) : len(inp)].float(), dim=-1)
                target = torch.tensor(cont[-picked.shape[0] :]).unsqueeze(-1)
                scores.append(float(picked.gather(-1, target).double().sum()))
        return scores

    def generate(self, prompts: Sequence[str], max_tokens: int) -> list[str]:
        """Greedy completions of raw prompts, one at a time (no padding to get wrong)."""
        import torch
        from transformers import GenerationConfig

        make_config: Any = GenerationConfig  # untyped constructor

        eos = self.tokenizer.eos_token_id
        config = make_config(
            max_new_tokens=max_tokens,
            do_sample=False,
            eos_token_id=eos,
            pad_token_id=self.tokenizer.pad_token_id if self.tokenizer.pad_token_id else eos,
        )
        out = []
        with torch.inference_mode():
            for prompt in prompts:
                ids = self.encode(prompt) or [self.prefix_token_id]
                tokens = self.model.generate(torch.tensor([ids]), generation_config=config)
                new = tokens[0, len(ids) :].tolist()
                out.append(str(self.tokenizer.decode(new, skip_special_tokens=True)))
        return out

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Not offered: use the embedding backend."""
        raise ProbeError("the transformers backend gives no embeddings; use --backend embedding")

    def fingerprint(self) -> dict[str, Any]:
        """File digests, dtype, library versions, threads and batch size (digests cached)."""
        if self._fingerprint is None:
            import torch
            import transformers

            files = sorted({p for pattern in _FINGERPRINTED for p in self.folder.glob(pattern)})
            self._fingerprint = {
                "backend": self.name,
                "model": self.folder.name,
                "architecture": type(self.model).__name__,
                "files": {p.name: file_sha256(p) for p in files if p.is_file()},
                "dtype": str(self.model.dtype).removeprefix("torch."),
                "torch": torch.__version__,
                "transformers": transformers.__version__,
                "threads": self.threads,
                "max_length": self.max_length,
                # prompts are raw text: a chat template is never rendered (it is model code)
                "chat_template": bool(getattr(self.tokenizer, "chat_template", None)),
                # continuations of a context this long or longer share one pass of it
                "shared_context_tokens": SHARED_CONTEXT,
                "prompt_format": "raw",
            }
            if self.gguf is not None:  # the cache folder is named by digest: name the file
                self._fingerprint["model"] = self.gguf["file"]
                self._fingerprint["gguf"] = dict(self.gguf, dequantized_to="float32")
        return {**self._fingerprint, "batch_size": self.batch_size}


def lmeval_pair(
    encode: Callable[[str], list[int]], prefix: Callable[[], int], context: str, continuation: str
) -> tuple[list[int], list[int]]:
    """(context tokens, continuation tokens) as lm-eval's ``_encode_pair`` splits them, for any
    tokenizer: ``encode`` adds no special tokens, ``prefix`` gives BOS (else EOS) and is asked
    only for an empty context. Shared by the transformers and llama.cpp backends."""
    if context == "":
        tokens = encode(continuation)
        first = prefix()
        if tokens and tokens[0] == first:
            return tokens[:1], tokens[1:]
        return [first], tokens
    spaces = len(context) - len(context.rstrip())
    if spaces:
        context, continuation = context[:-spaces], context[-spaces:] + continuation
    whole = encode(context + continuation)
    context_tokens = encode(context)
    return context_tokens, whole[len(context_tokens) :]


SHARED_CONTEXT = 8  # context tokens from which its continuations share one pass of it


def _shared_contexts(
    pairs: Sequence[tuple[list[int], list[int]]], max_length: int
) -> dict[tuple[int, ...], list[int]]:
    """Context -> indices of the requests that continue it, for contexts of SHARED_CONTEXT
    tokens or more continued at least twice, where nothing is truncated (multiple-choice
    suites: BBQ's 3 or 12 answers, the two candidates of the coreference suites)."""
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, (context, cont) in enumerate(pairs):
        if len(context) >= SHARED_CONTEXT and cont and len(context) + len(cont) - 1 <= max_length:
            groups.setdefault(tuple(context), []).append(i)
    return {context: members for context, members in groups.items() if len(members) > 1}


def _length_first(pair: tuple[list[int], list[int]]) -> tuple[int, tuple[int, ...]]:
    tokens = pair[0] + pair[1]
    return -len(tokens), tuple(tokens)


def _max_length(model: Any, tokenizer: Any) -> int:
    """lm-eval's ``max_length``: the config's context size, else the tokenizer's, else 2048."""
    for attr in ("n_positions", "max_position_embeddings", "n_ctx"):
        value = getattr(model.config, attr, None)
        if isinstance(value, int):
            return value
    limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(limit, int) and limit < _HUGE:
        return limit
    return _LMEVAL_DEFAULT_MAX_LENGTH
